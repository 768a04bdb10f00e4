"""The report builder: failure table + file statistics -> report folders.

It takes a pyarrow Table (or a pandas frame) of classified failures and the per-file statistics,
not a scan, so a fresh scan and a stored dataset feed it alike. Layout of --out:

    no --period:   index.html  failures.parquet  problems.csv  problems.json
    --period P:    index.html (one row per period, links)  and per period <label>/ with the four above
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from logscan import schema
from logscan.engine import Category
from logscan.errors import OutputError, UsageError
from logscan.output import TableWriter, write_table
from logscan.reports import html, outcomes, remedies, stream
from logscan.reports.aggregate import DELIVERY_SOURCES, Summary, as_frame, families, summarize
from logscan.reports.causes import inbound_defence, leading_causes
from logscan.reports.chart import category_chart
from logscan.reports.compare import deltas, new_and_stopped
from logscan.reports.i18n import LANGS, Messages
from logscan.reports.periods import KINDS, Period, bucket, in_window, periods_between
from logscan.reports.redact import Redactor

DETAILED_PROBLEMS = 5  # per section, in full in the page; LISTED_PROBLEMS more in a short table
LISTED_PROBLEMS = 15  # the exports hold every problem


@dataclass
class ReportOptions:
    period: str | None = None  # day, week, month; None: one report over everything
    since: datetime | None = None
    until: datetime | None = None
    lang: str = "en"
    redact: bool = False
    redact_ips: bool = False
    title: str = "Mail delivery failures"
    force: bool = False

    def check(self) -> None:
        if self.period is not None and self.period not in KINDS:
            raise UsageError(f"--period {self.period!r} is not one of {', '.join(KINDS)}")
        if self.lang not in LANGS:
            raise UsageError(f"--lang {self.lang!r} is not one of {', '.join(LANGS)}")
        if self.since and self.until and self.since >= self.until:
            raise UsageError("--since is not before --until", hint="swap them, or widen the window")
        if self.redact_ips and not self.redact:
            self.redact = True  # --redact-ips implies --redact: never IPs hidden and addresses shown


def file_rows(stats: list[Any]) -> list[dict[str, Any]]:
    """Per-file statistics as the builder takes them: FileStats.as_dict() plus the UTC times of the
    first and last failure (for which periods the logs cover) and the successful deliveries
    {(UTC day "YYYY-MM-DD", recipient domain, relay host): count} (Postfix and Exim count them)."""
    rows = []
    for f in stats:
        row = {**f.as_dict(), "deliveries": dict(f.deliveries)}
        for name in ("first_time", "last_time"):
            us = getattr(f, name)
            row[name] = None if us is None else datetime.fromtimestamp(us / 1e6, tz=timezone.utc)
        rows.append(row)
    return rows


def build_reports(failures: pa.Table | pd.DataFrame, files: list[dict], skipped: list[dict], out: Path,
                  opts: ReportOptions, categories: dict[str, Category]) -> Path:
    """Write the report(s) under `out`; returns the path of the page to open first (index.html).
    The failure table is held in memory; build_streamed() writes the same reports from Parquet."""
    opts.check()
    _check_out(out, opts.force)
    raw = failures.to_pandas() if isinstance(failures, pa.Table) else failures.copy()
    untimed = int(raw["time"].isna().sum())  # no period can hold these: counted on the index
    raw = raw.loc[in_window(pd.to_datetime(raw["time"], utc=True), opts.since, opts.until)].reset_index(drop=True)
    redactor = Redactor(ips=opts.redact_ips) if opts.redact else None
    if redactor is not None:
        raw = redactor.frame(raw)

    def lines(rows: set[int]) -> dict[int, str]:
        return {r: raw["line"].iat[r] for r in rows}

    def tables(parts: dict) -> None:
        for folder, index in parts.values():
            write_table(_table(raw.loc[index]), folder / "failures.parquet", force=True)

    return _build(raw, untimed, files, skipped, out, opts, categories, redactor, lines, tables)


def build_streamed(source: stream.Source, files: list[dict], skipped: list[dict], out: Path, opts: ReportOptions,
                   categories: dict[str, Category]) -> Path:
    """build_reports() for failures in Parquet files (a store, the spool of a scan), read batch by
    batch: the figures are computed from a narrow frame (reports/stream.py), the log lines a page
    shows are read by row, each period's failures.parquet is copied from the files."""
    opts.check()
    _check_out(out, opts.force)
    redactor = Redactor(ips=opts.redact_ips) if opts.redact else None

    def lines(rows: set[int]) -> dict[int, str]:
        return stream.lines(source, opts, redactor, rows)

    def tables(parts: dict) -> None:
        writers = {start: TableWriter(folder / "failures.parquet", force=True) for start, (folder, _) in parts.items()}
        try:
            starts = None if None in parts else (
                lambda t: bucket(pd.Series(t.to_pandas(), dtype="datetime64[us, UTC]"), opts.period).to_numpy())
            stream.write_periods(source, opts, redactor, starts, writers)
        except BaseException:
            for w in writers.values():
                w.abort()
            raise
        for w in writers.values():
            w.close()

    # (the frame is not bound here: _build lets it go before the failures are copied)
    return _build(*stream.narrow(source, opts, redactor), files, skipped, out, opts, categories, redactor, lines,
                  tables, copy=False)


