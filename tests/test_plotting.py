"""Tests of the axes-level plots, on hand-made frames of the contract's shapes."""

from __future__ import annotations

import itertools
import os

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage

import apivideo_insights as avi
from apivideo_insights._ticks import TIME_STEPS
from apivideo_insights.plotting import (
    COHORT_COLORS,
    FONT_FALLBACK,
    HEATMAP_COLORS,
    PASSES_LABEL,
    RETENTION_YLABEL,
    format_seconds,
    spread_labels,
    time_ticks,
)

ROUND_STEPS = {float(s) for s in TIME_STEPS}


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


def _chapter_titles(ax: Axes) -> list[str]:
    (top,) = ax.child_axes
    return [t.get_text() for t in top.get_xticklabels()]


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
        assert [li.get_label() for li in visible] == [
            "desktop (n=40)",
            "mobile (n=40)",
            "tv (n=40)",
        ]
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

    def test_dropoff_labels_clear_of_the_curve_and_of_each_other(self):
        # A steep stretch: many falls close together, the labels' worst case.
        ret = np.r_[np.linspace(1.0, 0.9, 10), [0.7, 0.5, 0.35, 0.3, 0.28], np.full(10, 0.25)]
        curve = pd.DataFrame(
            {"retention": ret, "rewatch": 1.0},
            index=pd.Index(np.arange(len(ret)) * 5.0, name="position"),
        )
        fig, ax = plt.subplots(figsize=(6, 3))
        avi.plot_retention(curve, ax=ax, annotate_dropoffs=4)
        fig.canvas.draw()
        notes = [t for t in ax.texts if t.get_text().startswith("−")]
        assert len(notes) == 4
        boxes = [t.get_bbox_patch().get_window_extent() for t in notes]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), "drop-off labels overlap"
        # Every label sits above the highest point of the curve (its own band).
        to_data = ax.transData.inverted()
        curve_top = max(np.asarray(li.get_ydata(), dtype=float).max() for li in ax.get_lines())
        for box in boxes:
            assert to_data.transform((box.x0, box.y0))[1] > curve_top

    def test_passes_line_and_y_axis_say_what_they_show(self, curve):
        ax = avi.plot_retention(curve, annotate_dropoffs=0)
        assert ax.get_ylabel() == RETENTION_YLABEL == "viewers still watching (%)"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["retention", PASSES_LABEL]
        assert "rewatch" in PASSES_LABEL

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
        fig.canvas.draw()  # mathtext would fail to parse an unescaped "$5 vs $"
        assert _chapter_titles(ax) == ["Intro", r"Costs \$5 vs \$10", "<b>End</b>"]
        # Titles sit above the Axes, never over the curve.
        plot_top = ax.get_window_extent().y1
        top_axis = ax.child_axes[0]
        assert all(t.get_window_extent().y0 >= plot_top for t in top_axis.get_xticklabels())

    def test_chapters_as_pairs(self, curve):
        ax = avi.plot_retention(curve, chapters=[(30, "A"), (60, "B")], annotate_dropoffs=0)
        assert _chapter_titles(ax) == ["A", "B"]
        assert not ax.texts

    def test_axis_formatting(self, curve):
        ax = avi.plot_retention(curve)
        assert ax.xaxis.get_major_formatter()(83, 0) == "1:23"
        assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"

    @pytest.mark.parametrize("duration", [37.0, 200.0, 610.0, 1500.0, 5400.0])
    def test_time_ticks_on_round_minutes_and_seconds(self, duration):
        n = 50
        curve = pd.DataFrame(
            {"retention": np.linspace(1, 0.2, n), "rewatch": 1.0},
            index=pd.Index(np.arange(n) * duration / n, name="position"),
        )
        fig, ax = plt.subplots()
        avi.plot_retention(curve, ax=ax)
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if 0 <= t <= duration]
        steps = set(np.round(np.diff(ticks), 6))
        assert len(steps) == 1 and steps <= ROUND_STEPS, (duration, ticks)
        assert 3 <= len(ticks) <= 9

    def test_many_cohorts_grouped_with_counts_and_distinct_colours(self):
        sizes = [400, 300, 200, 150, 120, 100, 90, 80, 70, 60, 50, 40, 3, 1]
        parts = {}
        for k, n in enumerate(sizes):
            viewers = np.maximum(np.round(n * np.linspace(1, 0.3, 6)), 0).astype(int)
            parts[f"c{k:02d}"] = pd.DataFrame(
                {"viewers": viewers, "views": viewers, "retention": viewers / n, "rewatch": 1.0},
                index=pd.Index(np.arange(6) * 10.0, name="position"),
            )
        curve = pd.concat(parts, names=["location_country", "position"])
        curve.attrs["sessions"] = {f"c{k:02d}": n for k, n in enumerate(sizes)}
        ax = avi.plot_retention(curve, rewatch=False)
        visible = [li for li in ax.get_lines() if not str(li.get_label()).startswith("_")]
        labels = [str(li.get_label()) for li in visible]
        assert len(visible) == len(COHORT_COLORS)
        assert labels[0] == "c00 (n=400)"
        # The ten largest keep their own line; the rest (k=4, 40+3+1+50?) become "other".
        assert labels[-1] == "other (4 cohorts, 94 sessions)"
        colours = [to_rgba(li.get_color()) for li in visible]
        assert len(set(colours)) == len(colours)
        other = np.asarray(visible[-1].get_ydata(), dtype=float)[:-1]
        merged = sum(parts[c]["viewers"].to_numpy() for c in ("c10", "c11", "c12", "c13"))
        np.testing.assert_allclose(other, merged / 94)

    def test_one_session_cohort_is_not_a_line_of_its_own(self, cohort_curve):
        tiny = cohort_curve.xs("tv", level=0).head(3).assign(viewers=1, views=1, retention=1.0)
        curve = pd.concat(
            {
                "desktop": cohort_curve.xs("desktop", level=0),
                "mobile": cohort_curve.xs("mobile", level=0),
                "tv": tiny,
                "console": tiny,
            },
            names=["device_type", "position"],
        )
        ax = avi.plot_retention(curve, rewatch=False)
        labels = [str(t.get_text()) for t in ax.get_legend().get_texts()]
        assert labels == ["desktop (n=40)", "mobile (n=40)", "not drawn: 2 cohorts with 2 sessions"]
        drawn = [li for li in ax.get_lines() if not str(li.get_label()).startswith("_")]
        assert len(drawn) == 2  # the two sessions of tv and console draw no curve

    def test_small_cohorts_together_make_an_other_curve(self, cohort_curve):
        tiny = cohort_curve.xs("tv", level=0).head(3).assign(viewers=3, views=3, retention=1.0)
        curve = pd.concat(
            {"desktop": cohort_curve.xs("desktop", level=0), "tv": tiny, "console": tiny},
            names=["device_type", "position"],
        )
        ax = avi.plot_retention(curve, rewatch=False)
        labels = [str(t.get_text()) for t in ax.get_legend().get_texts()]
        assert labels == ["desktop (n=40)", "other (2 cohorts, 6 sessions)"]

    def test_cjk_titles_render_with_a_cjk_font(self, recwarn):
        if not {f.name for f in font_manager.fontManager.ttflist}.intersection(FONT_FALLBACK):
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail("no CJK font: install Debian's fonts-noto-cjk (./run test does)")
            pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
        fig, ax = plt.subplots()
        ax.set_title("Résumé — 日本語")
        fig.canvas.draw()
        assert not [w for w in recwarn if "missing from font" in str(w.message)]

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

    def test_last_minute_drawn_as_wide_as_the_others(self, conc):
        ax = avi.plot_concurrency(conc, annotate_peak=False, average=False)
        x = ax.get_lines()[0].get_xdata()
        assert pd.Timestamp(x[-1]) == conc.index[-1] + pd.Timedelta("1min")

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

    def test_a_level_with_one_value_is_not_repeated_in_every_label(self, table):
        by = table.drop(columns="title").set_index(
            pd.MultiIndex.from_tuples(
                [("vi1", "phone"), ("vi1", "tv"), ("vi1", "computer")],
                names=["video_id", "device_type"],
            )
        )
        ax = avi.plot_engagement(by, sort=False)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["phone", "tv", "computer"]

    def test_unknown_metric_lists_the_numeric_columns(self, table):
        with pytest.raises(ValueError, match=r"\['views', 'avg_share_watched'\]"):
            avi.plot_engagement(table, metric="title")


