"""From the failure table to the numbers a report shows: totals, categories, recurring problems.

A recurring problem is one (section, cause, reply key): the same root cause with the same reply
(addresses, IPs and ids masked; one provider reply whichever program quoted it) in one section;
an expired message belongs to the problem of its last deferral. Ranked by outcomes.rank().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from logscan.engine import Category
from logscan.parsers.base import formats_where
from logscan.reports import outcomes, remedies
from logscan.reports.causes import is_brute_force


@dataclass
class Summary:
    """What one report shows about one period's failures."""

    totals: dict[str, Any]
    by_category: list[dict[str, Any]]
    problems: list[dict[str, Any]]  # every recurring problem, ranked by impact
    breakdowns: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_examples: list[dict[str, Any]] = field(default_factory=list)
    coverage: dict[str, Any] | None = None  # how much of its period the logs cover (build.coverage)


# Breakdown tables: name -> the column (derived below where needed) they group by.
BREAKDOWNS = ("recipient_domain", "relay_host", "sender", "sasl_username", "client", "source_file", "host")
BREAKDOWN_ROWS = 10
SAMPLE_LINES = 3


def _nunique(s: pd.Series) -> int:
    return int(s.dropna().nunique())


def as_frame(failures: pa.Table | pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """The failure table as pandas, with the derived columns the report groups by. Takes a pyarrow
    Table or a frame, so a stored dataset can feed a report as well as a fresh scan. copy=False:
    a frame is changed in place (one the caller no longer needs)."""
    df = failures.to_pandas() if isinstance(failures, pa.Table) else failures.copy() if copy else failures
    for name in ("recipient_domain", "relay_host", "host", "source_file", "category", "rule_id", "event",
                 "last_deferral_category"):
        if isinstance(df[name].dtype, pd.CategoricalDtype):
            df[name] = df[name].astype(object)
    df["time"] = pd.to_datetime(df["time"], utc=True)
    # host:port made once per distinct pair (groups numbered in order of first appearance), not a
    # new string a row
    pair = pd.DataFrame({"h": df["relay_host"].astype(object), "p": df["relay_port"].astype("Int64")})
    codes = pair.groupby(["h", "p"], sort=False, dropna=False).ngroup().to_numpy()
    first = pair[~pd.Series(codes).duplicated().to_numpy()]
    names = (first["h"].astype("string") + (":" + first["p"].astype("string")).fillna("")).astype(object).to_numpy()
    df["relay"] = pd.Series(names[codes], index=df.index, dtype=object)
    ip = df["client_ip"].astype("string")
    df["client"] = df["client_host"].astype("string").fillna("?").str.cat(" [" + ip + "]", na_rep="")
    df.loc[df["client_host"].isna() & df["client_ip"].isna(), "client"] = pd.NA
    df["day"] = df["time"].dt.floor("D")
    df["where"] = df["source_file"].astype(str) + ":" + df["line_no"].astype(str)
    df["signature"] = df["signature"].fillna("")
    df["sender"] = df["sender"].replace("", "<>")  # the null sender of bounces, made visible
    return df


# Logs that record successful deliveries too (FileStats.deliveries): failure rates are computed
# over their failures only.
DELIVERY_SOURCES = formats_where(counts_deliveries=True)  # (from the parsers' traits)


def families(categories: dict[str, Category]) -> dict[str, str]:
    return {cid: c.family for cid, c in categories.items()}


def summarize(failures: pa.Table | pd.DataFrame, categories: dict[str, Category], lang: str = "en",
              deliveries: pd.DataFrame | None = None) -> Summary:
    """`deliveries` (columns recipient_domain, relay_host, delivered), when the logs count them,
    adds failure rates: failed attempts / (failed attempts + deliveries), for Postfix and Exim."""
    df = failures if isinstance(failures, pd.DataFrame) and "where" in failures else as_frame(failures)
    if "section" not in df:
        outcomes.add_columns(df, families(categories), None)
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
        # Every failure is in exactly one section: these add up to "failures".
        "sections": {sec: int((df["section"] == sec).sum()) for sec in outcomes.SECTIONS},
        "messages": outcomes.message_view(df),
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
    # "line" is filled in by the builder (build._fill_lines), from "row", the failure's position
    unknown_examples = [{"diagnostic": r.diagnostic, "line": r.line, "where": r.where, "row": int(r.Index)}
                        for r in unknown[["diagnostic", "line", "where"]].itertuples()]
    breakdowns = {name: breakdown(df, name, title) for name in BREAKDOWNS}
    if deliveries is not None:
        for name in ("recipient_domain", "relay_host"):
            add_rates(breakdowns[name], df, deliveries, name)
    return Summary(totals, by_category, problems(df, categories, lang), breakdowns, unknown_examples)


def problems(df: pd.DataFrame, categories: dict[str, Category], lang: str = "en") -> list[dict[str, Any]]:
    """Recurring problems, ranked by outcomes.rank(): mail lost, then delayed, then the rest. A
    problem is one (section, category, reply key): the same cause and the same reply in one
    direction, whichever program logged it."""
    ranked = outcomes.rank(df)
    grouped = df.groupby(outcomes.PROBLEM, sort=False, dropna=False)
    agg = grouped.agg(
        recipients=("recipient", "nunique"),
        domains=("recipient_domain", "nunique"),
        clients=("client_ip", "nunique"),
        first=("time", "min"),
        days=("day", "nunique"),
        rule_id=("rule_id", "first"),
    )
    events = _counts_per_problem(df, "event")
    domains = _counts_per_problem(df, "recipient_domain", 5)
    deferrals = _counts_per_problem(df, "last_deferral_category", 1)
    signatures = _counts_per_problem(df, "signature", 1)
    software = _counts_per_problem(df, "source")
    samples = _samples_per_problem(df)
    out = []
    for r in ranked.itertuples(index=False):
        k = (r.section, r.cause, r.problem_key)
        a = agg.loc[k]
        cat = categories.get(r.cause)
        # Expired messages are part of the problem that kept them deferred (its cause and reply).
        cause_id = next(iter(deferrals.get(k, {})), "")
        cause = categories.get(cause_id)
        sources = software.get(k, {})
        out.append({
            "section": r.section,
            "category": r.cause,
            "family": cat.family if cat else "other",
            "title": cat.text("title", lang) if cat else r.cause,
            "key": r.problem_key,
            "signature": next(iter(signatures.get(k, {})), ""),
            "failures": int(r.failures),
            "lost": int(r.lost),
            "delayed": int(r.delayed),
            "other": int(r.other),
            "impact": int(r.lost + r.delayed + r.other),
            "recipients": int(a.recipients),
            "domains": int(a.domains),
            "clients": int(a.clients),
            "top_domains": domains.get(k, {}),
            "events": events.get(k, {}),
            "sources": sources,
            "first": a["first"],
            "last": r.last,
            "days_active": int(a.days),
            "rule_id": a.rule_id if isinstance(a.rule_id, str) else "",
            "samples": samples.get(k, []),
            "last_deferral": cause_id,
            "last_deferral_title": cause.text("title", lang) if cause else "",
            "brute_force": r.section == "inbound" and (cat.family if cat else "") == "auth"
            and is_brute_force(int(r.failures), int(a.clients)),
            "remediation": remedies.steps(cat, r.section, sources, lang),
        })
    return out


def _counts_per_problem(df: pd.DataFrame, column: str, top: int | None = None) -> dict[tuple, dict[str, int]]:
    """(section, category, key) -> {value: count}, largest first: one groupby for all problems (a loop
    over problems would cost per problem, and real logs can hold thousands)."""
    counts = df.groupby([*outcomes.PROBLEM, column], sort=False, dropna=True, observed=True).size()
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    out: dict[tuple, dict[str, int]] = {}
    for (sec, cat, key, value), n in counts.items():
        bucket = out.setdefault((sec, cat, key), {})
        if top is None or len(bucket) < top:
            bucket[value] = int(n)
    return out


def _samples_per_problem(df: pd.DataFrame) -> dict[tuple, list[dict[str, str]]]:
    """Up to SAMPLE_LINES evidence lines per problem: its first, middle and last failure."""
    ordered = df[[*outcomes.PROBLEM, "time", "where", "line"]].sort_values("time", kind="stable")
    g = ordered.groupby(outcomes.PROBLEM, sort=False, dropna=False)
    nth, size = g.cumcount(), g["time"].transform("size")
    picked = ordered[(nth == 0) | (nth == size // 2) | (nth == size - 1)]
    out: dict[tuple, list[dict[str, str]]] = {}
    for r in picked.itertuples():
        out.setdefault((r.section, r.cause, r.problem_key), []).append({"where": r.where, "line": r.line,
                                                                       "row": int(r.Index)})
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
    have = df.loc[df[column].notna(), [column, "recipient", "time", "category"]]  # not a copy of every column
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
