"""The parser contract (Parser, Traits, ParserState, Row, Pending) and the per-file bookkeeping
parsers share.

A parser turns lines into failure rows (Row: dicts keyed by logscan.schema field names) and counts
every line it is given as exactly one of: a failure (ctx.emit), ignored (ctx.ignore() for plain
lines, ctx.ignored(reason) for failure-looking lines with a stated reason) or unparsed
(ctx.unparsed: not understood, shown to the user). The pipeline checks lines = failures + ignored +
unparsed per file and counts a line a parser left uncounted as unparsed, with a reason: nothing is
derived. Parsers never classify root causes: that is the rule engine's job.

What a parser can do is declared in its Traits, never found by hasattr: the pipeline, the store,
the reports and the CLI read them (see SERVER_FORMATS, DELIVERY_FORMATS below).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict, runtime_checkable

from logscan.timestamps import StampConverter, utc_day

if TYPE_CHECKING:
    Row = dict[str, Any]  # (to a type checker; at run time: row_type(), see __getattr__ below)

UNPARSED_EXAMPLES = 5

# The integer columns of the failure table (logscan/schema.py) and the values their types hold: a
# number out of range is no reading of the line (time null, the row kept), never an Arrow overflow.
INT_RANGES = {"smtp_code": (0, (1 << 15) - 1), "relay_port": (0, (1 << 31) - 1), "size": (0, (1 << 63) - 1)}


def ascii_int(text: str | None, column: str | None = None) -> int | None:
    """The number `text` spells in ASCII digits [0-9], or None. Python's str.isdigit() and int()
    also take '²⁵⁰' (isdigit only), '１２' and '١٢', which no mail software writes; with `column`,
    a value beyond that column's range (INT_RANGES) is None as well. Every parser reads numbers
    taken from a line through here."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    if column is not None:
        lo, hi = INT_RANGES[column]
        if not lo <= value <= hi:
            return None
    return value


def file_host(path: str) -> str | None:
    """The host a file's lines come from when they do not say (Exim's own mainlog has no host
    column): the NAME of the last `host=NAME` folder in its path (a log host's or a bucket's layout
    per host, e.g. logs/host=mx1/day=2026-11-27/mainlog), else None."""
    for part in reversed(path.replace("\\", "/").split("/")[:-1]):
        if part.startswith("host=") and len(part) > 5:
            return part[5:]
    return None


@dataclass(frozen=True)
class Sample:
    """A real log line and what the parser must make of it (checked by tests/test_parser_samples.py).

    line: the line itself, when it was written by the real software run here (sample_logs/);
    ref: instead of the line, "<file>:<line number>" in ../shared/corpora (lines from public
         projects are read from there, never copied into this repository);
    expect: the fields of the single failure row the line must yield (a subset is enough);
    ignore: the stated reason the line is deliberately not a failure ("" = plainly not one);
    context: earlier lines (or refs) that set up correlation (queue id to sender, client, ...).
    """

    line: str | None = None
    ref: str | None = None
    expect: dict[str, Any] | None = None
    ignore: str | None = None
    context: tuple[str, ...] = ()


