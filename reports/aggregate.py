"""From the failure table to the numbers a report shows: totals, categories, recurring problems.

A recurring problem is one (category, signature) pair: the same root cause with the same reply
text once addresses, IPs and ids are masked. Problems are ranked by failures, then by the number of
distinct recipients they hit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from logscan.engine import Category


@dataclass
class Summary:
    totals: dict[str, Any]
    by_category: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    by_domain: list[dict[str, Any]] = field(default_factory=list)


def _nunique(s: pd.Series) -> int:
    return int(s.dropna().nunique())


def summarize(table: pa.Table, categories: dict[str, Category], top: int = 25) -> Summary:
    df = table.to_pandas()
    n = len(df)
    totals = {
        "failures": n,
        "recipients": _nunique(df["recipient"]) if n else 0,
        "recipient_domains": _nunique(df["recipient_domain"]) if n else 0,
        "senders": _nunique(df["sender"].replace("", pd.NA)) if n else 0,
        "client_ips": _nunique(df["client_ip"]) if n else 0,
        "first": df["time"].min() if n else None,
        "last": df["time"].max() if n else None,
        "unknown": int((df["category"] == "unknown").sum()) if n else 0,
        "outbound": int((df["direction"] == "outbound").sum()) if n else 0,
        "inbound": int((df["direction"] == "inbound").sum()) if n else 0,
    }
    if n == 0:
        return Summary(totals, [], [])

    by_cat = df.groupby("category", observed=True).agg(
        failures=("category", "size"),
        recipients=("recipient", _nunique),
        domains=("recipient_domain", _nunique),
    ).sort_values("failures", ascending=False)
    by_category = [
        {
            "category": cid,
            "title": categories[cid].title if cid in categories else cid,
            "family": categories[cid].family if cid in categories else "other",
            "failures": int(r.failures),
            "share": r.failures / n,
            "recipients": int(r.recipients),
            "domains": int(r.domains),
        }
        for cid, r in by_cat.iterrows()
    ]
    grouped = df.groupby(["category", "signature"], observed=True, sort=False)
    agg = grouped.agg(
        failures=("signature", "size"),
        recipients=("recipient", _nunique),
        domains=("recipient_domain", _nunique),
        clients=("client_ip", _nunique),
        first=("time", "min"),
        last=("time", "max"),
        rule_id=("rule_id", "first"),
    ).reset_index().sort_values(["failures", "recipients"], ascending=False).head(top)
    problems = []
    for r in agg.itertuples(index=False):
        rows = df[(df["category"] == r.category) & (df["signature"] == r.signature)]
        example = rows.iloc[-1]
        cat = categories.get(r.category)
        problems.append({
            "category": r.category,
            "title": cat.title if cat else r.category,
            "signature": r.signature,
            "failures": int(r.failures),
            "recipients": int(r.recipients),
            "domains": int(r.domains),
            "clients": int(r.clients),
            "top_domains": rows["recipient_domain"].dropna().value_counts().head(5).to_dict(),
            "events": rows["event"].value_counts().to_dict(),
            "first": r.first,
            "last": r.last,
            "rule_id": r.rule_id if isinstance(r.rule_id, str) else "",
            "example_line": example["line"],
            "example_where": f"{example['source_file']}:{example['line_no']}",
            "remediation": list(cat.remediation) if cat else [],
        })
    dom = df[df["recipient_domain"].notna()].groupby("recipient_domain", observed=True).agg(
        failures=("recipient_domain", "size"), recipients=("recipient", _nunique),
        top_category=("category", lambda s: s.value_counts().index[0]),
    ).sort_values("failures", ascending=False).head(15)
    by_domain = [{"domain": d, "failures": int(r.failures), "recipients": int(r.recipients),
                  "top_category": r.top_category} for d, r in dom.iterrows()]
    return Summary(totals, by_category, problems, by_domain)


class Tally:
    """Counts classified failure batches as they stream past, for the `scan` summary: memory
    follows the number of distinct problems, not the number of failures."""

    def __init__(self) -> None:
        self.failures = 0
        self.by_category: Counter = Counter()
        self.by_problem: Counter = Counter()
        self.rule_of: dict[tuple[str, str], str] = {}

    def add(self, table: pa.Table) -> None:
        self.failures += table.num_rows
        cats = table.column("category").to_pylist()
        sigs = table.column("signature").to_pylist()
        rules = table.column("rule_id").to_pylist()
        self.by_category.update(cats)
        keys = list(zip(cats, sigs, strict=True))
        self.by_problem.update(keys)
        for key, rule in zip(keys, rules, strict=True):
            self.rule_of.setdefault(key, rule or "")

    def categories(self, categories: dict[str, Category]) -> list[dict[str, Any]]:
        return [
            {"category": c, "title": categories[c].title if c in categories else c, "failures": n,
             "share": n / self.failures}
            for c, n in self.by_category.most_common()
        ]

    def problems(self, top: int) -> list[dict[str, Any]]:
        return [
            {"category": c, "signature": s, "failures": n, "rule_id": self.rule_of.get((c, s), "")}
            for (c, s), n in self.by_problem.most_common(top)
        ]