def _build(raw: pd.DataFrame, untimed: int, files: list[dict], skipped: list[dict], out: Path, opts: ReportOptions,
           categories: dict[str, Category], redactor: Redactor | None, lines, tables, copy: bool = True) -> Path:
    """`raw`: the failures in the window (redacted); `lines(rows)`: the log lines of those rows;
    `tables({period start: (folder, row index)})` writes each period's failures.parquet."""
    deliveries = _deliveries(files)
    if redactor is not None:
        files = [_redact_file(f, redactor) for f in files]
        skipped = [{**s, "reason": redactor.skip_reason(s["reason"])} for s in skipped]
        if deliveries is not None and opts.redact_ips:  # relay hosts can be IPs: same pseudonyms
            deliveries["relay_host"] = deliveries["relay_host"].map(redactor.text)
    df = as_frame(raw, copy=copy)
    del raw
    msg = Messages(opts.lang)
    first, last = _coverage(df, files, opts)
    # Sections and message outcomes over the whole window at once: a message deferred one day and
    # bounced the next is one message, counted in the period of its final failure.
    outcomes.add_columns(df, families(categories), last)
    ctx = {"files": files, "skipped": skipped, "opts": opts, "msg": msg, "categories": categories,
           "deliveries": deliveries}
    if opts.period is None:
        now = datetime.now(timezone.utc)
        period = Period("all", first or now, (last or now) + timedelta(microseconds=1))  # end exclusive
        ctx["covered"] = []
        page = _summarize_period(df, df.index, period, None, ctx, nav={})
        _fill_lines([page], lines)
        _render_period(page, ctx, out)
        index = df.index
        del df  # not held while the failures are copied
        tables({None: (out, index)})
        return out / "index.html"

    periods = periods_between(first, last, opts.period) if first is not None else []
    starts = bucket(df["time"], opts.period)
    positions = starts.groupby(starts).indices  # period start -> row positions (df has a RangeIndex)
    rows, pages, previous = [], [], None
    ctx["covered"] = spans(files, opts)
    for i, p in enumerate(periods):
        index = pd.Index(positions.get(pd.Timestamp(p.start), []), dtype="int64")
        nav = {"prev": periods[i - 1].label if i else None,
               "next": periods[i + 1].label if i + 1 < len(periods) else None}
        page = _summarize_period(df, index, p, previous, ctx, nav)
        summary, cov = page["summary"], page["coverage"]
        rows.append({"period": p, "totals": summary.totals, "deltas": page["deltas"], "coverage": cov,
                     "top": summary.problems[0] if summary.problems else None, "new": len(page["new"]),
                     "stopped": len(page["stopped"])})
        previous = summary
        previous.coverage = cov
        pages.append((page, out / p.label, index))
    _fill_lines([page for page, _, _ in pages], lines)
    for page, folder, _ in pages:
        _render_period(page, ctx, folder)
    chart = category_chart(df["time"], df["category"], periods[0].start, periods[-1].end,
                           unit=opts.period, other_label=msg("other"), families=families(categories)) if periods else None
    del df, positions, starts  # not held while the failures are copied
    tables({pd.Timestamp(p.start): (folder, index) for p, (_, folder, index) in zip(periods, pages, strict=True)})
    page = html.render_index(rows, chart, ctx, first, last, untimed)
    html.write_report(page, out)
    return out / "index.html"


# What reports/causes.py reads: the rows it gets are copied with these columns only.
CAUSE_COLUMNS = ["category", "client", "client_ip", "client_host", "relay", "smtp_stage", "sasl_username", "sender",
                 "direction", "source", "host", "source_file", "time", "where", "diagnostic"]


