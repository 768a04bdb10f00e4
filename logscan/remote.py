"""Remote paths: logs, stores and reports at fsspec URLs (s3://, gs://, az://, http(s)://, memory://).

The seam between logscan and fsspec is this module: nothing else imports fsspec, and it is
imported only when a path is a URL, so local runs load nothing more and behave as before.

* `is_url(value)`: a string (or RemotePath) with a scheme other than file:// (a file:// URL is a
  local path: `local_path` turns it into one, so it keeps locks, renames and byte-range splitting).
* `filesystem(url)`: the fsspec file system and the path inside it, with the storage options in
  force (`storage_options(...)`, set by the API's and the CLI's options, applied to every URL of
  the call; credentials otherwise come the backend's usual way: AWS_* variables or AWS_PROFILE,
  GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*; fsspec's FSSPEC_S3_ENDPOINT_URL and botocore's
  AWS_ENDPOINT_URL name an S3-compatible server).
* `RemotePath`: what discovery hands the pipeline for a remote log, standing in for a Path: name,
  parent, stat() (from the listing: size, modification time, a device and inode made from the
  bucket and the key) and open(); reading.py opens it through `open_remote`, in blocks
  (never the whole object at once), every error of the backend turned into an OSError so a lost
  read is said like a local one (exit 11).
* `expand(url, ...)`: discovery's listing of a URL: an object, a prefix (read recursively) or a
  glob.

Large plain remote logs are read in one stream: the byte-range splitting over several cores
(pipeline.parse_file) is for local files only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import OutputError, UsageError
from .output import FORMATS, TableWriter  # (no pyarrow at import)

SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")
# The fsspec packages a scheme needs, for the message when it is missing (pip extras of logscan-mail).
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure",
          "adl": "azure", "http": "http", "https": "http"}
# Bytes a remote read fetches ahead (s3fs's default is 50 MiB). One pipeline chunk: a run opens
# every object at least once for its first bytes (format detection, fingerprint), and each such
# open fetches this much.
READ_BLOCK = 1 << 20

_OPTIONS: ContextVar[dict[str, Any] | None] = ContextVar("logscan_storage_options", default=None)


def is_url(value: Any) -> bool:
    """A remote location: a RemotePath, or a string with a scheme other than file://."""
    if isinstance(value, RemotePath):
        return True
    if not isinstance(value, str):
        return False
    m = SCHEME.match(value)
    return m is not None and m.group(1).lower() != "file"


def local_path(value: str) -> str:
    """file:///var/log/mail.log -> /var/log/mail.log; any other string unchanged."""
    if value[:7].lower() == "file://":
        from urllib.parse import unquote

        rest = value[7:]
        if rest.startswith("localhost/"):
            rest = rest[9:]
        if not rest.startswith("/"):
            raise UsageError(f"{value}: a file:// URL names an absolute path", hint="write file:///var/log/mail.log")
        return unquote(rest)
    return value


@contextlib.contextmanager
def storage_options(options: dict[str, Any] | None) -> Iterator[None]:
    """Within the block, every URL's file system is made with these keyword arguments (as pandas'
    storage_options: endpoint_url, profile, anon, key, secret, ... of the backend)."""
    token = _OPTIONS.set(dict(options or {}))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def parse_options(pairs: list[str] | None, endpoint_url: str | None = None) -> dict[str, Any]:
    """The CLI's --storage-option KEY=VALUE (values true/false/null/numbers as JSON, else text)
    and --endpoint-url, as storage options."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--storage-option {pair!r} is not KEY=VALUE", hint="e.g. --storage-option profile=logs")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    if endpoint_url:
        out["endpoint_url"] = endpoint_url
    return out


def filesystem(url: str):
    """(fsspec file system, path inside it) for a URL. UsageError when the scheme is unknown or
    its package is not installed."""
    scheme = SCHEME.match(url).group(1).lower()
    try:
        import fsspec.core
    except ImportError:
        raise UsageError(f"{url}: reading URLs needs fsspec", hint="pip install 'logscan-mail[s3]' "
                         "(or [gcs], [azure], [http])") from None
    try:
        return fsspec.core.url_to_fs(url, **(_OPTIONS.get() or {}))
    except ImportError as exc:
        extra = EXTRAS.get(scheme)
        hint = f"pip install 'logscan-mail[{extra}]'" if extra else f"install the fsspec package for {scheme}://"
        raise UsageError(f"{url}: {scheme}:// needs a package that is not installed ({exc})", hint=hint) from None
    except ValueError as exc:
        raise UsageError(f"{url}: {exc}", hint="logscan reads s3://, gs://, az://, http(s)://, file:// and "
                                               "memory:// URLs") from None
    except TypeError as exc:  # a storage option the backend does not take
        raise UsageError(f"{url}: {exc}", hint="check --storage-option / storage_options") from None


def why(exc: BaseException) -> str:
    """A backend's error for a message (botocore and aiohttp errors are not OSErrors)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


