"""`scan --metrics FILE`: a Prometheus textfile (node_exporter's textfile collector) for the
monitoring people already run.

Gauges, rewritten by every run (atomically: a scrape never sees half a file):
  logscan_run_timestamp_seconds                  when this run ended
  logscan_run_lines / logscan_run_unparsed_lines what this run read
  logscan_run_new_failures{family,category,direction,host}   failures new in this run
  logscan_failures_24h{family,category,direction,host}       with --store: failures of the last 24 h
  logscan_failures_24h_by_domain{recipient_domain}           the same, top 10 recipient domains + "other"
  logscan_failures_24h_by_relay{relay_host}                  the same, top 10 relay hosts + "other"
  logscan_fail_on_limit / logscan_fail_on_new_failures / logscan_fail_on_exceeded {name}   --fail-on
Labels are bounded: no address, at most MAX_HOSTS hosts and TOP_DOMAINS domains (the rest "other"),
every value cut to 100 characters and escaped as the text format wants (log text is attacker's text).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OutputError

if TYPE_CHECKING:
    import pyarrow as pa

    from .engine import Category
    from .thresholds import Threshold

MAX_HOSTS = 50
TOP_DOMAINS = 10
GROUP = ("category", "direction", "host")


class MetricsCounter:
    """A sink: counts classified failures by category, direction and host as batches pass."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, table: pa.Table) -> None:
        self.counts.update(_groups(table))


def _groups(table: pa.Table) -> Counter:
    cols = [table.column(c).to_pylist() for c in GROUP]
    return Counter(zip(*cols, strict=True))


def _label(value: Any) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text[:100])
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _bounded(counts: Counter) -> Counter:
    """At most MAX_HOSTS hosts (those with the most failures); the rest under host="other"."""
    per_host: Counter = Counter()
    for (_, _, host), n in counts.items():
        per_host[host] += n
    keep = {h for h, _ in per_host.most_common(MAX_HOSTS)}
    out: Counter = Counter()
    for (cat, direction, host), n in counts.items():
        out[(cat, direction, host if host in keep else "other")] += n
    return out


def last_day(store: Path, now: datetime) -> tuple[Counter, Counter, Counter]:
    """Failures of the last 24 hours in a store: by (category, direction, host), by recipient domain
    and by relay host. Reads only the day partitions of those 24 hours."""
    import pyarrow.compute as pc

    from .store import read_failures

    since = now - timedelta(hours=24)
    table = read_failures(store, since, now + timedelta(seconds=1)).table
    def counts(name: str) -> Counter:
        return Counter({d["values"]: d["counts"] for d in pc.value_counts(table.column(name)).to_pylist()})

    return _groups(table), counts("recipient_domain"), counts("relay_host")


def render(run: Counter, lines: int, unparsed: int, categories: dict[str, Category],
           thresholds: list[Threshold] = (), day: tuple[Counter, Counter, Counter] | None = None,
           now: float | None = None) -> str:
    out: list[str] = []

    def gauge(name: str, help_: str, samples: list[tuple[dict[str, Any], float]]) -> None:
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            number = str(int(value)) if float(value).is_integer() else repr(float(value))
            out.append(f"{name}{{{inner}}} {number}" if inner else f"{name} {number}")

    def by_group(counts: Counter) -> list[tuple[dict[str, Any], float]]:
        return [({"family": categories[c].family if c in categories else "other", "category": c,
                  "direction": d, "host": h}, n) for (c, d, h), n in sorted(_bounded(counts).items(), key=str)]

    gauge("logscan_run_timestamp_seconds", "When the last logscan run ended (Unix time).",
          [({}, round(now if now is not None else time.time(), 3))])
    gauge("logscan_run_lines", "Log lines the last run read.", [({}, lines)])
    gauge("logscan_run_unparsed_lines", "Lines the last run could not read as any known line.", [({}, unparsed)])
    gauge("logscan_run_new_failures", "Failures new in the last run, by root cause, direction and host.",
          by_group(run))
    def top(counts: Counter, label: str) -> list[tuple[dict[str, Any], float]]:
        most = counts.most_common(TOP_DOMAINS)
        rest = sum(counts.values()) - sum(n for _, n in most)
        return [({label: v or "(none)"}, n) for v, n in most] + ([({label: "other"}, rest)] if rest else [])

    if day is not None:
        groups, domains, relays = day
        gauge("logscan_failures_24h", "Failures in the store over the last 24 hours, by root cause, direction and "
                                      "host.", by_group(groups))
        gauge("logscan_failures_24h_by_domain", f"Failures over the last 24 hours by recipient domain (top "
                                                f"{TOP_DOMAINS}, the rest as other).", top(domains, "recipient_domain"))
        gauge("logscan_failures_24h_by_relay", f"Failures over the last 24 hours by relay host (top {TOP_DOMAINS}, "
                                               "the rest as other).", top(relays, "relay_host"))
    if thresholds:
        per_category: Counter = Counter()
        for (c, _, _), n in run.items():
            per_category[c] += n
        new = {t.name: sum(per_category[c] for c in t.members) for t in thresholds}
        gauge("logscan_fail_on_limit", "The --fail-on limit of each threshold.", [({"name": t.name}, t.limit)
                                                                                   for t in thresholds])
        gauge("logscan_fail_on_new_failures", "New failures the threshold counts in the last run.",
              [({"name": t.name}, new[t.name]) for t in thresholds])
        gauge("logscan_fail_on_exceeded", "1 when the last run exceeded the threshold.",
              [({"name": t.name}, int(new[t.name] > t.limit)) for t in thresholds])
    return "\n".join(out) + "\n"


def check_target(path: Path) -> None:
    """Before a scan: the folder must exist and be writable (the file is written beside, then renamed)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"--metrics {path} is a folder", hint="give a file name, e.g. "
                                                              "/var/lib/node_exporter/textfile_collector/logscan.prom")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write --metrics {path}: its folder {folder} is missing or not writable",
                          hint="create the folder, or give a path in one you can write")


def write(path: Path, text: str) -> None:
    """Write atomically: a temporary name the collector ignores (not *.prom), then a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write --metrics {path}: {exc.strerror or exc}",
                          hint="check the folder's permissions and free space") from exc


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
