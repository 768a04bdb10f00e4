"""The `scan` summary's counts: classified failure batches are counted as they stream past, so
memory follows the number of distinct problems, not the number of failures. Kept apart from
aggregate.py so that a `scan` (a cron run with nothing new, too) does not load pandas."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: a run with nothing new loads neither pyarrow nor the rules
    import pyarrow as pa

    from logscan.engine import Category


class Tally:
    """Counts classified failure batches as they stream past, for the `scan` summary: memory
    follows the number of distinct problems, not the number of failures."""

    def __init__(self) -> None:
        self.failures = 0
        self.by_category: Counter = Counter()
        self.by_problem: Counter = Counter()
        self.rule_of: dict[tuple[str, str], str] = {}
        self.deferral_of: dict[tuple[str, str], str] = {}

    def add(self, table: pa.Table) -> None:
        self.failures += table.num_rows
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

    def problems(self, top: int) -> list[dict[str, Any]]:
        return [
            {"category": c, "signature": s, "failures": n, "rule_id": self.rule_of.get((c, s), ""),
             "last_deferral": self.deferral_of.get((c, s), "")}
            for (c, s), n in self.by_problem.most_common(top)
        ]
