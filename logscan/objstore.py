"""The failure store at an fsspec URL: `scan --store s3://bucket/logscan` (gs://, az://, memory://).

The layout is the local store's (logscan/store.py), so the same readers read it (pyarrow.dataset,
DuckDB, pandas with storage_options):

    ROOT/day=2026-11-27/part-<run>-0.parquet     failures, by the UTC day of `time`
    ROOT/_logscan/state.json                      the committed state: the commit point
    ROOT/_logscan/parsers-<run>.json.gz           correlation state carried between runs
    ROOT/_logscan/lock.json                       the lease of the run using the store

An object store has no rename and no POSIX lock. One run goes:

1. Lock: `_logscan/lock.json` is created only if absent: on S3 a conditional PUT (If-None-Match: *,
   which AWS S3, MinIO and moto honour), on memory:// an exclusive create, on backends whose fsspec
   class takes no `mode="create"` a check, a write and a read-back of the token (a race window of
   one round trip remains there). The lock names its run, host and process and holds an expiry
   (LOCK_TTL, renewed by the run every third of it). Another run finding it unexpired stops with
   exit 8; an expired one (its run was killed) is taken over: on S3 by a PUT conditional on the
   expired lock's ETag (If-Match), so of two runs taking it over one wins, and a renewal cannot
   overwrite a lock taken over meanwhile; elsewhere by a delete and a create.
2. Recovery: every data file and parser state that state.json does not list is deleted (what a run
   killed before its commit had uploaded).
3. The run's rows are written locally, in a temporary staging folder, as for a local store.
4. The part files are uploaded under their final names (unique per run, and invisible to readers,
   which read only what state.json lists), then the parser state.
5. Commit: the lock must still hold this run's token; then state.json is written, on S3 only if it
   is still the object this run started from (If-Match its ETag; If-None-Match: * for the first).
   Elsewhere it is compared with what was read, then written (not atomic against a concurrent run).
6. The replaced parser state and days dropped by --keep are deleted; the lock is deleted.

What this gives: a run killed at any point, or whose upload fails, leaves no duplicate and no gap:
before step 5 nothing of it is visible and the next run reads the same lines again; after it the
run is complete (exactly-once appends, tests/test_remote.py). Two runs at once on S3 (or
S3-compatible servers with conditional writes): one holds the lock, the other exits 8; should a
lease expire under a run still alive (a run stalled for LOCK_TTL), that run's commit fails (its
lock token or the state's ETag no longer match) and nothing of it is stored. What it does not give:
on backends without conditional writes (gs:// and az:// through their fsspec packages today),
two runs started within the same round trip may both take the lock; the lease relies on clocks of
the hosts agreeing to within minutes; a stalled run whose lock was taken over may have its
uploaded parts deleted by the new run's recovery (then its commit fails, as said).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import remote
from .errors import OutputError, UsageError
from .store import (
    DATA_FILE,
    MAX_PARSER_STATE_BYTES,
    META,
    DayWriter,
    State,
    Store,
    StoreBusyError,
    StoreDamagedError,
    _crash_point,
    load_parser_states,
    parsed_state,
    parser_state_blob,
)

if TYPE_CHECKING:
    import pyarrow as pa

LOCK = "lock.json"
def _lock_ttl() -> float:
    try:
        return max(float(os.environ.get("LOGSCAN_STORE_LOCK_TTL", 3600)), 1.0)
    except ValueError:
        return 3600.0


LOCK_TTL = _lock_ttl()  # seconds a killed run's lock holds the store


def _conditional(fs) -> bool:
    """Does this file system write with S3's preconditions (If-Match / If-None-Match)?"""
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "s3" in protocol


def _precondition(exc: OSError) -> bool:
    """S3's 412 as s3fs raises it (an OSError whose text names the failed precondition)."""
    text = str(exc).lower()
    return "pre-condition" in text or "precondition" in text


