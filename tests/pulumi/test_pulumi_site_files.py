"""What of a website's folder goes to the bucket: the one file rule (files.py) plus the private folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.targets.aws.web.program.site_files import site_files


def tree(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


@pytest.mark.parametrize(
    "relative",
    [
        ".env",
        ".git/config",
        ".orchestrator/state.json",
        "assets/.DS_Store",
        "a/.hidden/b/c.js",
        "__pycache__/x.pyc",
        "js/node_modules/lib.js",
        ".venv/lib/site.py",
        "venv/bin/activate",
    ],
)
def test_dot_files_and_folders_are_never_published(tmp_path, relative):
    site = tree(tmp_path / "web", ["index.html", relative])
    assert [key for key, _ in site_files(site)] == ["index.html"]


@pytest.mark.parametrize(
    "relative", ["index.html", "img/logo.svg", "a.b/c.d.js", "env", "git/x", ".well-known/security.txt"]
)  # ACME and app-association files live in .well-known/
def test_ordinary_files_are_published(tmp_path, relative):
    site = tree(tmp_path / "web", [relative])
    assert site_files(site) == [(relative, site / relative)]


def test_the_state_folder_is_never_published_whatever_its_name(tmp_path):
    site = tree(tmp_path, ["index.html", "runs/state.json", "runs/pulumi/.pulumi/stacks/x.json", "runsheet.html"])
    assert [key for key, _ in site_files(site, [tmp_path / "runs"])] == ["index.html", "runsheet.html"]


def test_a_symlink_into_the_state_folder_is_not_published(tmp_path):
    state = tree(tmp_path / "state", ["state.json", "pulumi/stack.json"])
    site = tree(tmp_path / "web", ["index.html"])
    (site / "leak.json").symlink_to(state / "state.json")
    (site / "stacks").symlink_to(state / "pulumi", target_is_directory=True)  # a folder inside it
    (site / "all").symlink_to(state, target_is_directory=True)
    assert [key for key, _ in site_files(site, [state])] == ["index.html"]


def test_site_files_walks_the_whole_site_in_order(tmp_path):
    site = tree(
        tmp_path / "web",
        [
            "index.html",
            "img/logo.svg",
            ".env",
            ".git/HEAD",
            ".orchestrator/runs.json",
            "css/.cache/x.css",
            "css/a.css",
            "a-b.html",
            "a/x.html",
        ],
    )
    assert site_files(site) == [
        ("a-b.html", site / "a-b.html"),
        ("a/x.html", site / "a" / "x.html"),
        ("css/a.css", site / "css" / "a.css"),
        ("img/logo.svg", site / "img" / "logo.svg"),
        ("index.html", site / "index.html"),
    ]


def test_missing_site_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"website source folder .* does not exist"):
        site_files(tmp_path / "nowhere")
