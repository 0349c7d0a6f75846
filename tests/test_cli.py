"""The ``avi`` command line: usage, dispatch, and ``avi report`` end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_report import assert_self_contained

from apivideo_insights.cli import main, report_main


def test_usage_without_a_command(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: avi {sandbox,report,demo}")
    assert main(["--help"]) == 0


def test_unknown_command(capsys):
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


def test_report_with_a_local_sandbox(tmp_path, capsys):
    out = tmp_path / "cli.html"
    argv = ["--sandbox-local", "--out", str(out), "--max-videos", "1", "--no-live"]
    code = main(["report", *argv, "--cohort", "none"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "local sandbox" in captured.err
    page = out.read_text("utf-8")
    assert_self_contained(page)
    assert "Live streams" not in page and "Cohorts" not in page


def test_report_argument_error(tmp_path, capsys):
    code = report_main(["--sandbox-local", "--out", str(tmp_path / "x.html"), "--bin-size", "-1"])
    assert code == 2
    assert "bin_size" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_report_against_a_running_sandbox(sandbox, tmp_path, monkeypatch, capsys):
    """The key from the environment, the base URL from the command line; no cache."""
    monkeypatch.setenv("APIVIDEO_API_KEY", sandbox.api_key)
    out = tmp_path / "remote.html"
    first = sandbox.world.videos[0]["videoId"]
    argv = ["--base-url", sandbox.base_url, "--out", str(out), "--video", first, "--no-cache"]
    assert report_main(argv) == 0
    page = out.read_text("utf-8")
    assert sandbox.api_key not in page
    assert f'title="{first}"' in page


def test_report_unknown_video_is_an_argument_error(sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("APIVIDEO_API_KEY", sandbox.api_key)
    argv = ["--base-url", sandbox.base_url, "--out", str(tmp_path / "x.html"), "--video", "viNo"]
    assert report_main([*argv, "--no-cache"]) == 2
    assert "no video with id 'viNo'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_installed_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "apivideo_insights.cli", "report", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "usage: avi report" in done.stdout
