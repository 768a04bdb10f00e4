"""`scan --fail-on CATEGORY[=N]`: a distinct exit status when a run's new failures of a category
(or of a whole family, e.g. auth) exceed N, for a wrapper or monitoring to act on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import LogscanError, UsageError

if TYPE_CHECKING:
    from .engine import Category


class ThresholdExceeded(LogscanError):
    """A --fail-on threshold was exceeded (the run itself succeeded and was stored)."""

    exit_code = 9


@dataclass(frozen=True)
class Threshold:
    name: str  # a category id or a family
    limit: int
    members: frozenset[str]  # the category ids it counts


def parse_thresholds(specs: list[str], categories: dict[str, Category]) -> list[Threshold]:
    families: dict[str, set[str]] = {}
    for c in categories.values():
        families.setdefault(c.family, set()).add(c.id)
    out = []
    for spec in specs:
        name, _, limit = spec.partition("=")
        name = name.strip()
        if not limit.strip().isdigit() and limit != "":
            raise UsageError(f"cannot read --fail-on {spec!r}", hint="write CATEGORY or CATEGORY=N, e.g. auth=10")
        if name in categories:
            members = frozenset({name})
        elif name in families:
            members = frozenset(families[name])
        else:
            raise UsageError(f"--fail-on {name!r} is neither a category nor a family",
                             hint=f"families: {', '.join(sorted(families))}; categories: `logscan rules list`")
        out.append(Threshold(name, int(limit or 0), members))
    return out


class CategoryCounter:
    """A sink that counts failures by category as batches stream past."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, table) -> None:
        import pyarrow.compute as pc

        for item in pc.value_counts(table.column("category")).to_pylist():
            self.counts[item["values"]] += item["counts"]


def exceeded(thresholds: list[Threshold], counts: Counter) -> list[str]:
    """One sentence per threshold the counts exceed."""
    out = []
    for t in thresholds:
        n = sum(counts[c] for c in t.members)
        if n > t.limit:
            out.append(f"{n} new failure(s) in {t.name} (more than {t.limit})")
    return out