@dataclass
class FileStats:
    path: str
    format: str
    lines: int = 0
    failures: int = 0
    ignored: int = 0
    unparsed: int = 0
    read_error: str | None = None
    truncated_lines: int = 0
    undecodable_chunks: int = 0
    first_time: int | None = None  # UTC epoch microseconds
    last_time: int | None = None
    end_offset: int = 0  # decompressed bytes of the file consumed when reading stopped
    # Incremental runs only (take_record): where the parser stood in this file's records, and
    # whether a record was left open (not finished) because the file may still grow.
    record: dict[str, Any] | None = None
    open_record: bool = False
    unparsed_examples: list[tuple[int, str]] = field(default_factory=list)
    # Failure-looking lines that were deliberately not made into rows, by stated reason.
    ignored_reasons: Counter = field(default_factory=Counter)
    # Unparsed lines with a stated reason (a parser's exception the pipeline caught), by reason.
    unparsed_reasons: Counter = field(default_factory=Counter)
    # Successful deliveries by (UTC day "YYYY-MM-DD", recipient domain, relay host): the
    # denominator of failure rates. Only parsers whose traits say counts_deliveries count them.
    deliveries: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "failures": self.failures,
            "ignored": self.ignored,
            "unparsed": self.unparsed,
            "read_error": self.read_error,
            "truncated_lines": self.truncated_lines,
            "undecodable_chunks": self.undecodable_chunks,
            "unparsed_examples": [{"line_no": n, "line": t} for n, t in self.unparsed_examples],
            "ignored_reasons": dict(self.ignored_reasons),
            "unparsed_reasons": dict(self.unparsed_reasons),
        }


@dataclass
class FileContext:
    """What a parser needs to know about the file it is reading, and where its output goes."""

    path: str
    stamps: StampConverter
    stats: FileStats
    rows: list[Row] = field(default_factory=list)
    # Rows of a later byte range waiting for the earlier ranges' context (split_range states).
    pending: list[Pending] = field(default_factory=list)
    # The machine that wrote the file, for formats whose lines do not say (file_host()): their
    # rows' host column and the host of their correlation keys.
    host: str | None = None
    # Deliveries as the parsers see them: (hour key, address, relay) -> count, and one stamp per
    # hour key; fold_deliveries() turns them into FileStats.deliveries once per file.
    raw_deliveries: dict[tuple[str, str, str], int] = field(default_factory=dict)
    stamp_of_hour: dict[str, str] = field(default_factory=dict)
    # The line of the last row: a line that gives several rows (Sendmail's to= list, PHPMailer
    # messages glued on one line) is one failure line, so lines = failures + ignored + unparsed holds.
    last_failure_line: int = -1
    last_unparsed_line: int = -1  # likewise: a line is unparsed once, and not if it gave a row

    def delivered(self, hour_key: str, stamp: str, recipient: str, relay: str) -> None:
        """Count one successful delivery. `hour_key` is any prefix of the stamp that fixes its UTC
        hour (for a fixed zone): stamps are converted once per distinct key, not per line, at
        fold_deliveries(). Kept this small because it runs for most lines of a busy log. Keyed by
        the recipient's domain, not the address: memory follows the domains of a busy log, not the
        number of distinct recipients."""
        at = recipient.rfind("@")
        key = (hour_key, recipient[at + 1:] if at >= 0 else "", relay)
        n = self.raw_deliveries.get(key)
        if n is None:
            self.raw_deliveries[key] = 1
            self.stamp_of_hour.setdefault(hour_key, stamp)
        else:
            self.raw_deliveries[key] = n + 1

    def fold_deliveries(self) -> None:
        """Called by a parser's finish(): add the file's deliveries by (UTC day, domain, relay)."""
        days: dict[str, str | None] = {}
        for hour_key, stamp in self.stamp_of_hour.items():
            days[hour_key] = utc_day(self.stamps.convert(stamp)[0])
        for (hour_key, domain, relay), n in self.raw_deliveries.items():
            day = days[hour_key]
            if day is not None:
                self.stats.deliveries[(day, domain.lower(), relay)] += n
        self.raw_deliveries.clear()
        self.stamp_of_hour.clear()

    def unparsed(self, line_no: int, line: str, reason: str | None = None, opened: bool = False) -> None:
        """A line not understood. `reason`: why, when it is not just an unknown shape (the pipeline's
        note of a parser error); counted by reason in FileStats.unparsed_reasons. A line counts once:
        one that already gave a row stays a failure line (its text is still shown as an example).
        opened: as for emit(), the line opened a record and was counted as ignored until now."""
        if line_no != self.last_failure_line and line_no != self.last_unparsed_line:
            self.stats.unparsed += 1
            self.last_unparsed_line = line_no
            if opened:
                self.stats.ignored -= 1
        if reason is not None:
            self.stats.unparsed_reasons[reason] += 1
        if len(self.stats.unparsed_examples) < UNPARSED_EXAMPLES:
            self.stats.unparsed_examples.append((line_no, line[:500]))

    def ignore(self, n: int = 1) -> None:
        """Count n lines that are plainly not failures (successful deliveries, context lines,
        other programs' lines, blank lines, the continuation lines of a record)."""
        self.stats.ignored += n

    def ignored(self, reason: str) -> None:
        """Count one failure-looking line that is deliberately not a row, by its stated reason."""
        self.stats.ignored += 1
        self.stats.ignored_reasons[reason] += 1

    def count_line_once(self, line_no: int, ignored_before: int) -> None:
        """For a parser that handles several messages of one line (PHPMailer's glued messages):
        after all of them, the line counts once: a failure or unparsed line as emit()/unparsed()
        counted it, else one ignored line, however many ctx.ignored(reason) its messages said
        (their reasons are all kept). ignored_before: stats.ignored before the line."""
        said = self.stats.ignored - ignored_before
        self.stats.ignored += (0 if line_no in (self.last_failure_line, self.last_unparsed_line) else 1) - said

    def emit(self, row: Row, stamp: str, line_no: int, line: str, pending: Key | None = None,
             opened: bool = False, local: Any = None) -> Row:
        """Add a failure row of line `line_no`. pending: the row's correlation key, when it is a
        Pending row of a split range (see Pending), and local: what the range knew of that key
        then (Pending.local). opened: the line opened a record the parser counted as ignored when
        it read it (multiline): it is a failure line now."""
        for name, (lo, hi) in INT_RANGES.items():  # whatever a parser read: in its column's range
            v = row.get(name)
            if v is not None and (type(v) is not int or not lo <= v <= hi):
                row[name] = None
        t, zone, inferred = self.stamps.convert(stamp)
        row["time"] = t
        row["time_zone"] = zone
        row["year_inferred"] = inferred
        row["source_file"] = self.path
        row["line_no"] = line_no
        row["line"] = line
        if pending is None:
            self.rows.append(row)
        else:
            self.pending.append(Pending(pending, row, local))
        if line_no != self.last_failure_line:
            self.stats.failures += 1
            self.last_failure_line = line_no
            if opened:
                self.stats.ignored -= 1
            elif line_no == self.last_unparsed_line:  # part of it was not understood, but it gave a row
                self.stats.unparsed -= 1
                self.last_unparsed_line = -1
        if t is not None:
            if self.stats.first_time is None or t < self.stats.first_time:
                self.stats.first_time = t
            if self.stats.last_time is None or t > self.stats.last_time:
                self.stats.last_time = t
        return row