class TestSteps:
    def test_last_period_is_as_wide_as_the_others(self):
        t = pd.date_range("2026-11-01", periods=30, freq="D", tz="UTC")
        daily = pd.DataFrame({"A": np.arange(30), "B": np.arange(30)[::-1]}, index=t)
        _fig, ax = plt.subplots()
        assert avi.plot_steps(daily, ax=ax, ylabel="daily peak") is ax
        for line in ax.get_lines():
            x = line.get_xdata()
            assert pd.Timestamp(x[-1]) == t[-1] + pd.Timedelta("1D")
            assert line.get_ydata()[-1] == line.get_ydata()[-2]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]

    def test_november_days_are_labelled_november(self):
        t = pd.date_range("2026-11-01", periods=30, freq="D", tz="UTC")
        fig, ax = plt.subplots(figsize=(10, 3))
        avi.plot_steps(pd.Series(np.arange(30), index=t), ax=ax)
        fig.canvas.draw()
        december = pd.Timestamp("2026-12-01").to_datetime64()
        for tick, text in zip(ax.get_xticks(), ax.get_xticklabels()):
            when = mdates.num2date(tick).replace(tzinfo=None)
            assert ("Dec" in text.get_text()) == (when >= december), (when, text.get_text())
        assert ax.xaxis.get_major_formatter().get_offset() == ""
        assert ax.get_xlabel() == "time (UTC), 1 Nov – 30 Nov 2026"

    def test_hourly_series_with_a_given_frequency(self):
        t = pd.date_range("2026-11-01", periods=5, freq="2h", tz="UTC")
        ax = avi.plot_steps(pd.Series([1, 2, 3, 4, 5], index=t), freq="1h")
        assert pd.Timestamp(ax.get_lines()[0].get_xdata()[-1]) == t[-1] + pd.Timedelta("1h")

    def test_wrong_input(self):
        with pytest.raises(TypeError, match="Series or DataFrame"):
            avi.plot_steps([1, 2, 3])


def test_time_ticks_pick_the_smallest_round_step():
    assert time_ticks(0, 50).tolist() == [0, 10, 20, 30, 40, 50]
    assert time_ticks(0, 100).tolist()[:3] == [0, 15, 30]
    assert time_ticks(12, 95).tolist() == [15, 30, 45, 60, 75, 90]
    assert time_ticks(0, 3 * 3600).tolist()[:2] == [0, 1800]


@pytest.mark.parametrize("seed", range(5))
def test_spread_labels_never_overlap_in_a_row(seed):
    rng = np.random.default_rng(seed)
    xs = rng.random(6)
    widths = rng.uniform(0.05, 0.2, 6)
    placed = spread_labels(xs, widths, rows=2)
    for row in (0, 1):
        spans = sorted((c - w / 2, c + w / 2) for (c, r), w in zip(placed, widths) if r == row)
        assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.6, 83, 3600, 3725)] == [
        "0:00",
        "1:00",
        "1:23",
        "1:00:00",
        "1:02:05",
    ]
    assert format_seconds(float("nan")) == ""