class RemoteStore(Store):
    """A store at a URL, locked (by a lease object) for the lifetime of the object."""

    def __init__(self, url: str) -> None:
        self.root = url.rstrip("/")
        self.fs, key = remote.filesystem(self.root)
        self.key = key.rstrip("/")
        self.meta_key = f"{self.key}/{META}"
        with contextlib.suppress(Exception):  # listings cached by this process may be stale: another run writes
            self.fs.invalidate_cache(self.key)
        self.meta = None  # (no local meta folder)
        self.state = State()
        self._token: str | None = None
        self._etag: str | None = None
        self._raw: bytes | None = None
        self._staging: Path | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # --- the lease ---------------------------------------------------------------------------------
    def _lock_body(self) -> bytes:
        return json.dumps({"token": self._token, "host": socket.gethostname(), "pid": os.getpid(),
                           "expires": time.time() + LOCK_TTL}).encode()

    def _create_lock(self) -> bool:
        """Create the lock object if it is absent; False when it exists."""
        path = f"{self.meta_key}/{LOCK}"
        try:
            self.fs.pipe_file(path, self._lock_body(), mode="create")
            return True
        except FileExistsError:
            return False
        except TypeError:  # no mode="create" here: check, write, read back
            if self.fs.exists(path):
                return False
            self.fs.pipe_file(path, self._lock_body())
            return self._held()

    def _lock_holder(self) -> dict | None:
        """The lock's content (with its ETag under "_etag" where the store gives one), None if absent."""
        path = f"{self.meta_key}/{LOCK}"
        try:
            etag = self.fs.info(path).get("ETag")  # (before the content: a stale tag fails a swap, safely)
            d = json.loads(self.fs.cat_file(path))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            return {}  # unreadable: treated as expired
        return (d if isinstance(d, dict) else {}) | {"_etag": etag}

    def _swap_lock(self, etag: str | None) -> bool:
        """Replace the lock object whose ETag is `etag` by this run's (S3: If-Match, so of two runs
        taking an expired lock over, or a renewal racing a takeover, one wins); elsewhere delete
        and create, or (renewal) overwrite."""
        path = f"{self.meta_key}/{LOCK}"
        if _conditional(self.fs) and etag:
            try:
                self.fs.pipe_file(path, self._lock_body(), IfMatch=etag)
                return True
            except OSError as exc:
                if _precondition(exc):
                    return False
                raise
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)
        return self._create_lock()

    def _held(self) -> bool:
        holder = self._lock_holder()
        return holder is not None and holder.get("token") == self._token

    def _lock(self) -> None:
        self._token = uuid.uuid4().hex
        try:
            if self._create_lock():
                return
            holder = self._lock_holder()
            expires = holder.get("expires") if isinstance(holder, dict) else None
            if holder is not None and isinstance(expires, (int, float)) and expires > time.time():
                since = datetime.fromtimestamp(expires - LOCK_TTL).isoformat(timespec="seconds")
                raise StoreBusyError(f"another logscan run is using the store {self.root} (host {holder.get('host')}, "
                                     f"pid {holder.get('pid')}, since {since})",
                                     hint=f"wait for it to finish; a run that was killed holds it until its lease "
                                          f"ends ({LOCK_TTL:.0f} s), or delete {self.root}/{META}/{LOCK} if no run "
                                          f"is active")
            # expired (its run was killed): taken over
            if not self._swap_lock(holder.get("_etag") if holder else None):
                raise StoreBusyError(f"another logscan run took the store {self.root} over just now",
                                     hint="wait for it to finish")
        except StoreBusyError:
            raise
        except Exception as exc:  # noqa: BLE001 - no bucket, access denied, no credentials, network
            raise OutputError(f"could not write to the store {self.root}: {remote.why(exc)}",
                              hint="check the bucket, the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and "
                                   "--endpoint-url") from None

    def _renew(self) -> None:
        while not self._stop.wait(LOCK_TTL / 3):
            with contextlib.suppress(Exception):
                holder = self._lock_holder()
                if holder is not None and holder.get("token") == self._token:
                    if _conditional(self.fs):
                        self._swap_lock(holder.get("_etag"))
                    else:
                        self.fs.pipe_file(f"{self.meta_key}/{LOCK}", self._lock_body())

    def _unlock(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            if self._held():
                self.fs.rm_file(f"{self.meta_key}/{LOCK}")

    def __enter__(self) -> RemoteStore:
        try:
            if self.fs.isfile(self.key):
                raise UsageError(f"{self.root} is an object, not a folder", hint="give --store a prefix, e.g. "
                                 "s3://bucket/logscan")
            if not self.fs.exists(self.meta_key) and self.fs.isdir(self.key) and self.fs.ls(self.key):
                raise UsageError(f"{self.root} is not empty and not a logscan store; not writing into it",
                                 hint="give --store a new or empty prefix")
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise OutputError(f"cannot use the store {self.root}: {remote.why(exc)}",
                              hint="check the bucket, the credentials and --endpoint-url") from None
        self._lock()
        try:
            self._renewer = threading.Thread(target=self._renew, name="logscan-store-lease", daemon=True)
            self._renewer.start()
            self.state = self._load()
            self._recover()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._unlock()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    # --- state and recovery ------------------------------------------------------------------------
    def has_state(self) -> bool:
        try:
            return self.fs.exists(f"{self.meta_key}/state.json")
        except Exception as exc:  # noqa: BLE001
            raise StoreDamagedError(f"cannot read the store {self.root}: {remote.why(exc)}",
                                    hint="check the bucket, the credentials and --endpoint-url") from None

    def _load(self) -> State:
        path = f"{self.meta_key}/state.json"
        try:
            info = self.fs.info(path)  # (before the content: a newer content then fails the commit, safely)
            raw = self.fs.cat_file(path)
        except FileNotFoundError:
            self._etag, self._raw = None, None
            return State()
        except Exception as exc:  # noqa: BLE001
            raise StoreDamagedError(f"the store's state {self.root}/{META}/state.json cannot be read: "
                                    f"{remote.why(exc)}", hint="check the credentials and the object") from None
        self._etag, self._raw = info.get("ETag"), raw
        return parsed_state(raw, f"{self.root}/{META}/state.json", "restore it from a backup (or an earlier "
                            "object version), or start a new store")

    def _recover(self) -> None:
        """Delete what no committed state lists: parts and parser state of runs killed before their commit."""
        listed = set(self.state.data_files)
        for key in self.fs.find(self.key):
            rel = key[len(self.key):].lstrip("/")
            if rel.startswith(f"{META}/"):
                name = rel[len(META) + 1:]
                stale = name.endswith(".tmp") or (name.startswith("parsers-") and name != self.state.parser_state)
            else:
                stale = DATA_FILE.fullmatch(rel) is not None and rel not in listed
            if stale:
                self.fs.rm_file(key)

    def data_file(self, rel: str, state: State) -> str:
        return remote.join(self.root, rel)

    def read_table(self, path) -> pa.Table:
        import pyarrow.parquet as pq

        key = f"{self.key}/{path[len(self.root) + 1:]}"
        try:
            with self.fs.open(key, "rb") as fh:
                return pq.read_table(fh)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise OSError(remote.why(exc)) from exc

    def parser_states(self) -> dict[str, Any]:
        if self.state.parser_state is None:
            return {}
        path = f"{self.meta_key}/{self.state.parser_state}"
        try:
            if self.fs.size(path) > MAX_PARSER_STATE_BYTES:
                raise ValueError("too large")
            with self.fs.open(path, "rb") as raw, gzip.open(raw, "rb") as fh:
                return load_parser_states(json.loads(fh.read(MAX_PARSER_STATE_BYTES * 8)))
        except Exception as exc:  # noqa: BLE001
            raise StoreDamagedError(f"the correlation state {self.root}/{META}/{self.state.parser_state} cannot be "
                                    f"read: {remote.why(exc)}", hint="delete it and edit parser_state to null in "
                                    "state.json to go on without it") from None

    # --- one run -----------------------------------------------------------------------------------
    def begin(self) -> tuple[str, DayWriter]:
        run = f"{self.state.runs + 1:06d}-{uuid.uuid4().hex[:12]}"
        self._staging = Path(tempfile.mkdtemp(prefix="logscan-stage-"))
        return run, DayWriter(self._staging, run)

    def _stage(self, run: str, writer: DayWriter | None, parser_states: dict[str, Any] | None) -> State:
        """Upload the run's parts under their final names, then its parser state (not listed yet:
        invisible until the commit)."""
        old = self.state
        try:
            staged = writer.close() if writer is not None else []
            new = State([], old.data_files + staged, {}, old.parser_state, old.runs + 1)
            for n, name in enumerate(staged):
                self.fs.put_file(str(self._staging / name), f"{self.key}/{name}")
                if n == 0:
                    _crash_point("mid-upload")
            if parser_states is not None:
                new.parser_state = f"parsers-{run}.json.gz"
                self.fs.pipe_file(f"{self.meta_key}/{new.parser_state}", parser_state_blob(parser_states))
        except Exception as exc:  # noqa: BLE001
            raise OutputError(f"could not write to the store {self.root}: {remote.why(exc)}",
                              hint="check the bucket and the credentials, then run again: nothing of this run was "
                                   "committed, so no line is lost") from exc
        return new

    def _commit_state(self, new: State) -> None:
        self._write_state(new.as_json())

    def _finish(self, run: str, old_parser_state: str | None, dropped: list[str]) -> None:
        gone = dropped + ([f"{META}/{old_parser_state}"] if old_parser_state not in (None, self.state.parser_state)
                          else [])
        for rel in gone:  # (what is left here is deleted by the next run's recovery)
            with contextlib.suppress(Exception):
                self.fs.rm_file(f"{self.key}/{rel}")
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def _write_state(self, data: bytes) -> None:
        path = f"{self.meta_key}/state.json"
        lost = StoreBusyError(f"the store {self.root} changed during this run (its lock was taken over or its "
                              "state rewritten): nothing of this run was committed",
                              hint="run again: it reads the same lines again; if runs overlap, space them out")
        try:
            if not self._held():
                raise lost
            if _conditional(self.fs):
                cond = {"IfMatch": self._etag} if self._etag else {"mode": "create"}
                self.fs.pipe_file(path, data, **cond)
            else:
                try:
                    now = self.fs.cat_file(path)
                except FileNotFoundError:
                    now = None
                if now != self._raw:
                    raise lost
                self.fs.pipe_file(path, data)
        except StoreBusyError:
            raise
        except FileExistsError:
            raise lost from None
        except OSError as exc:
            if _precondition(exc):
                raise lost from None
            raise OutputError(f"could not commit the run to the store {self.root}: {remote.why(exc)}",
                              hint="run again: nothing of this run was committed, so no line is lost") from exc
        except Exception as exc:  # noqa: BLE001
            raise OutputError(f"could not commit the run to the store {self.root}: {remote.why(exc)}",
                              hint="run again: nothing of this run was committed, so no line is lost") from exc
        with contextlib.suppress(Exception):
            self._etag, self._raw = self.fs.info(path).get("ETag"), data