@dataclass(frozen=True)
class Traits:
    """What a parser's format and implementation allow; every consumer reads these, none probes.

    server: the log of a mail server (its queue ids / message ids, inbound and outbound
        directions), not of a mail client or application sending through one.
    counts_deliveries: successful deliveries are counted (FileStats.deliveries: the denominator of
        failure rates); finish() folds them at the end of each file.
    splittable: a large plain file may be parsed in byte ranges at once: a state made with
        new_state(split_range=True) marks rows whose context may lie in an earlier range as
        Pending, and resolve_pending() / merge_state() carry correlation across the ranges.
    multiline: records span lines; the state declares its per-file fields (file_field) and the
        one set while a record is open (file_field(open_record=True)); finish() emits that record.
    persisted: correlation state (the state's persisted_field()s) is carried from one
        incremental run to the next by logscan/store.py.
    """

    server: bool = False
    counts_deliveries: bool = False
    splittable: bool = False
    multiline: bool = False
    persisted: bool = False


@cache
def row_type() -> type:
    """The failure row as a TypedDict generated from logscan.schema.FIELDS, one key per field (all
    optional: a parser fills what its line says; the pipeline fills the rest with nulls). `time` is
    UTC epoch microseconds once emitted. Rows are plain dicts at run time, so making one costs
    nothing more; `Row` (this module's attribute) is made on first use, as schema imports pyarrow,
    which a parser does not need (an unchanged incremental run loads no pyarrow)."""
    import pyarrow as pa

    from logscan import schema

    def python_type(t: pa.DataType) -> Any:
        if pa.types.is_boolean(t):
            return bool | None
        if pa.types.is_integer(t) or pa.types.is_timestamp(t):
            return int | None
        return str | None
    return TypedDict("Row", {f.name: python_type(f.type) for f in schema.FIELDS}, total=False)  # type: ignore[operator]


