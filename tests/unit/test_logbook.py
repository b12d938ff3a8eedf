"""The local cloud's per-service log files: bounded, rotated without losing what a reader has not read, masked."""

from __future__ import annotations

import shutil

from orchestrator.targets.local.logbook import FileCursor, LambdaLines, LocalFeed, LogWriter, Redactor, log_file


def test_a_log_rotates_past_its_cap_and_keeps_one_older_file(tmp_path):
    path = log_file(tmp_path, "endpoints", "ep")
    writer = LogWriter(path, max_bytes=2000)
    for i in range(200):
        writer.write(f"line {i:03d} " + "x" * 40)
    rotated = path.with_name("ep.log.1")
    assert path.stat().st_size <= 2000 and rotated.stat().st_size <= 2000
    assert not path.with_name("ep.log.2").exists()
    messages = [e["message"] for e in LocalFeed([FileCursor(path, "endpoint")]).poll()]
    assert messages[-1].startswith("line 199 ") and messages == sorted(messages)


def test_a_follower_reads_the_rest_of_a_file_that_rotated_under_it(tmp_path):
    path = log_file(tmp_path, "access", "api")
    writer = LogWriter(path, max_bytes=300)
    feed = LocalFeed([FileCursor(path, "access")])
    writer.write("first")
    assert [e["message"] for e in feed.poll()] == ["first"]
    for i in range(8):  # enough to rotate once, not twice (about 45 bytes a line)
        writer.write(f"after {i}")
    assert path.with_name("api.log.1").exists()
    assert [e["message"] for e in feed.poll()] == [f"after {i}" for i in range(8)]
    assert feed.poll() == []


def test_environment_values_are_masked_and_short_settings_are_not(tmp_path):
    writer = LogWriter(tmp_path / "x.log", Redactor(["s3cr3t-token", "1", "true"]))
    writer.write("using s3cr3t-token now, workers 1, debug true", path="/p?key=s3cr3t-token")
    text = (tmp_path / "x.log").read_text()
    assert "s3cr3t-token" not in text
    assert "using **** now, workers 1, debug true" in text and "/p?key=****" in text


def test_lambda_lines_belong_to_the_invocation_between_start_and_report(tmp_path):
    writer = LogWriter(tmp_path / "f.log")
    lines = LambdaLines(writer)
    for text in [
        "cold start",
        "START RequestId: r-1 Version: $LATEST",
        "hello",
        "END RequestId: r-1",
        "REPORT RequestId: r-1\tDuration: 1 ms",
        "idle",
    ]:
        lines.line(text)
    events = LocalFeed([FileCursor(tmp_path / "f.log", "lambda")]).poll()
    assert [(e["message"].split()[0], e.get("request_id")) for e in events] == [
        ("cold", None),
        ("START", "r-1"),
        ("hello", "r-1"),
        ("END", "r-1"),
        ("REPORT", "r-1"),
        ("idle", None),
    ]


def test_a_write_after_the_folder_was_deleted_is_dropped_not_raised(tmp_path):
    writer = LogWriter(tmp_path / "logs" / "endpoints" / "deploy.log")
    writer.write("serving")
    shutil.rmtree(tmp_path / "logs")  # the state folder went away: the daemon is shutting down
    writer.write("stopping")
    assert not (tmp_path / "logs").exists()  # nothing recreated the folder


def test_two_writers_of_one_log_follow_each_others_rotation_and_a_removed_file(tmp_path):
    path = log_file(tmp_path, "access", "api")  # a redeploy's old and new gateway both write here
    old, new = LogWriter(path, max_bytes=300), LogWriter(path, max_bytes=300)
    old.write("from the old gateway")
    for i in range(6):  # the new writer rotates the file the old one has open
        new.write(f"new {i}")
    assert path.with_name("api.log.1").exists()
    old.write("old, after the rotation")
    assert "old, after the rotation" in path.read_text()  # the current file, where a follower reads on
    path.unlink()
    old.write("after a removal")
    assert "after a removal" in path.read_text()
