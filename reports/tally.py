"""The `scan` summary's counts: classified failure batches are counted as they stream past. The
problems are ranked as the report ranks them (outcomes.rank(): mail lost, then delayed, then the
rest), which needs each failure's message: the few columns that takes are kept (about 100 bytes
a failure). Kept apart from aggregate.py so that a `scan` (a cron run with nothing new, too) does
not load pandas: only a summary with failures to rank does."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: a run with nothing new loads neither pyarrow nor the rules
    import pyarrow as pa

    from logscan.engine import Category


# What outcomes.add_columns() and rank() read.
COLUMNS = ("time", "host", "source", "event", "direction", "queue_id", "recipient", "recipient_domain", "client_ip",
           "category", "last_deferral_category", "signature", "rule_id", "source_file", "line_no")


class Tally:
    """Counts classified failure batches as they stream past, for the `scan` summary: memory
    follows the number of distinct problems, not the number of failures."""

    def __init__(self) -> None:
        self.failures = 0
        self.by_category: Counter = Counter()
        self.by_problem: Counter = Counter()
        self.rule_of: dict[tuple[str, str], str] = {}
        self.deferral_of: dict[tuple[str, str], str] = {}
        self._parts: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        self.failures += table.num_rows
        self._parts.append(table.select(list(COLUMNS)))
        cats = table.column("category").to_pylist()
        sigs = table.column("signature").to_pylist()
        rules = table.column("rule_id").to_pylist()
        self.by_category.update(cats)
        keys = list(zip(cats, sigs, strict=True))
        self.by_problem.update(keys)
        deferrals = table.column("last_deferral_category").to_pylist()
        for key, rule, deferral in zip(keys, rules, deferrals, strict=True):
            self.rule_of.setdefault(key, rule or "")
            if deferral:
                self.deferral_of.setdefault(key, deferral)

    def categories(self, categories: dict[str, Category]) -> list[dict[str, Any]]:
        return [
            {"category": c, "title": categories[c].title if c in categories else c, "failures": n,
             "share": n / self.failures}
            for c, n in self.by_category.most_common()
        ]

    def problems(self, top: int, categories: dict[str, Category], end=None) -> dict[str, list[dict[str, Any]]]:
        """Per section, its `top` problems in the report's ranking, with their impact. `end`: the
        end of the log (a deferral newer than the retry interval is still deferred)."""
        if not self.failures:
            return {}
        import pandas as pd
        import pyarrow as pa

        from logscan.reports import outcomes

        df = pa.concat_tables(self._parts, promote_options="permissive").to_pandas()
        for name in df.columns:
            if isinstance(df[name].dtype, pd.CategoricalDtype):
                df[name] = df[name].astype(object)
        df["time"] = pd.to_datetime(df["time"], utc=True)
        df["where"] = df["source_file"].astype(str) + ":" + df["line_no"].astype(str)
        df["signature"] = df["signature"].fillna("")
        outcomes.add_columns(df, {cid: c.family for cid, c in categories.items()}, end)
        ranked = outcomes.rank(df)
        first = df.groupby(outcomes.PROBLEM, sort=False).agg(rule_id=("rule_id", "first"), signature=("signature", "first"))
        out: dict[str, list[dict[str, Any]]] = {section: [] for section in outcomes.SECTIONS}
        for r in ranked.itertuples(index=False):
            rows = out.setdefault(r.section, [])
            if len(rows) < top:
                f = first.loc[(r.section, r.cause, r.problem_key)]
                rows.append({"category": r.cause, "key": r.problem_key, "signature": f.signature,
                             "rule_id": f.rule_id if isinstance(f.rule_id, str) else "", "failures": int(r.failures),
                             "lost": int(r.lost), "delayed": int(r.delayed), "other": int(r.other)})
        return {section: rows for section, rows in out.items() if rows}
