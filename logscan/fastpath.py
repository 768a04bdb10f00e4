"""The compiled engine (logscan._core, rust/) for Postfix logs, and the choice of engine.

The Python parsers (logscan/parsers/) are the reference: the compiled core does what
parsers/postfix.py does, line for line, and tests/test_engines.py requires the same rows, delivery
counts and line accounting of both on every sample, sample log, corpus log and generated log.
The core reads the reader's byte blocks (logscan.reading.iter_byte_chunks), keeps the queue-id
correlation, counts deliveries, and hands over only the failure rows (column lists, made into an
Arrow table here), the deliveries (folded by UTC day by FileContext.fold_deliveries, as the
reference does) and each block's line accounting. Rules, signatures and classification stay in Python.

LOGSCAN_ENGINE=auto (default: compiled where it exists and is built), python or rust. Its state is
exchangeable with the reference's: `queue` reads and writes PostfixState.queue's form (keyed by
(host, queue id), QueueContext's named keys) and `legacy` its form-1 entries, so a store filled by
one engine is carried on by the other. The core counts every line itself (failure, ignored with or
without a reason, unparsed), as the parser contract asks.

The core does not parse byte ranges of a split file (it makes no Pending rows): its traits say it is
not splittable, so the pipeline runs it over the whole file in one process, which is faster than the
reference split over two cores (see README); a split range's state is declined.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

from logscan.parsers import REGISTRY
from logscan.parsers.base import UNPARSED_EXAMPLES, BaseParser, FileContext
from logscan.parsers.postfix import PostfixState

from .errors import UsageError

try:
    from logscan import _core
except ImportError:  # built by `pip install .` where cargo is present; the reference runs without it
    _core = None

ENGINES = ("auto", "python", "rust")
COMPILED = ("postfix",)  # the formats the compiled core reads
HOW_TO_BUILD = ("logscan: the compiled fast path (logscan._core) is not built, so the Python parsers run "
                "(the same results, several times slower); install Rust's cargo (https://rustup.rs) and "
                "reinstall logscan (pip install .) to get it")
_warned = [False]


def engine_name() -> str:
    name = os.environ.get("LOGSCAN_ENGINE", "auto").strip().lower() or "auto"
    if name not in ENGINES:
        raise UsageError(f"LOGSCAN_ENGINE={name!r} is not an engine", hint="use auto, python or rust")
    return name


def parser_for(fmt: str, states: dict[str, Any]):
    """The parser to read a file of `fmt` with, and its state (made, or taken from `states` and
    converted to the engine's form, and put back there: the store dumps what `states` holds)."""
    name = engine_name()
    compiled = fmt in COMPILED and name != "python"
    if compiled and _core is None:
        if name == "rust":
            raise UsageError("LOGSCAN_ENGINE=rust, but the compiled core is not built", hint=HOW_TO_BUILD[9:])
        if not _warned[0]:
            _warned[0] = True
            print(HOW_TO_BUILD, file=sys.stderr)
        compiled = False
    parser = RUST_PARSERS[fmt] if compiled else REGISTRY[fmt]
    state = states.get(fmt)
    if state is None:
        state = parser.new_state()
    elif compiled and not isinstance(state, RustPostfixState):
        state = RustPostfixState.from_python(state)
    elif not compiled and isinstance(state, RustPostfixState):
        state = state.to_python()
    states[fmt] = state
    return parser, state


class RustPostfixState:
    """The compiled core and what the Python side keeps beside it; persisted as PostfixState."""

    split_range = False  # the core parses whole files only (see the module's docstring)

    def __init__(self) -> None:
        self.core = _core.PostfixCore()
        # rows already handed to the caller as dicts (parse()), by serial: TLS failures whose
        # "TLS library problem" line may still come (the reference appends it to the row it holds)
        self.tls_rows: dict[int, dict[str, Any]] = {}

    persisted_fields = PostfixState.persisted_fields
    file_fields = PostfixState.file_fields

    @property
    def queue(self) -> dict[tuple[str, str], dict[str, Any]]:
        return self.core.export_queue()

    @property
    def legacy(self) -> dict[str, dict[str, Any]]:
        """ParserState.legacy: the form-1 entries (keyed by queue id alone) not taken over yet."""
        old = self.core.export_legacy()
        return {"queue": old} if old else {}

    @classmethod
    def from_python(cls, state: PostfixState) -> RustPostfixState:
        new = cls()
        new.core.import_queue(state.queue, state.legacy.get("queue", {}))
        return new

    def to_python(self) -> PostfixState:
        state = PostfixState()
        state.queue = self.queue
        state.legacy = self.legacy
        return state


class RustPostfixParser(BaseParser):
    """parsers/postfix.py's parser, the per-line work done by the compiled core (not splittable:
    resolve_pending and merge_state are BaseParser's refusals)."""

    reference = REGISTRY["postfix"]
    name = reference.name
    description = reference.description
    traits = dataclasses.replace(reference.traits, splittable=False)
    detect = reference.detect

    def new_state(self, split_range: bool = False) -> RustPostfixState:
        if split_range:
            raise ValueError("the compiled Postfix core does not parse byte ranges of a split file")
        return RustPostfixState()

    def parse_bytes(self, block: bytes, several: bool, first_line_no: int, ctx: FileContext,
                    state: RustPostfixState, read) -> int:
        """One block of logscan.reading.iter_byte_chunks; returns how many lines it held."""
        n, cut, bad = self._account(state.core.parse(block, first_line_no, True, several), ctx, state)
        read.truncated_lines += cut
        read.bad_bytes_chunks += bad
        return n

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: RustPostfixState) -> None:
        """The Parser protocol's parse (lines already read): rows go to ctx.rows as dicts."""
        if not lines:
            return
        block = "\n".join(lines).encode("utf-8", "surrogatepass")
        self._account(state.core.parse(block, first_line_no, False, True), ctx, state)
        cols = state.core.take_rows()
        rows = _rows_of(cols, ctx)
        for serial, row in enumerate(rows, cols["first_serial"]):
            ctx.rows.append(row)
            if row["event"] == "tls_failed":
                state.tls_rows[serial] = row

    def _account(self, result, ctx: FileContext, state: RustPostfixState) -> tuple[int, int, bool]:
        n, failures, ignored, unparsed, examples, reasons, cut, bad, late = result
        st = ctx.stats
        st.failures += failures
        st.ignored += ignored
        st.unparsed += unparsed
        room = UNPARSED_EXAMPLES - len(st.unparsed_examples)
        if room > 0:
            st.unparsed_examples.extend(examples[:room])
        for reason, k in reasons:
            st.ignored_reasons[reason] += k
        for serial, text in late:
            row = state.tls_rows.pop(serial, None)
            if row is not None:
                row["diagnostic"] += text
        return n, cut, bad

    def buffered(self, state: RustPostfixState) -> int:
        return state.core.buffered()

    def take_table(self, ctx: FileContext, state: RustPostfixState):
        """The rows held, as a signed Arrow table (None when there are none)."""
        cols = state.core.take_rows()
        if not cols["line_no"]:
            return None
        return _table_of(cols, ctx)

    def finish(self, ctx: FileContext, state: RustPostfixState) -> None:
        ctx.raw_deliveries, ctx.stamp_of_hour = state.core.take_deliveries()
        ctx.fold_deliveries()


