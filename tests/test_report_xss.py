"""Log lines are attacker-controlled: every log-derived field that reaches a report page must
arrive as inert text. The failure table is built by hand here so that every text field (not only
those a parser happens to fill) carries a payload, and so do the file statistics."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pyarrow as pa
import pytest

from logscan import schema
from logscan.engine import load_categories
from logscan.reports.build import ReportOptions, build_reports

PAYLOADS = [
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "'><iframe src=javascript:alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "</style><style>body{background:url(http://127.0.0.1:9/x)}</style>",
    "<!--",
    "]]><math><mi xlink:href=\"javascript:alert(1)\">",
    "{{ 7*7 }}{% raw %}",
    "\u2028<base href=//127.0.0.1:9/>",
]
# Fields written from log text (and the category/rule ids, which a stored dataset could carry).
TEXT_FIELDS = [f.name for f in schema.FIELDS if f.type == pa.string() and f.name not in ("event", "direction")]

# Our own markup: these tags, and these attributes only.
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span", "div", "b", "strong",
        "br", "a", "nav", "table", "tr", "th", "td", "ul", "ol", "li", "details", "summary", "code", "figure",
        "figcaption", "thead", "tbody", "wbr",
        # the chart: matplotlib's SVG elements
        "svg", "defs", "g", "path", "use", "text", "clippath", "rect"}
ATTRS = {"lang", "charset", "name", "content", "http-equiv", "class", "style", "href", "colspan", "role",
         "viewbox", "xmlns", "xmlns:xlink", "version", "id", "d", "x", "y", "transform", "xlink:href",
         "clip-path", "width", "height", "type", "open", "data-label", "aria-label", "start"}


class Audit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        self._in_style = tag == "style"
        for name, value in attrs:
            if name not in ATTRS:
                self.problems.append(f"attribute {name}= on <{tag}>")
            if name in ("href", "xlink:href") and value and not (
                    value.startswith("#") or value.endswith((".html", ".parquet", ".csv", ".json"))
                    and ":" not in value and not value.startswith("/")):
                self.problems.append(f"{name}={value!r}")
            if name == "style" and value and ("url(" in value or "expression" in value):
                self.problems.append(f"style={value!r}")

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")


def evil_table() -> pa.Table:
    rows = []
    base = datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    for i, p in enumerate(PAYLOADS):
        for j, category in enumerate(("blocklisted", "auth_failed", "wrong_port_or_protocol", "connection_refused",
                                      "unknown", p)):
            row = {name: f"{name}{i}{p}" for name in TEXT_FIELDS}
            row.update(time=base + timedelta(hours=i, minutes=j), event="bounced", direction="outbound",
                       category=category, relay_port=25, smtp_code=550, line_no=i + 1, size=1,
                       year_inferred=False,
                       diagnostic=f"550 5.7.1 Client host [{p}] blocked using {p}; see https://x/{p} {p}",
                       sender=f"{p}@evil.example", recipient=f"{p}@{p}")
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema.plain_arrow_schema())


FILES = [{"path": f"/var/log/{p}", "format": p, "lines": 10, "failures": 1, "ignored": 0, "unparsed": 2,
          "unparsed_examples": [{"line_no": 3, "line": p}], "first_time": None, "last_time": None}
         for p in PAYLOADS]
SKIPPED = [{"path": p, "reason": p} for p in PAYLOADS]


@pytest.mark.parametrize("period,lang,redact", [(None, "en", False), ("day", "en", False), ("day", "zh", True)])
def test_every_log_field_is_inert(tmp_path, period, lang, redact):
    build_reports(evil_table(), FILES, SKIPPED, tmp_path, ReportOptions(period=period, lang=lang, redact=redact),
                  load_categories())
    pages = sorted(tmp_path.rglob("*.html"))
    assert len(pages) == (1 if period is None else 2)  # all on one day: its page and the index
    for page in pages:
        html = page.read_text().replace("<wbr>", "")  # wrap points after separators (html.seps)
        for p in PAYLOADS:
            if any(c in p for c in "<>\"'"):  # markup must come out escaped; plain text may stay
                assert p not in html, (page, p)
        audit = Audit()
        audit.feed(html)
        assert audit.problems == [], page
        text = "".join(audit.text)
        assert "alert(1)" in text  # the payloads did reach the page, as text
        assert "{{ 7*7 }}{% raw %}" in text  # data is never evaluated as a template
    body = "".join(p.read_text().replace("<wbr>", "") for p in pages)
    if not redact:
        for field in ("host", "source_file", "client_host", "client_ip", "relay_host", "sasl_username", "signature",
                      "line", "recipient_domain"):
            assert re.search(rf"{field}\d+(?:&lt;|&#34;|&#39;)", body), field  # reached the page, escaped
        assert "&lt;img src=x onerror=alert(1)&gt;@evil.example" in body  # the sender
