"""The robustness benchmark's harness at its quick size (its figures live in
benchmarks/results.md; nothing here is timed): every world reports its error and the part of
it where nothing was estimated, and every recording its error with what the events cannot
tell put back."""

from __future__ import annotations

import pytest

from benchmarks import bench_worlds


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    return {r["measure"]: r for r in bench_worlds.run(quick=True)}


def test_every_world_splits_off_what_no_rule_saw(rows):
    for name in bench_worlds.WORLDS:
        error = rows[f"error: {name}"]["value"]
        unseen = rows[f"error where nothing was estimated: {name}"]["value"]
        assert 0 <= unseen <= error, name
    worst = next(r for m, r in rows.items() if m.startswith("error of the worst case"))
    assert worst["value"] > 0


def test_every_recording_is_measured_with_what_it_lacks_put_back(rows):
    if not bench_worlds.BROWSER.exists():
        pytest.skip("no recordings")
    folders = sorted(p.name for p in bench_worlds.BROWSER.iterdir() if (p / "truth.json").exists())
    assert folders
    for folder in folders:
        (row,) = [r for m, r in rows.items() if m.startswith(f"{folder}: error, raw, with")]
        assert 0 <= row["value"] <= 1
        assert "as sent" in row["baseline"]
    pooled = [r for m, r in rows.items() if "retention gap, raw, with" in m]
    assert len(pooled) == len(bench_worlds.POOLED)