def _summarize_period(df: pd.DataFrame, index: pd.Index, period: Period, previous: Summary | None, ctx: dict,
                      nav: dict) -> dict[str, Any]:
    """Everything one period's page shows, but the log lines of its samples (see _fill_lines)."""
    opts, categories, msg = ctx["opts"], ctx["categories"], ctx["msg"]
    part = df if period.kind == "all" else df.loc[index]  # (nothing below changes it)
    delivered = ctx["deliveries"]
    if delivered is not None:
        days = delivered["day"]
        delivered = delivered[(days >= period.start.strftime("%Y-%m-%d")) & (days < period.end.strftime("%Y-%m-%d"))
                              if period.kind != "all" else days.notna()]
    summary = summarize(part, categories, opts.lang, delivered)
    new, stopped = new_and_stopped(summary.problems, previous.problems if previous else None)
    cov = coverage(period, ctx["covered"])
    # The chart spans the time the logs cover in this period, not the whole calendar period.
    shown = (cov["start"] or period.start, cov["end"] or period.end) if cov["partial"] else (period.start, period.end)
    if period.kind == "all" and not part.empty:
        shown = (part["time"].min(), part["time"].max())
    end = max(shown[1], part["time"].max()) + timedelta(microseconds=1) if not part.empty else shown[1]  # [start, end)
    chart = category_chart(part["time"], part["category"], shown[0], end, unit={"day": "hour", "week": "day", "month": "day"}.get(period.kind),
                           other_label=msg("other"), families=families(categories))
    before = getattr(previous, "coverage", None) if previous is not None else None
    per_hour = cov["partial"] or bool(before and before["partial"])
    compared = previous is not None and not (per_hour and not (cov["hours"] and before and before["hours"]))
    d = deltas(summary.totals, previous.totals if compared else None,
               *((cov["hours"], before["hours"]) if per_hour and compared else (None, None)))
    cov["compare_per_hour"] = per_hour
    sent = part["section"].isin(("outbound", "submission"))
    return {"summary": summary, "period": period, "deltas": d, "coverage": cov, "fix_first": fix_first(summary.problems),
            "has_previous": compared, "new": new, "stopped": stopped,
            "causes": leading_causes(part.loc[sent, CAUSE_COLUMNS], categories, opts.lang),
            "defence": inbound_defence(part.loc[part["section"] == "inbound", CAUSE_COLUMNS], categories, opts.lang),
            "chart": chart, "nav": nav}


def _fill_lines(pages: list[dict], lines) -> None:
    """The log lines of every sample and unknown example the pages show, read at once by row."""
    shown = [x for page in pages for x in (*page["summary"].unknown_examples,
                                          *(s for p in page["summary"].problems for s in p["samples"]))]
    found = lines({x["row"] for x in shown})
    for x in shown:
        x["line"] = found.get(x["row"])


def _render_period(page: dict, ctx: dict, folder: Path) -> None:
    out = html.render_report(**page, detailed=DETAILED_PROBLEMS, listed=LISTED_PROBLEMS, ctx=ctx)
    html.write_report(out, folder)
    export_problems(page["summary"].problems, folder)


PARTIAL_SLACK = timedelta(minutes=30)  # a log that starts or ends this close to a boundary covers it