def __getattr__(name: str) -> Any:
    if name == "Row":
        return row_type()
    raise AttributeError(name)

# A correlation key: (host, id). The host is the syslog host column of the line, or the file's
# host (FileContext.host) when the format has none; "" when neither is known. Ids of different
# hosts never join.
Key = tuple[str, str]


@dataclass(slots=True)
class Pending:
    """A row of a later byte range (split_range) whose context may lie in an earlier range: the
    pipeline hands these to resolve_pending() with the earlier ranges' state, then writes them.
    local: what the row's own range knew of `key` when the row was made (the parser's own value,
    picklable), so that resolve_pending() can give the row exactly what a sequential parse would
    have: the earlier ranges' context with the range's own over it."""

    key: Key
    row: Row
    local: Any = None


def persisted_field(**kw: Any) -> Any:
    """A state field carried from one incremental run to the next (logscan/store.py)."""
    return field(metadata={"persisted": True}, **kw)


def file_field(*, open_record: bool = False, **kw: Any) -> Any:
    """A state field that says where reading stands in one file's records (multiline parsers);
    open_record: the one set while a record finish() would emit is open."""
    return field(metadata={"file": True, "open_record": open_record}, **kw)


@dataclass
class ParserState:
    """Base of every parser's state (one per format for a whole scan, bounded in size).

    split_range: set when the state is made (new_state(split_range=True)) for a later byte range of
    a file parsed in parallel with the ranges before it."""

    split_range: bool = False
    # Entries of a state saved before correlation was keyed by host (form 1: keyed by id alone),
    # by persisted field and id: the first host that uses such an id takes the entry over (see
    # adopt()). Empty in a scan that did not start from such a state.
    legacy: dict[str, dict[str, Any]] = field(default_factory=dict)

    def adopt(self, name: str, key: Key) -> Any:
        """The form-1 entry of `key`'s id in persisted field `name` (taken out), or None."""
        old = self.legacy.get(name)
        return old.pop(key[1], None) if old else None

    def load_form1(self, name: str, value: dict[str, Any]) -> None:
        """Take persisted field `name` as a form-1 store saved it (a mapping keyed by id alone).
        A parser whose form-1 keys already held the host (Sendmail's "host id") overrides this."""
        self.legacy[name] = dict(value)

    _FIELDS: ClassVar[dict[type, tuple[tuple[str, ...], tuple[str, ...], str | None]]] = {}

    @classmethod
    def _declared(cls) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
        got = ParserState._FIELDS.get(cls)
        if got is None:
            fs = dataclasses.fields(cls)
            opened = [f.name for f in fs if f.metadata.get("open_record")]
            got = (tuple(f.name for f in fs if f.metadata.get("persisted")),
                   tuple(f.name for f in fs if f.metadata.get("file")), opened[0] if opened else None)
            ParserState._FIELDS[cls] = got
        return got

    @classmethod
    def persisted_fields(cls) -> tuple[str, ...]:
        return cls._declared()[0]

    @classmethod
    def file_fields(cls) -> tuple[str, ...]:
        return cls._declared()[1]

    @classmethod
    def open_record_field(cls) -> str | None:
        return cls._declared()[2]


