"""From the failure table to the numbers a report shows: totals, categories, recurring problems.

A recurring problem is one (category, signature) pair: the same root cause with the same reply
text once addresses, IPs and ids are masked. Problems are ranked by impact (see problems()).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from logscan.engine import Category


@dataclass
class Summary:
    """What one report shows about one period's failures."""

    totals: dict[str, Any]
    by_category: list[dict[str, Any]]
    problems: list[dict[str, Any]]  # every recurring problem, ranked by impact
    breakdowns: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_examples: list[dict[str, Any]] = field(default_factory=list)


# Breakdown tables: name -> the column (derived below where needed) they group by.
BREAKDOWNS = ("recipient_domain", "relay_host", "sender", "sasl_username", "client", "source_file", "host")
BREAKDOWN_ROWS = 10
SAMPLE_LINES = 3


def _nunique(s: pd.Series) -> int:
    return int(s.dropna().nunique())


def as_frame(failures: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """The failure table as pandas, with the derived columns the report groups by. Takes a pyarrow
    Table or a frame, so a stored dataset can feed a report as well as a fresh scan."""
    df = failures.to_pandas() if isinstance(failures, pa.Table) else failures.copy()
    for name in ("recipient_domain", "relay_host", "host", "source_file", "category", "rule_id", "event",
                 "last_deferral_category"):
        if isinstance(df[name].dtype, pd.CategoricalDtype):
            df[name] = df[name].astype(object)
    df["time"] = pd.to_datetime(df["time"], utc=True)
    port = df["relay_port"].astype("Int64").astype("string")
    df["relay"] = (df["relay_host"].astype("string") + (":" + port).fillna("")).astype(object)
    ip = df["client_ip"].astype("string")
    df["client"] = df["client_host"].astype("string").fillna("?").str.cat(" [" + ip + "]", na_rep="")
    df.loc[df["client_host"].isna() & df["client_ip"].isna(), "client"] = pd.NA
    df["day"] = df["time"].dt.floor("D")
    df["where"] = df["source_file"].astype(str) + ":" + df["line_no"].astype(str)
    # What a failure hurts: its recipient, else the client that failed, else the failure itself.
    df["target"] = df["recipient"].astype(object).fillna(df["client_ip"].astype(object)).fillna(df["where"])
    df["signature"] = df["signature"].fillna("")
    df["sender"] = df["sender"].replace("", "<>")  # the null sender of bounces, made visible
    return df


# Logs that record successful deliveries too (FileStats.deliveries): failure rates are computed
# over their failures only.
DELIVERY_SOURCES = ("postfix", "exim", "sendmail")


def summarize(failures: pa.Table | pd.DataFrame, categories: dict[str, Category], lang: str = "en",
              deliveries: pd.DataFrame | None = None) -> Summary:
    """`deliveries` (columns recipient_domain, relay_host, delivered), when the logs count them,
    adds failure rates: failed attempts / (failed attempts + deliveries), for Postfix and Exim."""
    df = failures if isinstance(failures, pd.DataFrame) and "target" in failures else as_frame(failures)
    n = len(df)

    def title(cid: str) -> str:
        return categories[cid].text("title", lang) if cid in categories else cid

    totals = {
        "failures": n,
        "recipients": _nunique(df["recipient"]),
        "senders": _nunique(df["sender"][df["sender"] != "<>"]),
        "recipient_domains": _nunique(df["recipient_domain"]),
        "client_ips": _nunique(df["client_ip"]),
        "first": df["time"].min() if n else None,
        "last": df["time"].max() if n else None,
        "unknown": int((df["category"] == "unknown").sum()),
        "outbound": int((df["direction"] == "outbound").sum()),
        "inbound": int((df["direction"] == "inbound").sum()),
    }
    if deliveries is not None:
        server = int(df["source"].astype(str).isin(DELIVERY_SOURCES).sum())
        totals["delivered"] = int(deliveries["delivered"].sum())
        totals["rate"] = server / (server + totals["delivered"]) if server + totals["delivered"] else None
    if n == 0:
        return Summary(totals, [], [])

    by_cat = df.groupby("category", sort=False).agg(
        failures=("category", "size"), recipients=("recipient", "nunique"), domains=("recipient_domain", "nunique"),
    ).sort_values("failures", ascending=False)
    # Expired messages, by the cause of their last deferral (what to fix so the next ones get out).
    deferrals = df.loc[df["category"] == "expired", "last_deferral_category"].value_counts()
    by_category = [
        {"category": cid, "title": title(cid), "family": categories[cid].family if cid in categories else "other",
         "failures": int(r.failures), "share": r.failures / n, "recipients": int(r.recipients),
         "domains": int(r.domains),
         "last_deferrals": [(d, title(d), int(c)) for d, c in deferrals.items()] if cid == "expired" else []}
        for cid, r in by_cat.iterrows()
    ]
    unknown = df[df["category"] == "unknown"].drop_duplicates("signature").tail(5)
    unknown_examples = [{"diagnostic": r.diagnostic, "line": r.line, "where": r.where} for r in unknown.itertuples()]
    breakdowns = {name: breakdown(df, name, title) for name in BREAKDOWNS}
    if deliveries is not None:
        for name in ("recipient_domain", "relay_host"):
            add_rates(breakdowns[name], df, deliveries, name)
    return Summary(totals, by_category, problems(df, categories, lang), breakdowns, unknown_examples)


def problems(df: pd.DataFrame, categories: dict[str, Category], lang: str = "en") -> list[dict[str, Any]]:
    """Recurring problems ranked by impact: distinct targets hit (recipients; for failures without
    one, the client or the failure itself, so a message retried 30 times counts once), then
    failures."""
    grouped = df.groupby(["category", "signature"], sort=False, dropna=False)
    agg = grouped.agg(
        failures=("signature", "size"),
        impact=("target", "nunique"),
        recipients=("recipient", "nunique"),
        domains=("recipient_domain", "nunique"),
        clients=("client_ip", "nunique"),
        first=("time", "min"),
        last=("time", "max"),
        days=("day", "nunique"),
        rule_id=("rule_id", "first"),
    ).reset_index().sort_values(["impact", "failures", "last"], ascending=False)
    events = _counts_per_problem(df, "event")
    domains = _counts_per_problem(df, "recipient_domain", 5)
    deferrals = _counts_per_problem(df, "last_deferral_category", 1)
    samples = _samples_per_problem(df)
    out = []
    for r in agg.itertuples(index=False):
        k = (r.category, r.signature)
        cat = categories.get(r.category)
        # An expired message: its last deferral is what to fix, so that cause's steps come first.
        cause_id = next(iter(deferrals.get(k, {})), "")
        cause = categories.get(cause_id)
        remediation = (list(cause.text("remediation", lang)) if cause else []) + \
            (list(cat.text("remediation", lang)) if cat else [])
        out.append({
            "category": r.category,
            "family": cat.family if cat else "other",
            "title": cat.text("title", lang) if cat else r.category,
            "signature": r.signature if isinstance(r.signature, str) else "",
            "failures": int(r.failures),
            "impact": int(r.impact),
            "recipients": int(r.recipients),
            "domains": int(r.domains),
            "clients": int(r.clients),
            "top_domains": domains.get(k, {}),
            "events": events.get(k, {}),
            "first": r.first,
            "last": r.last,
            "days_active": int(r.days),
            "rule_id": r.rule_id if isinstance(r.rule_id, str) else "",
            "samples": samples.get(k, []),
            "last_deferral": cause_id,
            "last_deferral_title": cause.text("title", lang) if cause else "",
            "remediation": remediation,
        })
    return out


def _counts_per_problem(df: pd.DataFrame, column: str, top: int | None = None) -> dict[tuple, dict[str, int]]:
    """(category, signature) -> {value: count}, largest first: one groupby for all problems (a loop
    over problems would cost per problem, and real logs can hold thousands)."""
    counts = df.groupby(["category", "signature", column], sort=False, dropna=True).size()
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    out: dict[tuple, dict[str, int]] = {}
    for (cat, sig, value), n in counts.items():
        bucket = out.setdefault((cat, sig), {})
        if top is None or len(bucket) < top:
            bucket[value] = int(n)
    return out


def _samples_per_problem(df: pd.DataFrame) -> dict[tuple, list[dict[str, str]]]:
    """Up to SAMPLE_LINES evidence lines per problem: its first, middle and last failure."""
    ordered = df[["category", "signature", "time", "where", "line"]].sort_values("time", kind="stable")
    g = ordered.groupby(["category", "signature"], sort=False, dropna=False)
    nth, size = g.cumcount(), g["time"].transform("size")
    picked = ordered[(nth == 0) | (nth == size // 2) | (nth == size - 1)]
    out: dict[tuple, list[dict[str, str]]] = {}
    for r in picked.itertuples(index=False):
        out.setdefault((r.category, r.signature), []).append({"where": r.where, "line": r.line})
    return out


def add_rates(table: dict[str, Any], df: pd.DataFrame, deliveries: pd.DataFrame, column: str) -> None:
    """Per row of a breakdown: deliveries and the failure rate of Postfix/Exim attempts."""
    delivered = deliveries.groupby(column)["delivered"].sum()
    server = df[df["source"].astype(str).isin(DELIVERY_SOURCES)][column].astype(object).value_counts()
    table["rates"] = True
    for row in table["rows"]:
        ok, bad = int(delivered.get(row["name"], 0)), int(server.get(row["name"], 0))
        row["delivered"] = ok
        row["rate"] = bad / (bad + ok) if bad + ok else None


def breakdown(df: pd.DataFrame, column: str, title) -> dict[str, Any]:
    """Failures grouped by one column: the largest BREAKDOWN_ROWS groups, and how many more."""
    have = df[df[column].notna()]
    if have.empty:
        return {"rows": [], "more": 0, "missing": len(df)}
    g = have.groupby(column, sort=False).agg(
        failures=(column, "size"), recipients=("recipient", "nunique"), last=("time", "max"),
    ).sort_values("failures", ascending=False, kind="stable")
    top = g.head(BREAKDOWN_ROWS)
    # The most frequent category of each shown group, in one groupby (not a function per group:
    # a log with 60,000 recipient domains has as many groups).
    shown = have[have[column].isin(top.index)]
    counts = shown.groupby([column, "category"], sort=False).size().reset_index(name="n")
    leading = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(column).set_index(column)["category"]
    rows = [{"name": str(k), "failures": int(r.failures), "share": r.failures / len(df),
             "recipients": int(r.recipients), "last": r.last, "top_category": leading[k],
             "top_title": title(leading[k])} for k, r in top.iterrows()]
    return {"rows": rows, "more": max(len(g) - BREAKDOWN_ROWS, 0), "missing": len(df) - len(have)}
