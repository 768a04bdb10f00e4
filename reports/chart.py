"""Failures by category over time as an inline SVG, drawn by matplotlib's SVG backend.

Server-side SVG renders without scripts and without a network, in a browser and in a mail client.
Text stays text (svg.fonttype "none") so it is small and uses the reader's fonts; text and axes are
drawn in `currentColor`, so the chart follows the page's light or dark colours. The category
colours (Okabe-Ito, readable for colour-blind readers) read on both backgrounds. The legend is
HTML beside the chart, so it stays legible on a phone.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pandas as pd

# Okabe & Ito's colour-blind-safe palette, then three of Paul Tol's muted colours; grey is
# "everything else".
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442", "#882255", "#44AA99",
           "#999933")
OTHER_COLOUR = "#999999"
_INK = "#010203"  # placeholder for text and axes, replaced by currentColor
_SERIES = len(PALETTE)
OTHER_SHARE = 0.1  # name categories until what is left for "other" is at most this share
LABEL = "__LOGSCAN_CHART_LABEL__"  # the accessible name, filled in by the template (escaped there)
# Drawn twice, for a desktop's width and for a phone's (CSS shows one): one scaled-down wide chart
# would have unreadable labels on a phone.
SIZES = {"wide": (13.0, 2.9), "narrow": (5.4, 2.7)}


@dataclass
class Chart:
    svg: str  # markup built here from numbers and our own labels, never from log text (wide)
    legend: list[dict]  # {"category", "colour", "failures"}; titles are added by the caller
    unit: str  # hour, day, week, month
    narrow: str = ""  # the same chart drawn for a phone's width
    start: pd.Timestamp | None = None  # the first and last bin drawn
    end: pd.Timestamp | None = None


def _unit_for(start: pd.Timestamp, end: pd.Timestamp) -> str:
    span = end - start
    if span <= pd.Timedelta(hours=3):
        return "10min"
    if span <= pd.Timedelta(days=2):
        return "hour"
    if span <= pd.Timedelta(days=120):
        return "day"
    return "week"


_FREQ = {"10min": "10min", "hour": "h", "day": "D", "week": "W-MON", "month": "MS"}
_TICK = {"10min": "%H:%M", "hour": "%H:%M", "day": "%m-%d", "week": "%m-%d", "month": "%Y-%m"}


# When the named categories leave too much for "other", the rest is grouped by family: these are
# the legend's English words for them (translated by the report's catalogue).
FAMILY_NAMES = {"config": "other configuration", "auth": "other authentication", "tls": "other TLS",
                "network": "other network", "reputation": "other reputation and anti-spam",
                "recipient": "other recipient", "message": "other message", "policy": "other policy",
                "local": "other local", "other": "other (expired, unknown)"}
FAMILY_KEY = "family:"
NAMED_BEFORE_FAMILIES = 5  # at most; fewer when the families would not fit


def category_chart(times: pd.Series, categories: pd.Series, start, end, unit: str | None = None,
                   other_label: str = "other", families: dict[str, str] | None = None) -> Chart | None:
    """Stacked bars: failures per time bin and category over [start, end). None when empty (or when
    no failure has a time: a line without a readable stamp has none)."""
    timed = times.notna()
    times, categories = times[timed], categories[timed]
    if times.empty or start is None or end is None or pd.isna(start) or pd.isna(end):
        return None
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    unit = unit or _unit_for(start, end)
    top = categories.value_counts()
    keep = []
    for cat in top.index:  # the largest first, until "other" is small (or colours run out)
        if len(keep) == _SERIES or (keep and top.drop(keep).sum() <= OTHER_SHARE * len(categories) and len(keep) >= 4):
            break
        keep.append(cat)
    if len(top) == len(keep) + 1 and len(keep) < _SERIES:  # an "other" of one category: name it
        keep = list(top.index)
    if len(top) > len(keep) and len(keep) == _SERIES:  # the last colour goes to "other" when there are more
        keep = keep[:_SERIES - 1]
    if families and top.drop(keep).sum() > OTHER_SHARE * len(categories):
        # Too many causes of similar size: the largest by name, the rest by family.
        # Name fewer categories while that leaves more than a tenth to "other".
        family = FAMILY_KEY + categories.map(families).fillna("other")
        for named in range(NAMED_BEFORE_FAMILIES, -1, -1):
            keep = list(top.index[:named])
            grouped = categories.where(categories.isin(keep), family)
            rest = grouped[~grouped.isin(keep)].value_counts()
            room = _SERIES - len(keep) - (1 if len(rest) > _SERIES - len(keep) else 0)
            if rest.iloc[room:].sum() <= OTHER_SHARE * len(categories):
                break
        keep += list(rest.index[:room])
        categories = grouped
    cats = categories.where(categories.isin(keep), other_label)
    if unit == "week":
        bins = (times.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
                .dt.tz_localize("UTC"))
        edges = pd.date_range(start.tz_convert("UTC").normalize() - pd.Timedelta(days=start.weekday()),
                              end, freq="W-MON", inclusive="left")
    elif unit == "month":
        bins = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.tz_localize("UTC")
        edges = pd.date_range(start.tz_convert("UTC").normalize().replace(day=1), end, freq="MS", inclusive="left")
    else:  # bins start on whole hours or days, whatever moment the window starts at
        bins = times.dt.floor(_FREQ[unit])
        edges = pd.date_range(start.floor(_FREQ[unit]), end, freq=_FREQ[unit], inclusive="left")
    counts = pd.crosstab(bins.reset_index(drop=True), cats.reset_index(drop=True)).reindex(edges, fill_value=0)
    order = [c for c in keep if c in counts.columns] + ([other_label] if other_label in counts.columns else [])
    counts = counts[order]
    colours = {c: (PALETTE[i] if c != other_label else OTHER_COLOUR) for i, c in enumerate(order)}
    legend = [{"category": c, "colour": colours[c], "failures": int(counts[c].sum())} for c in order]
    wide = _draw(counts, colours, unit, SIZES["wide"]).replace('class="chart"', 'class="chart wide"', 1)
    narrow = _draw(counts, colours, unit, SIZES["narrow"]).replace('class="chart"', 'class="chart narrow"', 1)
    return Chart(wide, legend, unit, narrow, counts.index[0], counts.index[-1])


def _draw(counts: pd.DataFrame, colours: dict[str, str], unit: str, size: tuple[float, float]) -> str:
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    with matplotlib.rc_context({
        "svg.fonttype": "none", "svg.hashsalt": "logscan", "font.size": 12, "font.family": "sans-serif",
        "text.color": _INK, "axes.edgecolor": _INK, "axes.labelcolor": _INK, "xtick.color": _INK,
        "ytick.color": _INK, "axes.spines.top": False, "axes.spines.right": False,
    }):
        fig = Figure(figsize=size, dpi=72)
        fig.patch.set_alpha(0)
        ax = fig.add_subplot()
        ax.patch.set_alpha(0)
        bottom = [0] * len(counts)
        for cat in counts.columns:
            values = counts[cat].tolist()
            drawn = [i for i, v in enumerate(values) if v]  # no empty rectangles: they cost bytes
            ax.bar(drawn, [values[i] for i in drawn], bottom=[bottom[i] for i in drawn], width=0.85,
                   color=colours[cat], linewidth=0)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        most = max(4, int(size[0] * 1.2))  # about one label per inch: they must not overlap
        step = max(1, -(-len(counts) // most))
        ticks = list(range(0, len(counts), step))
        ax.set_xticks(ticks, [counts.index[i].strftime(_TICK[unit]) for i in ticks])
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color="#808080", alpha=0.35, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlim(-0.6, len(counts) - 0.4)
        fig.tight_layout(pad=0.4)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _tidy(buf.getvalue())


def _tidy(svg: str) -> str:
    """Inline-ready: no XML prolog or DOCTYPE, scalable width, theme-following ink."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"([^>]*)>', rf'<svg\1 role="img" class="chart" aria-label="{LABEL}"\2><title>{LABEL}</title>', svg, count=1)
    svg = svg.replace(_INK, "currentColor")
    svg = re.sub(r"font-family:[^;\"]*", "font-family: system-ui, sans-serif", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"(\d+\.\d)\d+", r"\1", svg)  # a tenth of a pixel is precise enough
    return re.sub(r"\s*\n\s*", "\n", svg)