@runtime_checkable
class Parser(Protocol):
    """What every registered parser provides (tests/test_contract.py checks each one)."""

    name: str
    description: str
    traits: Traits

    def detect(self, lines: list[str]) -> float:
        """Share (0..1) of these first lines of a file that look like this format."""

    def new_state(self, split_range: bool = False) -> ParserState:
        """Correlation state, shared by the files of one scan (bounded in size)."""

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: Any) -> None:
        """Parse consecutive lines; count each one in ctx.stats; append rows with ctx.emit."""

    def finish(self, ctx: FileContext, state: Any) -> None:
        """At the end of each file: emit the record still open (multiline), fold the deliveries
        (counts_deliveries). An incremental run (logscan/store.py) keeps a multiline parser's
        file fields per file (take_record / restore_record) and does not finish a record open at
        the end of a plain file that grew in that run: the next run goes on reading it."""

    def resolve_pending(self, pending: list[Pending], earlier: Any) -> None:
        """splittable: complete a later range's pending rows from the earlier ranges' state."""

    def merge_state(self, into: Any, later: Any) -> None:
        """splittable: carry a later range's correlation state into the earlier ranges' state."""


class BaseParser:
    """Defaults of the Parser protocol; each parser sets name, description, traits and State."""

    name: str
    description: str
    traits: Traits = Traits()
    State: type[ParserState] = ParserState

    def new_state(self, split_range: bool = False) -> ParserState:
        return self.State(split_range=split_range)

    def finish(self, ctx: FileContext, state: Any) -> None:
        if self.traits.counts_deliveries:
            ctx.fold_deliveries()

    def resolve_pending(self, pending: list[Pending], earlier: Any) -> None:
        raise NotImplementedError(f"{self.name} is not splittable")

    def merge_state(self, into: Any, later: Any) -> None:
        raise NotImplementedError(f"{self.name} is not splittable")


def formats_where(**traits: bool) -> tuple[str, ...]:
    """Names of the registered formats whose traits have these values, in registry order."""
    from logscan.parsers import REGISTRY

    return tuple(n for n, p in REGISTRY.items() if all(getattr(p.traits, k) == v for k, v in traits.items()))


def take_record(parser: Parser, state: Any, ctx: FileContext, held: bool) -> tuple[dict[str, Any], bool]:
    """At the end of a file in an incremental run: the FILE_STATE of `state` as JSON-plain data, and
    whether a record is open in it. The state's FILE_STATE is reset, so the next file starts clean.
    held (finish() was not called): rows the open record may still extend (a FILE_STATE value that
    is a row not written yet) are taken out of ctx.rows and kept in the record until it ends."""
    names = state.file_fields()
    saved = {n: getattr(state, n) for n in names}
    rows = [n for n in names if held and isinstance(saved[n], dict) and any(saved[n] is r for r in ctx.rows)]
    if rows:
        ctx.rows = [r for r in ctx.rows if not any(r is saved[n] for n in rows)]
    fresh = parser.new_state()
    for n in names:
        setattr(state, n, getattr(fresh, n))
    return {"state": saved, "rows": rows}, held and bool(saved[state.open_record_field()])


def restore_record(state: Any, ctx: FileContext, record: dict[str, Any]) -> None:
    """Go on where take_record stopped (JSON turned its tuples into lists; parsers unpack either)."""
    names = set(state.file_fields())
    for n, v in record.get("state", {}).items():
        fresh = getattr(state, n, None) if n in names else None
        if n in names and (fresh is None or v is None or type(v) is type(fresh)):  # a flag stays a flag
            setattr(state, n, v)
    restored: list[dict[str, Any]] = []
    for n in record.get("rows", []):
        row = getattr(state, n) if n in names else None
        if isinstance(row, dict):
            same = next((r for r in restored if r == row), None)  # two names held the same row
            if same is not None:
                setattr(state, n, same)
            else:
                restored.append(row)
                ctx.rows.append(row)  # counted in the run that emitted it
