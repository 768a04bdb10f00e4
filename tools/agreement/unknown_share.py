"""Share of failure rows that end as `unknown`, on every corpus log logscan reads.

    python tools/agreement/unknown_share.py          # per corpus: failures, unknown, share
    python tools/agreement/unknown_share.py --top 20 # ... and the most frequent unknown signatures

The corpora are ../shared/corpora (real logs from public projects, read in place; see their README).
Each is scanned by the real pipeline with its format forced, as tests/test_corpora*.py do. The Exim
test-suite logs come from Exim's own tests: many replies there are invented by its test
configuration ("550 NO", "forced defer"), so their unknown share says less than the others'.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from logscan.pipeline import ScanOptions, scan

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (CORPORA / folder).rglob("*") if p.is_file())


# name -> (files, format)
def corpus_logs() -> dict[str, tuple[list[Path], str]]:
    return {
        "fail2ban/postfix.log": ([CORPORA / "fail2ban" / "postfix.log"], "postfix"),
        "fail2ban/exim.log": ([CORPORA / "fail2ban" / "exim.log"], "exim"),
        "fail2ban/exim-spam.log": ([CORPORA / "fail2ban" / "exim-spam.log"], "exim"),
        "lightmeter/individual_files": (
            [p for p in _files("lightmeter/individual_files") if not p.name.startswith("unsupported_")], "postfix"),
        "lightmeter/complete": (_files("lightmeter/complete"), "postfix"),
        "exim/log (Exim test suite)": (_files("exim/log"), "exim"),
        "exim/rejectlog (Exim test suite)": (_files("exim/rejectlog"), "exim"),
        "exim/paniclog (Exim test suite)": (_files("exim/paniclog"), "exim"),
    }


def measure(name: str, files: list[Path], fmt: str) -> tuple[int, Counter]:
    """(failures, Counter of (event, signature) for the unknown ones)."""
    table = scan([str(f) for f in files], ScanOptions(forced_format=fmt, workers=1)).table
    if table.num_rows == 0:
        return 0, Counter()
    rows = zip(table.column("category").to_pylist(), table.column("event").to_pylist(),
               table.column("signature").to_pylist(), strict=True)
    return table.num_rows, Counter((e, s) for c, e, s in rows if c == "unknown")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=0, help="list this many unknown signatures per corpus")
    args = ap.parse_args(argv)
    if not CORPORA.exists():
        print(f"Error: {CORPORA} not found (the shared corpora)", file=sys.stderr)
        return 3
    total_f = total_u = 0
    for name, (files, fmt) in corpus_logs().items():
        failures, unknown = measure(name, files, fmt)
        u = sum(unknown.values())
        total_f, total_u = total_f + failures, total_u + u
        print(f"{name:<36} {failures:>6} failures {u:>6} unknown {100 * u / max(failures, 1):5.1f}%")
        for (event, sig), n in unknown.most_common(args.top):
            print(f"    {n:>5} {event} | {sig[:160]}")
    print(f"{'all':<36} {total_f:>6} failures {total_u:>6} unknown {100 * total_u / max(total_f, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
