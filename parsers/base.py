"""What every log-format parser provides, and the per-file bookkeeping they share.

A parser turns lines into failure rows (dicts keyed by logscan.schema field names) and counts
every line it is given as exactly one of: a failure, ignored (recognised, not a failure; for
failure-looking lines with a stated reason) or unparsed (not understood: shown to the user).
Parsers never classify root causes: that is the rule engine's job.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from logscan.timestamps import StampConverter, utc_day

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
    # denominator of failure rates. Only parsers of server logs (postfix, exim) count them.
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
    rows: list[dict[str, Any]] = field(default_factory=list)
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

    def unparsed(self, line_no: int, line: str, reason: str | None = None) -> None:
        """A line not understood. `reason`: why, when it is not just an unknown shape (the pipeline's
        note of a parser error); counted by reason in FileStats.unparsed_reasons. A line counts once:
        one that already gave a row stays a failure line (its text is still shown as an example)."""
        if line_no != self.last_failure_line and line_no != self.last_unparsed_line:
            self.stats.unparsed += 1
            self.last_unparsed_line = line_no
        if reason is not None:
            self.stats.unparsed_reasons[reason] += 1
        if len(self.stats.unparsed_examples) < UNPARSED_EXAMPLES:
            self.stats.unparsed_examples.append((line_no, line[:500]))

    def ignored(self, reason: str) -> None:
        """Count a failure-looking line that is deliberately not a row, by its stated reason.
        (Plain ignored lines are not counted one by one: ignored = lines - failures - unparsed.)"""
        self.stats.ignored_reasons[reason] += 1

    def emit(self, row: dict[str, Any], stamp: str, line_no: int, line: str) -> dict[str, Any]:
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
        self.rows.append(row)
        if line_no != self.last_failure_line:
            self.stats.failures += 1
            self.last_failure_line = line_no
            if line_no == self.last_unparsed_line:  # part of it was not understood, but it gave a row
                self.stats.unparsed -= 1
                self.last_unparsed_line = -1
        if t is not None:
            if self.stats.first_time is None or t < self.stats.first_time:
                self.stats.first_time = t
            if self.stats.last_time is None or t > self.stats.last_time:
                self.stats.last_time = t
        return row


class Parser(Protocol):
    name: str
    description: str
    samples: tuple[Sample, ...]

    def detect(self, lines: list[str]) -> float:
        """Share (0..1) of these first lines of a file that look like this format."""

    def new_state(self) -> Any:
        """Correlation state, shared by the files of one scan (bounded in size)."""

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: Any) -> None:
        """Parse consecutive lines; count each one in ctx.stats; append rows with ctx.emit.
        A parser whose records span lines may also define finish(ctx, state), called at the end
        of each file, to emit the record still open.

    The state class of a parser whose records span lines lists in FILE_STATE the attributes that
    say where it stands inside one file's records, and in OPEN_RECORD the one that is set while a
    record finish() would emit is open. An incremental run (logscan/store.py) keeps them per file
    (take_record / restore_record) and does not finish a record open at the end of a plain file
    that grew in that run: the next run goes on reading it with the rest of its lines."""


def take_record(parser: Parser, state: Any, ctx: FileContext, held: bool) -> tuple[dict[str, Any], bool]:
    """At the end of a file in an incremental run: the FILE_STATE of `state` as JSON-plain data, and
    whether a record is open in it. The state's FILE_STATE is reset, so the next file starts clean.
    held (finish() was not called): rows the open record may still extend (a FILE_STATE value that
    is a row not written yet) are taken out of ctx.rows and kept in the record until it ends."""
    names = state.FILE_STATE
    saved = {n: getattr(state, n) for n in names}
    rows = [n for n in names if held and isinstance(saved[n], dict) and any(saved[n] is r for r in ctx.rows)]
    if rows:
        ctx.rows = [r for r in ctx.rows if not any(r is saved[n] for n in rows)]
    fresh = parser.new_state()
    for n in names:
        setattr(state, n, getattr(fresh, n))
    return {"state": saved, "rows": rows}, held and bool(saved[state.OPEN_RECORD])


def restore_record(state: Any, ctx: FileContext, record: dict[str, Any]) -> None:
    """Go on where take_record stopped (JSON turned its tuples into lists; parsers unpack either)."""
    names = set(state.FILE_STATE)
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
