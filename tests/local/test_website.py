"""The local website: S3 website semantics, content types, config file, no path escapes."""

from __future__ import annotations

import http.client
import json

import httpx
import pytest

from .conftest import site_spec


@pytest.fixture(scope="module")
def site(cloud, files):
    client = cloud["client"]
    answer = client.put(
        "site-bucket",
        site_spec(
            files["site"],
            index="index.html",
            error="error.html",
            config_file="config.js",
            config={"apiUrl": "http://127.0.0.1:1/prod"},
        ),
    )
    yield f"http://127.0.0.1:{answer.port}", answer.port
    client.delete("websites", "site-bucket")


def raw_get(port: int, raw_path: str) -> tuple[int, bytes]:
    """GET a path exactly as written: httpx would normalise `..` away before sending."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", raw_path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_root_and_folders_serve_the_index_document(site):
    url, _ = site
    root = httpx.get(f"{url}/")
    assert root.status_code == 200
    assert root.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Predict</title>" in root.text
    assert httpx.get(f"{url}/docs/").text == "<html><body>docs index</body></html>"


def test_a_folder_without_slash_redirects_like_s3(site):
    url, _ = site
    answer = httpx.get(f"{url}/docs", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (302, "/docs/")


def test_missing_keys_get_the_error_document_with_404(site):
    url, _ = site
    answer = httpx.get(f"{url}/nope.html")
    assert (answer.status_code, answer.text) == (404, "<html><body>custom error page</body></html>")


@pytest.mark.parametrize(
    "path, media",
    [
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "application/javascript; charset=utf-8"),
        ("/logo.png", "image/png"),
    ],
)
def test_content_types(site, path, media):
    url, _ = site
    assert httpx.get(f"{url}{path}").headers["content-type"] == media


def test_the_generated_config_file(site):
    url, _ = site
    answer = httpx.get(f"{url}/config.js")
    assert answer.headers["content-type"] == "application/javascript"
    prefix = "window.APP_CONFIG = "
    assert answer.text.startswith(prefix)
    assert json.loads(answer.text[len(prefix) :].rstrip().rstrip(";")) == {"apiUrl": "http://127.0.0.1:1/prod"}


def test_only_get_and_head(site):
    url, _ = site
    assert httpx.post(f"{url}/").status_code == 405
    head = httpx.head(f"{url}/app.js")
    assert (head.status_code, head.content) == (200, b"")


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E%2Foutside%2Fsecret.txt",
        "/docs/..%2f..%2foutside/secret.txt",
        "/docs/%252e%252e/%252e%252e/outside/secret.txt",
        "/..%5c..%5coutside%5csecret.txt",
        "/link/secret.txt",
        "/escape.txt",
        "/%00/secret.txt",
    ],
)
def test_path_escapes_never_leave_the_site(site, raw_path):
    _, port = site
    status, body = raw_get(port, raw_path)
    assert b"TOP SECRET" not in body
    assert status in (400, 404)


@pytest.fixture(scope="module")
def project_site(cloud, tmp_path_factory):
    """A site published from a project folder that also holds the orchestrator's state and secrets."""
    source = tmp_path_factory.mktemp("project-site")
    (source / "index.html").write_text("<html><body>home</body></html>")
    (source / "error.html").write_text("<html><body>custom error page</body></html>")
    (source / ".env").write_text("API_SECRET=TOP SECRET")
    (source / ".orchestrator" / "local").mkdir(parents=True)
    (source / ".orchestrator" / "local" / "control.token").write_text("TOP SECRET token")
    (source / ".git").mkdir()
    (source / ".git" / "config").write_text("TOP SECRET remote")
    (source / ".git" / "index.html").write_text("TOP SECRET index")
    (source / "docs" / ".hidden").mkdir(parents=True)
    (source / "docs" / ".hidden" / "notes.txt").write_text("TOP SECRET notes")
    (source / "docs" / "guide.txt").write_text("a guide")
    (source / ".well-known").mkdir()
    (source / ".well-known" / "security.txt").write_text("Contact: mailto:security@example.com")
    (source / "node_modules" / "lib").mkdir(parents=True)
    (source / "node_modules" / "lib" / "index.js").write_text("TOP SECRET dependency")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.pyc").write_text("TOP SECRET bytecode")
    (source / "docs" / "build.pyc").write_text("TOP SECRET bytecode")
    client = cloud["client"]
    answer = client.put("project-site", site_spec(source))
    yield answer.port
    client.delete("websites", "project-site")


@pytest.mark.parametrize(
    "raw_path",
    [
        "/.env",
        "/%2eenv",
        "/%2Eenv",
        "/.orchestrator/local/control.token",
        "/%2eorchestrator/local/control.token",
        "/%2Eorchestrator%2Flocal%2Fcontrol.token",
        "/.orchestrator/",
        "/.orchestrator",
        "/.git/config",
        "/.git/",
        "/.git",
        "/docs/.hidden/notes.txt",
        "/docs/%2ehidden/notes.txt",
        "/docs//.hidden/notes.txt",
        "/node_modules/lib/index.js",
        "/node_modules/",
        "/__pycache__/app.pyc",
        "/docs/build.pyc",
    ],
)
def test_dot_files_dot_folders_and_tool_caches_are_never_served(project_site, raw_path):
    status, body = raw_get(project_site, raw_path)
    assert (status, body) == (404, b"<html><body>custom error page</body></html>")


def test_a_site_with_dot_folders_still_serves_its_other_files(project_site):
    assert raw_get(project_site, "/docs/guide.txt") == (200, b"a guide")
    assert raw_get(project_site, "/.well-known/security.txt") == (200, b"Contact: mailto:security@example.com")
    assert raw_get(project_site, "/") == (200, b"<html><body>home</body></html>")


def test_the_site_is_a_bucket_of_the_local_s3(cloud, site):
    """What is published is the bucket's objects, and what is put in the bucket is served."""
    from .test_s3 import s3_client

    url, _ = site
    s3 = s3_client(cloud["client"].s3_url())
    published = {item["Key"] for item in s3.list_objects_v2(Bucket="site-bucket")["Contents"]}
    assert {"index.html", "error.html", "config.js"} <= published
    s3.put_object(Bucket="site-bucket", Key="added/later.txt", Body=b"put with boto3", ContentType="text/plain")
    try:
        answer = httpx.get(f"{url}/added/later.txt")
        assert (answer.status_code, answer.content) == (200, b"put with boto3")
    finally:
        s3.delete_object(Bucket="site-bucket", Key="added/later.txt")
    assert httpx.get(f"{url}/added/later.txt").status_code == 404


@pytest.mark.parametrize(
    "raw_path",
    [
        "/" + "a" * 256,  # a segment longer than a file name may be
        "/" + "a" * 256 + "/",  # ... that is a folder: its index document is looked up
        "/docs/" + "b" * 1024 + ".html",
        "/" + "/".join(["c" * 200] * 25),  # longer than PATH_MAX
        "/a%00b.html",  # NUL is in no file name
        "/%00",
        "/docs%00/",
    ],
)
def test_a_key_that_is_no_file_name_is_404_with_the_error_document(site, raw_path):
    """S3 answers any key it does not hold with 404; here such a key is no valid file name either."""
    _, port = site
    status, body = raw_get(port, raw_path)
    assert (status, b"custom error page" in body or b"404" in body) == (404, True)
