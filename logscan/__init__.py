"""logscan: why mail does not go out, and what to fix first.

The Python API (the CLI is a layer over it; see logscan.api for every option):

    import logscan
    failures = logscan.scan(["/var/log/mail.log*"])          # pyarrow.Table, one row per failure
    df = failures.to_pandas()                                 # or a pandas DataFrame
    logscan.classify("550 5.1.1 User unknown").category       # 'recipient_unknown'
    logscan.read_store("/var/lib/logscan", since="2026-11-01")  # what `scan --store` kept
    logscan.report(logscan.scan_with_stats(["/var/log/"]), "/srv/www/mailreport", period="day")

Errors are logscan.errors.LogscanError subclasses, each with `exit_code` and a `hint`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Classification", "classify", "read_store", "report", "scan", "scan_with_stats"]

if TYPE_CHECKING:
    from .api import Classification, classify, read_store, report, scan, scan_with_stats


def __getattr__(name: str):
    # The API loads on first use: `import logscan` (and the CLI's start, which cron pays for on every
    # run) stays free of pyarrow and pandas.
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'logscan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
