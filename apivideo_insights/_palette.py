"""The palette of the plots and the words of their legends: one home, re-exported by
:mod:`apivideo_insights.plotting`, so that what is drawn elsewhere (the report's captions)
matches the plots."""

from __future__ import annotations

__all__ = [
    "COHORT_COLORS",
    "HEATMAP_COLORS",
    "HEATMAP_LABELS",
    "OTHER_COLOR",
    "PASSES_LABEL",
    "RETENTION_YLABEL",
]

#: Colours of the heatmap's pass counts: skipped, watched once, twice, three times or more
#: (the usual convention of video heatmaps: grey skipped, green watched, warmer = rewatched).
HEATMAP_COLORS: tuple[str, ...] = ("#e4e4e4", "#4c9f70", "#f2a541", "#c8373f")
HEATMAP_LABELS: tuple[str, ...] = ("skipped", "watched", "rewatched (2×)", "rewatched (3×+)")

#: Colours of cohort curves, in order: eleven qualitative colours with no repeats (tab10
#: without its grey, plus indigo and black), so that up to eleven cohorts stay apart; more
#: cohorts than that are grouped into one "other" curve drawn in :data:`OTHER_COLOR`.
COHORT_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#000000",
)
#: Colour of the grouped small cohorts ("other (k cohorts, n sessions)").
OTHER_COLOR = "#8c8c8c"
#: Legend label of the dashed line of :func:`plot_retention` (passes per viewer).
PASSES_LABEL = "views per viewer (rewatches count)"
#: y label of :func:`plot_retention`.
RETENTION_YLABEL = "viewers still watching (%)"