def spans(files: list[dict], opts: ReportOptions) -> list[tuple[datetime, datetime]]:
    """The stretches of time the logs cover, merged: each file from its first to its last failure
    (FileStats.first_time/last_time: the parsers record the times of failures only), and each UTC
    day outside that stretch it delivered on (delivery counts are per day), clipped to
    --since/--until."""
    raw = [(f["first_time"], f["last_time"]) for f in files
           if f.get("first_time") is not None and f.get("last_time") is not None]
    # A day with deliveries counts whole only where no file's failures tell more about it (a log
    # without failures, a quiet day inside a longer file): the parsers record no other line times.
    timed = set()
    for a, b in raw:
        timed |= {d.date() for d in pd.date_range(a.date(), b.date(), freq="D")}
    for f in files:
        for day in {d for (d, _, _) in f.get("deliveries", {})}:
            start = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
            first, last = f.get("first_time"), f.get("last_time")
            inside = first is not None and last is not None and first.date() < start.date() < last.date()
            if inside or start.date() not in timed:
                raw.append((start, start + timedelta(days=1)))
    lo = opts.since or datetime.min.replace(tzinfo=timezone.utc)
    hi = opts.until or datetime.max.replace(tzinfo=timezone.utc)
    merged: list[list[datetime]] = []
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in raw):
        if a > b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def coverage(period: Period, covered: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    """How much of a period the logs cover: `partial` when less than all of it (by more than
    PARTIAL_SLACK), with the hours covered (0: no log reaches into it) and the covered stretch."""
    total = (period.end - period.start).total_seconds() / 3600
    whole = {"partial": False, "hours": total, "total_hours": total, "start": period.start, "end": period.end}
    if period.kind == "all" or not covered:
        return whole
    parts = [(max(a, period.start), min(b, period.end)) for a, b in covered if b >= period.start and a < period.end]
    # From the first to the last moment covered: the gaps between one file's failures and the
    # next file's are not gaps in the log.
    seconds = (parts[-1][1] - parts[0][0]).total_seconds() if parts else 0.0
    if (period.end - period.start).total_seconds() - seconds <= PARTIAL_SLACK.total_seconds():
        return whole
    return {"partial": True, "hours": seconds / 3600, "total_hours": total,
            "start": parts[0][0] if parts else None, "end": parts[-1][1] if parts else None}


def fix_first(problems: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The leading outbound problem (mail lost or delayed), else the leading submission one; with
    the first step of its remediation."""
    for section in ("outbound", "submission"):
        ranked = [p for p in problems if p["section"] == section]
        hurt = [p for p in ranked if p["lost"] or p["delayed"]]
        if hurt:
            return {**hurt[0], "step": remedies.first_step(hurt[0]["remediation"])}
    return None


def _table(raw: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(raw[list(schema.FIELD_NAMES)], schema=schema.plain_arrow_schema(),
                                preserve_index=False)


PROBLEM_FIELDS = ("rank", "section", "status", "category", "title", "last_deferral", "rule_id", "key", "signature",
                  "lost", "delayed", "other", "failures", "recipients", "domains", "clients", "sources", "first", "last",
                  "days_active", "samples", "remediation")


def export_problems(problems: list[dict[str, Any]], folder: Path) -> None:
    """The recurring-problem table, every problem, as problems.csv and problems.json; `rank` is the
    problem's place in its section (outbound, submission, inbound, local)."""
    records = []
    place: dict[str, int] = {}
    for p in problems:
        place[p["section"]] = place.get(p["section"], 0) + 1
        r = {k: p.get(k, "") for k in PROBLEM_FIELDS if k != "rank"}
        r = {"rank": place[p["section"]], **r, "first": p["first"].isoformat(), "last": p["last"].isoformat(),
             "samples": [f"{s['where']}: {s['line']}" for s in p["samples"]],
             "remediation": [(f"{g['software']}: " if g["software"] else "") + step
                             for g in p["remediation"] for step in g["steps"]]}
        records.append(r)
    _atomic(folder / "problems.json", json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=PROBLEM_FIELDS)
    w.writeheader()
    for r in records:
        w.writerow({**r, "samples": "\n".join(r["samples"]), "remediation": "\n".join(r["remediation"]),
                    "sources": " ".join(f"{k}={v}" for k, v in r["sources"].items())})
    _atomic(folder / "problems.csv", buf.getvalue())


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc


def _check_out(out: Path, force: bool) -> None:
    index = out / "index.html"
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is not a folder", hint="choose another --out")
    if index.exists() and not force:
        raise OutputError(f"{index} exists; not overwriting it", hint="pass --force, or choose another --out")


def _coverage(df: pd.DataFrame, files: list[dict], opts: ReportOptions):
    """First and last moment the logs cover, clipped to the window: the times of the first and last
    failure (FileStats.first_time/last_time) and the UTC days with successful deliveries (Postfix
    and Exim count them), so a day that only delivered still gets its report. A stretch without
    either (a client log's quiet days) is not covered."""
    times = [t for f in files for t in (f.get("first_time"), f.get("last_time")) if t is not None]
    days = {day for f in files for (day, _, _) in f.get("deliveries", {})}
    times += [datetime.fromisoformat(d).replace(tzinfo=timezone.utc) for d in days]
    if not df.empty:
        times += [df["time"].min().to_pydatetime(), df["time"].max().to_pydatetime()]
    if not times:
        return None, None
    first, last = min(times), max(times)
    if opts.since is not None:
        first = max(first, opts.since)
    if opts.until is not None:
        last = min(last, opts.until - pd.Timedelta(microseconds=1))
    return (first, last) if first <= last else (None, None)


def _deliveries(files: list[dict]) -> pd.DataFrame | None:
    """All files' delivery counts as one frame; None when no file recorded a delivery (no server
    log, or statistics without counts): then no failure rate is shown rather than a made-up 100 %."""
    rows = [(day, domain, relay, n) for f in files if f.get("format") in DELIVERY_SOURCES
            for (day, domain, relay), n in f.get("deliveries", {}).items()]
    if not rows:  # no server log, or one that recorded no delivery at all (or stats without counts)
        return None
    frame = pd.DataFrame(rows, columns=["day", "recipient_domain", "relay_host", "delivered"])
    return frame.groupby(["day", "recipient_domain", "relay_host"], as_index=False)["delivered"].sum()


def _redact_file(f: dict, redactor: Redactor) -> dict:
    return {**f, "unparsed_examples": [{**u, "line": redactor.text(u["line"])} for u in f["unparsed_examples"]],
            "deliveries": {}}  # counted above, before redaction