def join(url: str, rel: str) -> str:
    return url.rstrip("/") + "/" + rel


# --- a remote log standing in for a Path -----------------------------------------------------------

def _id(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "big")


def _mtime_ns(info: dict) -> int:
    for key in ("LastModified", "last_modified", "mtime", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, datetime):
            ns = int(value.timestamp() * 1e9)
        elif isinstance(value, (int, float)):
            ns = int(value * 1e9)
        else:
            continue
        tag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("generation")
        if tag and ns % 1_000_000_000 == 0:
            # Stores give whole seconds: the object's tag, folded into the nanoseconds, tells an
            # object replaced within the second by one of the same size (the store's "unchanged" test)
            ns += _id(str(tag)) % 1_000_000_000
        return ns
    return 0


class RemoteStat:
    """The os.stat_result fields logscan reads, for an object."""

    def __init__(self, fs, key: str, info: dict) -> None:
        self.st_mode = stat.S_IFREG | 0o444
        self.st_size = int(info.get("size") or 0)
        self.st_mtime_ns = _mtime_ns(info)
        self.st_mtime = self.st_mtime_ns / 1e9
        proto = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self.st_dev = _id(f"{proto}://{key.split('/', 1)[0]}")  # the bucket
        self.st_ino = _id(key)


class RemotePath:
    """A log object; str() is its URL. stat() is the listing's, taken once per run (discovery), so
    every stage of a run sees the same size and time."""

    remote = True

    def __init__(self, url: str, fs=None, key: str | None = None, info: dict | None = None) -> None:
        if fs is None:
            fs, key = filesystem(url)
        self.url, self.fs, self.key, self._info = url, fs, key, info

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemotePath({self.url!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[0]

    def stat(self) -> RemoteStat:
        if self._info is None:
            try:
                self._info = self.fs.info(self.key)
            except OSError:
                raise
            except Exception as exc:  # noqa: BLE001 - a backend's own error types
                raise OSError(errno.EIO, why(exc)) from exc
        return RemoteStat(self.fs, self.key, self._info)

    def open(self):
        return open_remote(self)


class _Guarded(io.RawIOBase):
    """A remote file whose every error is an OSError (a dropped connection, an expired token: the
    read stops there and the file is reported as read in part, as a local I/O error is)."""

    def __init__(self, fh) -> None:
        super().__init__()
        self._fh = fh

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - botocore, aiohttp, google-auth, azure errors
            raise OSError(errno.EIO, why(exc)) from exc

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._call(self._fh.read, len(b))
        b[:len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        return self._call(self._fh.read, n)

    read1 = read

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        return self._call(self._fh.seek, pos, whence)

    def tell(self) -> int:
        return self._call(self._fh.tell)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._fh.close()
        super().close()


def open_remote(path: RemotePath) -> io.RawIOBase:
    """The object for reading, fetched in READ_BLOCK ranges as it is read (no whole download)."""
    fs, key = path.fs, path.key
    try:
        try:
            fh = fs.open(key, "rb", block_size=READ_BLOCK, cache_type="readahead")
        except TypeError:  # a backend without those options
            fh = fs.open(key, "rb")
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise OSError(errno.EIO, why(exc)) from exc
    return _Guarded(fh)


# --- discovery -------------------------------------------------------------------------------------

def _has_magic(key: str) -> bool:
    return any(c in key for c in "*?[")


def expand(raw: str, found: list, skipped: list, not_searched: dict[str, str], skipped_type) -> None:
    """Discovery of one URL: (RemotePath, named explicitly, stat) into `found`, the reasons for what
    is not read into `skipped` (listing errors are `unreadable`: exit 11). A prefix is read
    recursively; a glob's folders too; folders `not_searched` are left out, each said."""
    fs, key = filesystem(raw)
    before = len(found), len(skipped)
    try:
        with contextlib.suppress(Exception):
            fs.invalidate_cache()  # a listing cached by an earlier call in this process could be stale
        if _has_magic(key):
            hits = fs.glob(key, detail=True)
            for hit in sorted(hits):
                info = hits[hit]
                if info.get("type") == "directory":
                    _walk(fs, hit, found, skipped, not_searched, skipped_type)
                else:
                    _add(fs, hit, info, True, found)
        else:
            try:
                info = fs.info(key)
            except FileNotFoundError:
                skipped.append(skipped_type(raw, "no such file or directory"))
                return
            if info.get("type") == "directory":
                _walk(fs, key, found, skipped, not_searched, skipped_type)
            else:
                _add(fs, key, info, True, found)
    except Exception as exc:  # noqa: BLE001 - no credentials, access denied, a network error
        skipped.append(skipped_type(raw, f"cannot list: {why(exc)}", unreadable=True))
        return
    if (len(found), len(skipped)) == before:
        skipped.append(skipped_type(raw, "the pattern matched no file" if _has_magic(key) else "empty folder"))


def _add(fs, key: str, info: dict, explicit: bool, found: list) -> None:
    found.append((RemotePath(fs.unstrip_protocol(key), fs, key, info), explicit, RemoteStat(fs, key, info)))


def _walk(fs, top: str, found: list, skipped: list, not_searched: dict[str, str], skipped_type) -> None:
    top = top.rstrip("/")
    said: set[str] = set()
    listing = fs.find(top, detail=True, withdirs=False)
    for key in sorted(listing):
        rel = key[len(top):].lstrip("/").split("/")
        folder = next((i for i, part in enumerate(rel[:-1]) if part in not_searched), None)
        if folder is not None:
            where = "/".join([top, *rel[:folder + 1]])
            if where not in said:
                said.add(where)
                skipped.append(skipped_type(fs.unstrip_protocol(where),
                                            f"{not_searched[rel[folder]]}: not searched (name it to read it)"))
            continue
        _add(fs, key, listing[key], False, found)


# --- outputs: a failure table (--output) and a report folder (--out) ---------------------------------

def _exists(fs, key: str, url: str, option: str) -> bool:
    try:
        return fs.exists(key)
    except Exception as exc:  # noqa: BLE001
        raise OutputError(f"cannot reach {option} {url}: {why(exc)}",
                          hint="check the bucket, the credentials and --endpoint-url") from None


def _upload(fs, local: str, key: str, url: str, option: str) -> None:
    try:
        fs.put_file(local, key)
    except Exception as exc:  # noqa: BLE001
        raise OutputError(f"could not write {option} {url}: {why(exc)}",
                          hint="check the bucket's permissions and the credentials, then run again") from None


class RemoteTableWriter(TableWriter):
    """TableWriter (logscan/output.py) for a URL: the table is written to a local temporary file
    batch by batch, then uploaded in one PUT (an object appears whole or not at all). An existing
    object is replaced only with force, as locally."""

    def __init__(self, url: str, force: bool = False, option: str = "--output") -> None:
        import tempfile

        self.url = url
        self.fs, self.key = filesystem(url)
        name = url.rstrip("/").rsplit("/", 1)[-1]
        if FORMATS.get(Path(name).suffix.lower()) is None:
            raise OutputError(f"cannot tell the output format of {option} {url}",
                              hint="end the name with .parquet, .csv or .jsonl")
        if _exists(self.fs, self.key, url, option) and not force:
            raise OutputError(f"{url} exists; not overwriting it", hint="pass --force to replace it")
        self._dir = tempfile.mkdtemp(prefix="logscan-out-")
        self._uploading = False
        super().__init__(Path(self._dir) / name, True, option)

    def close(self) -> None:
        self._uploading = True  # (TableWriter.close ends with abort(): the file must stay for the upload)
        try:
            super().close()
            _upload(self.fs, str(self.path), self.key, self.url, self.option)
        finally:
            self._uploading = False
            self.abort()

    def abort(self) -> None:
        super().abort()
        if not self._uploading:
            shutil.rmtree(self._dir, ignore_errors=True)


class RemoteFolder:
    """A report folder at a URL: built in a local temporary folder (`local`), then uploaded by
    publish(), the index.html pages last, so a reader never meets an index whose pages are not
    there yet. Refuses an existing report without force (checked at once, before a long scan)."""

    def __init__(self, url: str, force: bool = False, option: str = "--out") -> None:
        import tempfile

        self.url, self.option = url.rstrip("/"), option
        self.fs, key = filesystem(self.url)
        self.key = key.rstrip("/")
        if _exists(self.fs, f"{self.key}/index.html", self.url, option) and not force:
            raise OutputError(f"{self.url}/index.html exists; not overwriting it",
                              hint="pass --force, or choose another --out")
        self.local = Path(tempfile.mkdtemp(prefix="logscan-report-"))

    def publish(self) -> str:
        """Upload the folder; returns the URL of its index.html."""
        files = sorted((p for p in self.local.rglob("*") if p.is_file()),
                       key=lambda p: (p.name == "index.html", -len(p.parts), str(p)))
        for p in files:
            rel = p.relative_to(self.local).as_posix()
            _upload(self.fs, str(p), f"{self.key}/{rel}", join(self.url, rel), self.option)
        return join(self.url, "index.html")

    def cleanup(self) -> None:
        shutil.rmtree(self.local, ignore_errors=True)
