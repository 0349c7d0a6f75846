"""Tests of the axes-level plots, on hand-made frames of the contract's shapes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage

import apivideo_insights as avi
from apivideo_insights.plotting import HEATMAP_COLORS, format_seconds


def _heat(seed: int = 0, n: int = 40, n_bins: int = 24, width: float = 5.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = np.zeros((n, n_bins), dtype=np.int32)
    for i in range(n):
        start = 0 if rng.random() > 0.25 else int(rng.integers(1, 4))
        stop = int(rng.integers(start + 1, n_bins + 1))
        values[i, start:stop] = 1
        if rng.random() < 0.3:
            a = int(rng.integers(0, n_bins - 3))
            values[i, a : a + 3] += 1 + int(rng.random() < 0.3)
    index = pd.Index([f"ps{i:03d}" for i in range(n)], name="session_id")
    return pd.DataFrame(values, index=index, columns=np.arange(n_bins) * width)


def _curve(heat: pd.DataFrame) -> pd.DataFrame:
    viewers = (heat > 0).sum().to_numpy()
    views = heat.sum().to_numpy()
    return pd.DataFrame(
        {
            "viewers": viewers,
            "views": views,
            "retention": viewers / len(heat),
            "rewatch": np.where(viewers > 0, views / np.maximum(viewers, 1), np.nan),
        },
        index=pd.Index(heat.columns.astype(float), name="position"),
    )


@pytest.fixture
def heat() -> pd.DataFrame:
    return _heat()


@pytest.fixture
def curve(heat: pd.DataFrame) -> pd.DataFrame:
    return _curve(heat)


@pytest.fixture
def cohort_curve() -> pd.DataFrame:
    parts = {name: _curve(_heat(seed)) for seed, name in enumerate(["desktop", "mobile", "tv"])}
    return pd.concat(parts, names=["device_type", "position"])


def _labels(ax: Axes) -> list[str]:
    return [str(line.get_label()) for line in ax.get_lines()]


class TestRetention:
    def test_returns_the_given_axes(self, curve):
        _fig, (ax1, ax2) = plt.subplots(1, 2)
        out = avi.plot_retention(curve, ax=ax2)
        assert out is ax2
        assert not ax1.get_lines()  # nothing drawn outside the given Axes
        assert len(ax2.get_lines()) >= 2

    def test_default_is_current_axes(self, curve):
        _fig, ax = plt.subplots()
        assert avi.plot_retention(curve) is ax

    def test_retention_line_follows_the_curve(self, curve):
        ax = avi.plot_retention(curve, rewatch=False, annotate_dropoffs=0)
        (line,) = ax.get_lines()
        y = np.asarray(line.get_ydata(), dtype=float)
        np.testing.assert_allclose(y[:-1], curve["retention"].to_numpy())
        # The last bin is closed at its end, not left as a point.
        assert np.asarray(line.get_xdata())[-1] == pytest.approx(curve.index[-1] + 5.0)

    def test_rewatch_line_is_passes_per_viewer_of_the_video(self, curve):
        ax = avi.plot_retention(curve, annotate_dropoffs=0)
        passes = next(li for li in ax.get_lines() if li.get_linestyle() == "--")
        expected = (curve["retention"] * curve["rewatch"].fillna(1.0)).to_numpy()
        np.testing.assert_allclose(np.asarray(passes.get_ydata(), dtype=float)[:-1], expected)
        assert np.asarray(passes.get_ydata(), dtype=float).max() > curve["retention"].max() - 1e-9

    def test_one_line_per_cohort_with_distinct_colours(self, cohort_curve):
        ax = avi.plot_retention(cohort_curve, rewatch=False)
        visible = [li for li in ax.get_lines() if not str(li.get_label()).startswith("_")]
        assert [li.get_label() for li in visible] == ["desktop", "mobile", "tv"]
        colours = {to_rgba(li.get_color()) for li in visible}
        assert len(colours) == 3
        legend = ax.get_legend()
        assert legend is not None and legend.get_title().get_text() == "device_type"

    def test_cohort_rewatch_lines_stay_out_of_the_legend(self, cohort_curve):
        ax = avi.plot_retention(cohort_curve)
        assert len([t.get_text() for t in ax.get_legend().get_texts()]) == 3

    def test_dropoffs_annotated_at_the_largest_falls(self, curve):
        ax = avi.plot_retention(curve, annotate_dropoffs=2)
        notes = [t for t in ax.texts if t.get_text().startswith("−")]
        assert len(notes) == 2
        falls = -curve["retention"].diff()
        biggest = falls.nlargest(2).index
        assert {format_seconds(p) for p in biggest} == {
            t.get_text().split(" at ")[1] for t in notes
        }

    def test_chapters_marked_and_dollar_signs_shown_literally(self, curve):
        chapters = pd.DataFrame(
            {
                "chapter": ["Intro", "Costs $5 vs $10", "<b>End</b>"],
                "start": [0.0, 40.0, 90.0],
                "end": [40.0, 90.0, 120.0],
            }
        )
        fig, ax = plt.subplots()
        avi.plot_retention(curve, ax=ax, chapters=chapters, annotate_dropoffs=0)
        vlines = [li for li in ax.get_lines() if li.get_linestyle() == ":"]
        assert [li.get_xdata()[0] for li in vlines] == [0.0, 40.0, 90.0]
        texts = [t.get_text() for t in ax.texts]
        assert r" Costs \$5 vs \$10" in texts
        fig.canvas.draw()  # mathtext would fail to parse an unescaped "$5 vs $"

    def test_chapters_as_pairs(self, curve):
        ax = avi.plot_retention(curve, chapters=[(30, "A"), (60, "B")], annotate_dropoffs=0)
        assert {t.get_text() for t in ax.texts} == {" A", " B"}

    def test_axis_formatting(self, curve):
        ax = avi.plot_retention(curve)
        assert ax.xaxis.get_major_formatter()(83, 0) == "1:23"
        assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"

    def test_wrong_input_says_what_to_pass(self, curve):
        with pytest.raises(TypeError, match=r"avi\.retention"):
            avi.plot_retention(curve.to_numpy())
        with pytest.raises(ValueError, match="retention"):
            avi.plot_retention(curve.drop(columns="retention"))
        with pytest.raises(TypeError, match="Axes"):
            avi.plot_retention(curve, ax="left")


class TestHeatmap:
    def test_returns_axes_with_one_image(self, heat):
        _fig, (ax1, ax2) = plt.subplots(1, 2)
        assert avi.plot_heatmap(heat, ax=ax1) is ax1
        images = [a for a in ax1.get_children() if isinstance(a, AxesImage)]
        assert len(images) == 1 and not ax2.images

    def test_four_distinct_colours_in_legend(self, heat):
        ax = avi.plot_heatmap(heat)
        handles = ax.get_legend().legend_handles
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[0] == "skipped" and labels[1] == "watched"
        colours = {to_rgba(h.get_facecolor()) for h in handles}
        assert len(colours) == 4
        assert colours == {to_rgba(c) for c in HEATMAP_COLORS}

    def test_cells_map_to_their_category_colour(self, heat):
        ax = avi.plot_heatmap(heat, order=None, max_sessions=None)
        image = ax.images[0]
        rgba = image.to_rgba(image.get_array())
        values = np.clip(heat.to_numpy(), 0, 3)
        for k, colour in enumerate(HEATMAP_COLORS):
            mask = values == k
            if mask.any():
                np.testing.assert_allclose(rgba[mask][:, :3], [to_rgba(colour)[:3]] * mask.sum())

    def test_first_skip_order_puts_longest_unbroken_watch_on_top(self, heat):
        ax = avi.plot_heatmap(heat, max_sessions=None)
        shown = np.asarray(ax.images[0].get_array())
        unwatched = shown == 0
        first_gap = np.where(unwatched.any(axis=1), unwatched.argmax(axis=1), shown.shape[1])
        assert (np.diff(first_gap) <= 0).all()

    def test_start_order(self, heat):
        ax = avi.plot_heatmap(heat, order="start", max_sessions=None)
        shown = np.asarray(ax.images[0].get_array()) > 0
        first = shown.argmax(axis=1)
        assert (np.diff(first) >= 0).all()

    def test_max_sessions_caps_rows_and_says_so(self, heat):
        ax = avi.plot_heatmap(heat, max_sessions=10)
        assert np.asarray(ax.images[0].get_array()).shape == (10, heat.shape[1])
        assert ax.get_ylabel() == "sessions (10 of 40)"

    def test_x_axis_in_media_seconds(self, heat):
        ax = avi.plot_heatmap(heat)
        assert ax.get_xlim() == (0.0, 120.0)

    def test_empty_heatmap_draws_nothing_but_works(self):
        empty = pd.DataFrame(np.zeros((0, 3), dtype=int), columns=[0.0, 1.0, 2.0])
        ax = avi.plot_heatmap(empty)
        assert not ax.images

    def test_bad_order(self, heat):
        with pytest.raises(ValueError, match="order must be one of"):
            avi.plot_heatmap(heat, order="random")


class TestConcurrency:
    @pytest.fixture
    def conc(self) -> pd.DataFrame:
        t = pd.date_range("2024-03-01 19:00", periods=60, freq="1min", tz="UTC", name="time")
        viewers = np.r_[np.arange(30), np.arange(30)[::-1]] * 2
        frame = pd.DataFrame({"viewers": viewers}, index=t)
        frame.attrs["average"] = 20.0  # of a longer curve: the plot shows what it draws
        return frame

    def test_peak_and_average(self, conc):
        _fig, ax = plt.subplots()
        assert avi.plot_concurrency(conc, ax=ax) is ax
        texts = [t.get_text() for t in ax.texts]
        assert texts == ["peak 58 at 19:29"]
        assert "average 29.0" in [t.get_text() for t in ax.get_legend().get_texts()]

    def test_series_accepted(self, conc):
        ax = avi.plot_concurrency(conc["viewers"], annotate_peak=False, average=False)
        assert len(ax.get_lines()) == 1

    def test_one_line_per_stream(self, conc):
        multi = pd.concat({"li1": conc, "li2": conc // 2}, names=["live_stream_id", "time"])
        ax = avi.plot_concurrency(multi)
        assert [li.get_label() for li in ax.get_lines()] == ["li1", "li2"]


class TestEngagement:
    @pytest.fixture
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "title": ["Intro $$", "<script>x</script>", "Demo"],
                "views": [120, 40, 75],
                "avg_share_watched": [0.42, 0.9, 0.61],
            },
            index=pd.Index(["vi1", "vi2", "vi3"], name="video_id"),
        )

    def test_bars_sorted_and_labelled_by_title(self, table):
        fig, ax = plt.subplots()
        assert avi.plot_engagement(table, ax=ax) is ax
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["Intro \\$\\$", "Demo", "<script>x</script>"]
        widths = [p.get_width() for p in ax.patches]
        assert widths == sorted(widths)
        assert ax.xaxis.get_major_formatter()(0.5, 0) == "50%"
        fig.canvas.draw()

    def test_counts_not_percent(self, table):
        ax = avi.plot_engagement(table, metric="views", labels=None, sort=False)
        assert [round(p.get_width()) for p in ax.patches] == [120, 40, 75]
        assert ax.get_xlabel() == "views"

    def test_multiindex_rows(self, table):
        multi = table.drop(columns="title").set_index(
            pd.MultiIndex.from_tuples([("vi1", "a"), ("vi1", "b"), ("vi2", "a")])
        )
        ax = avi.plot_engagement(multi, sort=False)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["vi1 / a", "vi1 / b", "vi2 / a"]

    def test_unknown_metric_lists_the_numeric_columns(self, table):
        with pytest.raises(ValueError, match=r"\['views', 'avg_share_watched'\]"):
            avi.plot_engagement(table, metric="title")


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.6, 83, 3600, 3725)] == [
        "0:00",
        "1:00",
        "1:23",
        "1:00:00",
        "1:02:05",
    ]
    assert format_seconds(float("nan")) == ""
