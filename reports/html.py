"""The HTML report: one self-contained file (inline CSS, no scripts, no external URL).

Jinja2 autoescapes every value; log-derived text (diagnostics, lines, addresses, file names) is
never marked safe. Charts are plain HTML bars, so the file renders offline and in mail clients.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from logscan import __version__
from logscan.reports.aggregate import Summary


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("logscan.reports", "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda t: "" if t is None else t.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["pct"] = lambda x: f"{100 * x:.1f}%"
    env.filters["codespans"] = codespans
    return env


def codespans(text: str) -> Markup:
    """`postconf -n` -> <code>postconf -n</code>, for remediation texts. The text is escaped
    first, so only the <code> tags this function adds are markup."""
    return Markup(re.sub(r"`([^`\n]{1,300})`", r"<code>\1</code>", str(escape(text))))


def render(summary: Summary, files: list[dict], skipped: list[dict], title: str) -> str:
    return _env().get_template("report.html.j2").render(
        s=summary,
        files=files,
        skipped=skipped,
        title=title,
        version=__version__,
        generated=datetime.now(timezone.utc),
    )


def write_report(html: str, out_dir: Path, name: str = "index.html") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    tmp = path.with_name(f".{name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
