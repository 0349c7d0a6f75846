"""The CJK font fallback of every plot: titles such as "Résumé — 日本語" render in Noto Sans
CJK where it is installed, instead of boxes, while Latin text keeps the user's font."""

from __future__ import annotations

import glob

__all__ = ["FONT_FALLBACK", "use_font_fallback"]

#: Families tried, in order, for every glyph (matplotlib >= 3.6 falls back per glyph):
#: Latin text keeps the default font, CJK titles use Noto Sans CJK (Debian's
#: ``fonts-noto-cjk``) when it is installed.
FONT_FALLBACK: tuple[str, ...] = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK KR",
    "Noto Sans CJK TC",
    "Noto Sans CJK",
    "Droid Sans Fallback",
)

#: Where Linux distributions put Noto Sans CJK (regular weight first).
_CJK_FILES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/*/NotoSansCJK*-Regular.tt[cf]",
    "/usr/share/fonts/*/*/NotoSansCJK*-Regular.tt[cf]",
)


def use_font_fallback() -> tuple[str, ...]:
    """Append the installed CJK families to ``font.family`` (once), so that titles such as
    "Résumé — 日本語" render instead of boxes; Latin text keeps the user's font."""
    from matplotlib import font_manager, rcParams

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(FONT_FALLBACK):
        # matplotlib's font list is cached: a font installed after it was built (Debian's
        # fonts-noto-cjk) is found on disk and added, without rebuilding the whole cache.
        for pattern in _CJK_FILES:
            for path in sorted(glob.glob(pattern))[:4]:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable font: go on without
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    families = list(rcParams["font.family"])
    extra = [f for f in FONT_FALLBACK if f in installed and f not in families]
    if extra:
        rcParams["font.family"] = families + extra[:1]
    return tuple(extra[:1])
