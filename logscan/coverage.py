"""How much of the providers' and programs' published texts the rules cover.

Each published table (a provider's SMTP error reference, a program's list of failure texts) is one
TOML file in logscan/knowledge/tables/: a `[table]` header (id, kind "provider" or "software",
title, source page; optional relay_host and direction that every row inherits) and one `[[row]]`
per entry with the table's own wording (`text`), its codes where the table gives them, and the
category it means. Every row is turned into the record a logscan parser would write for that
reply and classified by the whole engine, so a row is covered only when the rules give it its
category (`logscan rules coverage`; tests/test_tables.py fails on any miss).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .errors import RuleError

KINDS = ("provider", "software")
TABLE_KEYS = {"id", "kind", "title", "source", "relay_host", "direction", "note", "source_format"}
ROW_KEYS = {"code", "status", "text", "category", "stage", "source", "event", "note", "relay_host", "direction",
            "error_code"}
# Software tables name the failure table's own fields for the stage and code (smtp_stage, smtp_code).
ROW_ALIASES = {"smtp_stage": "stage", "smtp_code": "code"}


@dataclass(frozen=True)
class Row:
    text: str
    category: str
    code: int | None = None
    status: str | None = None
    stage: str | None = None
    source: str | None = None  # the program whose text it is (a parser name), for software tables
    event: str | None = None
    relay_host: str | None = None
    direction: str | None = None
    error_code: str | None = None
    note: str | None = None

    def label(self) -> str:
        codes = " ".join(str(x) for x in (self.code, self.status) if x)
        return f"{codes} {self.text}".strip()


@dataclass(frozen=True)
class Table:
    id: str
    kind: str
    title: str
    source: str
    rows: tuple[Row, ...]
    relay_host: str | None = None
    direction: str | None = None
    origin: str = ""
    source_format: str | None = None  # software tables: the logscan format whose rows carry these texts


@dataclass
class Miss:
    row: Row
    got: str
    rule_id: str


@dataclass
class TableCoverage:
    table: Table
    right: int = 0
    wrong: list[Miss] = field(default_factory=list)  # a rule matched, with another category
    unknown: list[Miss] = field(default_factory=list)  # no rule matched

    @property
    def rows(self) -> int:
        return len(self.table.rows)

    @property
    def no_cause(self) -> int:
        """Rows the table itself files as `unknown` (they name no cause); counted right when unknown."""
        return sum(r.category == "unknown" for r in self.table.rows)

    def as_dict(self, with_misses: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.table.id, "kind": self.table.kind, "title": self.table.title,
                               "source": self.table.source, "rows": self.rows, "right": self.right,
                               "wrong": len(self.wrong), "unknown": len(self.unknown),
                               "rows_naming_no_cause": self.no_cause}
        if with_misses:
            out["misses"] = [{"row": m.row.label(), "expected": m.row.category, "got": m.got,
                              "rule_id": m.rule_id or None} for m in self.wrong + self.unknown]
        return out


def load_table(name: str, text: str) -> Table:
    """One table file; a malformed one raises RuleError naming the file and the row."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"cannot read table {name}: {exc}") from exc
    head = data.get("table")
    if not isinstance(head, dict):
        raise RuleError(f"{name}: a [table] header is required")
    unknown = set(head) - TABLE_KEYS
    if unknown:
        raise RuleError(f"{name}: unknown [table] keys {sorted(unknown)}")
    for key in ("id", "kind", "title", "source"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise RuleError(f"{name}: [table] needs '{key}'")
    if head["kind"] not in KINDS:
        raise RuleError(f"{name}: kind must be one of {KINDS}")
    rows = []
    for i, raw in enumerate(data.get("row", []), 1):
        where = f"{name}: row #{i}"
        raw = {ROW_ALIASES.get(k, k): v for k, v in raw.items()}
        unknown = set(raw) - ROW_KEYS
        if unknown:
            raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(raw.get("text"), str) or not isinstance(raw.get("category"), str):
            raise RuleError(f"{where}: 'text' and 'category' are required")
        code = raw.get("code")
        if code is not None and not (isinstance(code, int) and 200 <= code <= 599):
            raise RuleError(f"{where}: 'code' must be an SMTP reply code, got {code!r}")
        rows.append(Row(**{k: (str(v) if k == "error_code" else v) for k, v in raw.items()}))
    if not rows:
        raise RuleError(f"{name}: the table has no [[row]]")
    return Table(id=head["id"], kind=head["kind"], title=head["title"], source=head["source"], rows=tuple(rows),
                 relay_host=head.get("relay_host"), direction=head.get("direction"), origin=name,
                 source_format=head.get("source_format"))


def load_tables() -> list[Table]:
    folder = resources.files("logscan").joinpath("knowledge/tables")
    files = sorted((p.name, p) for p in folder.iterdir() if p.name.endswith(".toml"))
    return [load_table(f"logscan/knowledge/tables/{n}", p.read_text(encoding="utf-8")) for n, p in files]


def record(table: Table, row: Row) -> dict[str, Any]:
    """The failure record a logscan parser writes for this row's reply: the diagnostic as
    "code status text", the codes, stage, relay host and direction in their fields."""
    status = row.status
    first = (status or str(row.code or ""))[:1]
    # a reply has its event from its code; a program's own error text only where the row says one
    event = row.event or (None if not first else "deferred" if first == "4" else "bounced")
    rec = {
        "diagnostic": " ".join(str(x) for x in (row.code, status, row.text) if x),
        "smtp_code": row.code,
        "enhanced_status": status,
        "smtp_stage": row.stage,
        "relay_host": row.relay_host or table.relay_host,
        "direction": row.direction or table.direction or "outbound",
        "event": event,
        "source": row.source or table.source_format,
        "error_code": row.error_code,
    }
    return {k: v for k, v in rec.items() if v is not None}


def coverage(engine, tables: list[Table] | None = None) -> list[TableCoverage]:
    """Each table's rows classified by the whole engine, counted right, wrong or unknown."""
    out = []
    for table in load_tables() if tables is None else tables:
        tc = TableCoverage(table)
        for row in table.rows:
            v = engine.classify(record(table, row))
            if v.category == row.category:
                tc.right += 1
            elif v.category == "unknown":
                tc.unknown.append(Miss(row, v.category, v.rule_id))
            else:
                tc.wrong.append(Miss(row, v.category, v.rule_id))
        out.append(tc)
    return out


def totals(results: list[TableCoverage]) -> dict[str, int]:
    return {"tables": len(results), "rows": sum(r.rows for r in results), "right": sum(r.right for r in results),
            "wrong": sum(len(r.wrong) for r in results), "unknown": sum(len(r.unknown) for r in results),
            "rows_naming_no_cause": sum(r.no_cause for r in results)}


def totals_by_kind(results: list[TableCoverage]) -> dict[str, dict[str, int]]:
    """The totals of the provider tables and of the software tables apart (each kind that has a table)."""
    return {kind: totals([r for r in results if r.table.kind == kind])
            for kind in KINDS if any(r.table.kind == kind for r in results)}