def _times(cols: dict[str, list], ctx: FileContext) -> tuple[list, list, list]:
    """emit()'s stamp conversion for each row, and the file's first and last time."""
    convert = ctx.stamps.convert
    times, zones, inferred = [], [], []
    for stamp in cols["stamp"]:
        t, z, i = convert(stamp)
        times.append(t)
        zones.append(z)
        inferred.append(i)
    known = [t for t in times if t is not None]
    if known:
        st = ctx.stats
        lo, hi = min(known), max(known)
        st.first_time = lo if st.first_time is None else min(st.first_time, lo)
        st.last_time = hi if st.last_time is None else max(st.last_time, hi)
    return times, zones, inferred


def _rows_of(cols: dict[str, list], ctx: FileContext) -> list[dict[str, Any]]:
    times, zones, inferred = _times(cols, ctx)
    names = [n for n in cols if n not in ("first_serial", "stamp")]
    rows = []
    for k, values in enumerate(zip(*(cols[n] for n in names), strict=True)):
        row = dict(zip(names, values, strict=True))
        row.update(source="postfix", time=times[k], time_zone=zones[k], year_inferred=inferred[k],
                   source_file=ctx.path)
        rows.append(row)
    return rows


def _table_of(cols: dict[str, list], ctx: FileContext):
    import pyarrow as pa

    from . import schema
    from .arrowcols import column
    from .signature import signatures_of

    times, zones, inferred = _times(cols, ctx)
    n = len(times)
    given = {**cols, "time": times, "time_zone": zones, "year_inferred": inferred,
             "source": ["postfix"] * n, "source_file": [ctx.path] * n}
    given["signature"] = signatures_of(cols["diagnostic"])
    target = schema.plain_arrow_schema()
    arrays = [column(given[f.name], f.type) if f.name in given else pa.nulls(n, f.type) for f in target]
    return pa.Table.from_arrays(arrays, schema=target)


RUST_PARSERS = {"postfix": RustPostfixParser()} if _core is not None else {}
