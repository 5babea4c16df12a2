"""Presentation mode's CSS, checked against numbers obtained independently of it (issue 13, items 8 and 11).

The colours and sizes are read from the CSS the page sends and compared with the WCAG 2 contrast formula written out
here, with Streamlit's own caption style (the theme's text colour at 60 % opacity) and with the normal page's sizes.
A real browser measures the rendered sizes in tests/test_browser.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from carrylab import page
from carrylab.charts import hidden_heatmap_figure
from carrylab.views import presentation

ROOT = Path(__file__).resolve().parents[1]
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
BASE_PX = THEME["baseFontSize"]  # 1rem


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def _luminance(rgb) -> float:
    """WCAG 2 relative luminance of an sRGB colour (components 0..1)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground, background) -> float:
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _over(colour, background, opacity: float):
    """What the eye sees: a colour drawn at some opacity over the background."""
    return tuple(opacity * c + (1 - opacity) * b for c, b in zip(colour, background, strict=True))


def _rule(css: str, selector_part: str) -> str:
    """The declarations of the first rule whose selector contains selector_part."""
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selector_part in selectors:
            return body
    raise AssertionError(f"no rule for {selector_part!r}")


def _rem(body: str, prop: str = "font-size") -> float:
    match = re.search(rf"{prop}:\s*([0-9.]+)rem", body)
    assert match, body
    return float(match.group(1))


def test_known_contrast_values():
    """The formula against published values: black on white 21:1, #767676 on white 4.54:1."""
    assert contrast(_rgb("#000000"), _rgb("#FFFFFF")) == pytest.approx(21.0)
    assert contrast(_rgb("#767676"), _rgb("#FFFFFF")) == pytest.approx(4.54, abs=0.01)


def test_presentation_captions_reach_7_to_1_where_streamlits_reach_4_5():
    background = _rgb(THEME["backgroundColor"])
    assert presentation.BACKGROUND.upper() == THEME["backgroundColor"].upper()
    streamlit_caption = _over(_rgb(THEME["textColor"]), background, 0.6)  # Streamlit: text colour, opacity 0.6
    assert contrast(streamlit_caption, background) < 4.6
    body = _rule(presentation.STYLE, '[data-testid="stCaptionContainer"] ')
    opacity = float(re.search(r"opacity:\s*([0-9.]+)", body).group(1))
    colour = re.search(r"color:\s*(#[0-9A-Fa-f]{6})", body).group(1)
    assert contrast(_over(_rgb(colour), background, opacity), background) >= 7.0
    paragraph = _rule(presentation.STYLE, '[data-testid="stCaptionContainer"] p')
    assert re.search(r"color:\s*(#[0-9A-Fa-f]{6})", paragraph).group(1) == colour


def test_presentation_text_is_never_smaller_than_normal_mode():
    """Headline numbers: normal mode grows them with the window up to 2.25rem; presentation mode's own size must be at
    least that, and apply to the value box itself (the 2.6rem rule only reached a paragraph inside before). The bit
    table: 0.875rem inline in normal mode."""
    normal_max = float(re.search(r"clamp\([^,]+,[^,]+,\s*([0-9.]+)rem\)", _rule(page.STYLE, "stMetricValue")).group(1))
    body = _rule(presentation.STYLE, '[data-testid="stMain"] [data-testid="stMetricValue"],')
    assert _rem(body) >= normal_max
    assert _rem(body) * BASE_PX >= 37.8  # the normal-mode measurement at 1400 px
    table = _rule(presentation.STYLE, ".carrylab-bit-table table")
    assert _rem(table) > 0.875 and "!important" in table  # the table's own size is an inline style
    captions = _rule(presentation.STYLE, '[data-testid="stMain"] [data-testid="stCaptionContainer"] p')
    assert _rem(captions) * BASE_PX > 0.875 * BASE_PX  # Streamlit's caption size: 0.875rem
    assert "h1" not in presentation.STYLE and "h2" not in presentation.STYLE  # headings keep their normal size


def test_view_tabs_wrap_instead_of_scrolling():
    body = _rule(page.STYLE, '[role="tablist"]')
    assert "flex-wrap: wrap" in body and "overflow: visible" in body
    assert "display: none" in _rule(page.STYLE, "stTabsScrollRight")


def test_a_short_heatmap_labels_every_kth_unit_at_least_a_label_apart():
    """Presentation: 32 units and 6 tracks in 580 px at font 20. Each labelled row is >= 1.3 label heights from the
    next, and each track row has >= 1.4 label heights for its cell text."""
    import numpy as np

    tracks = {name: np.zeros(8) for name in ("a", "b", "carry out", "target", "P(y=1)", "prediction")}
    fig = hidden_heatmap_figure(np.zeros((8, 32)), tracks=tracks, height=580, font_size=20)
    margin = fig.layout.margin
    plot = 580 - margin.t - margin.b
    units, top = fig.layout.yaxis2, fig.layout.yaxis
    pitch = plot * (units.domain[1] - units.domain[0]) / 32
    assert units.dtick * pitch >= 1.3 * 20 and (units.dtick - 1) * pitch < 1.3 * 20  # no sparser than needed
    assert plot * (top.domain[1] - top.domain[0]) / 6 >= 1.4 * 20
    assert fig.data[0].textfont.size == 18 and fig.layout.font.size == 20
    natural = hidden_heatmap_figure(np.zeros((8, 32)), tracks=tracks)
    assert natural.layout.yaxis2.dtick is None  # normal mode: every unit labelled
