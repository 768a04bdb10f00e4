"""The HTML report: one self-contained file (inline CSS, no scripts, no external URL).

Jinja2 autoescapes every value; log-derived text (diagnostics, lines, addresses, file names) is
never marked safe; only the chart's SVG (built by reports/chart.py from numbers) is. The page has
no scripts and loads nothing, so it renders offline and in mail clients.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from logscan import __version__
from logscan.errors import OutputError
from logscan.reports.chart import FAMILY_KEY, FAMILY_NAMES
from logscan.reports.chart import LABEL as CHART_LABEL
from logscan.reports.i18n import STAGES_ZH, reason


@functools.cache
def _compiled(lang: str) -> jinja2.Environment:
    """One environment per language, so that each template is compiled once per run, not once per
    period (a daily report over a month renders 30 pages)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("logscan.reports", "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # NaT (a failure whose line had no readable stamp) is no time either: it has no strftime
    env.filters["when"] = lambda t: "" if t is None or t != t else t.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["pct"] = lambda x: f"{100 * x:.1f}%"
    env.filters["codespans"] = codespans
    env.filters["clip"] = clip
    env.filters["seps"] = seps
    env.filters["reason"] = lambda text: reason(text, lang)
    env.filters["stage"] = lambda text: (STAGES_ZH.get(text, text) if lang == "zh" else text) if text else ""
    return env


def _env(msg) -> jinja2.Environment:
    env = _compiled(msg.lang)
    env.globals.update(_=msg, version=__version__, generated=datetime.now(timezone.utc), LABEL=CHART_LABEL,
                       FAMILY_KEY=FAMILY_KEY, FAMILY_NAMES=FAMILY_NAMES)
    return env


def _with_titles(env: jinja2.Environment, categories: dict, lang: str) -> jinja2.Environment:
    env.filters["title_of"] = lambda cid: categories[cid].text("title", lang) if cid in categories else cid
    return env


CLIP_CHARS = 1000  # a log line can be 64 KiB; the page shows this much of one (the exports hold all)


def clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= CLIP_CHARS else f"{text[:CLIP_CHARS]} [... {len(text) - CLIP_CHARS} more]"


_SEPARATOR = re.compile(r"([./@:_=,\]\[)(>-])(?=[^\s<])")


def seps(text) -> Markup:
    """Long tokens (addresses, host names, paths, signatures) may wrap after a separator, not in
    the middle of a word: the text is escaped, then <wbr> follows each separator. (`&` and `;` are
    not separators here: they belong to the escaped entities.)"""
    return Markup(_SEPARATOR.sub(r"\1<wbr>", str(escape("" if text is None else text))))


def codespans(text: str) -> Markup:
    """`postconf -n` -> <code>postconf -n</code>, for remediation texts. The text is escaped
    first, so only the <code> tags this function adds are markup."""
    return Markup(re.sub(r"`([^`\n]{1,300})`", r"<code>\1</code>", str(escape(text))))


def render_report(*, summary, period, ctx: dict, **values) -> str:
    """One period's report. `ctx` holds files, skipped, opts, msg and categories."""
    msg, opts = ctx["msg"], ctx["opts"]
    title = msg(opts.title) if period.kind == "all" else f"{msg(opts.title)}: {period.label}"
    env = _with_titles(_env(msg), ctx["categories"], opts.lang)
    return env.get_template("report.html.j2").render(
        s=summary, period=period, page_title=title, files=ctx["files"], skipped=ctx["skipped"], opts=opts,
        categories=ctx["categories"], **values)


def render_index(rows: list[dict], chart, ctx: dict, first, last, untimed: int = 0) -> str:
    """The page linking every period's report, with a small table of their numbers."""
    msg, opts = ctx["msg"], ctx["opts"]
    env = _with_titles(_env(msg), ctx["categories"], opts.lang)
    return env.get_template("index.html.j2").render(
        rows=rows, chart=chart, first=first, last=last, untimed=untimed, page_title=msg(opts.title), files=ctx["files"],
        skipped=ctx["skipped"], opts=opts, categories=ctx["categories"])


def write_report(html: str, out_dir: Path, name: str = "index.html") -> Path:
    path = out_dir / name
    tmp = path.with_name(f".{name}.tmp")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}", hint="check the folder's permissions and free space") from exc
    return path
