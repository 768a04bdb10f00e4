#!/usr/bin/env python3
"""Do two `logscan scan --output X.parquet` runs give the same rows? (every column, in line order)

    python tools/contract/same_rows.py before.parquet after.parquet

Used to check that a change of the parser contract leaves the rows of a scan of
../shared/bench/genlog.py output unchanged (run the old and the new checkout on the same log).
Exit 0 when the tables are equal row for row, 1 otherwise (the first differences are printed).
"""

from __future__ import annotations

import sys

import pyarrow.parquet as pq


def rows(path: str) -> list[dict]:
    table = pq.read_table(path)
    table = table.cast(table.schema.remove_metadata())
    out = table.to_pylist()
    out.sort(key=lambda r: (str(r.get("source_file")), r.get("line_no") or 0, str(r.get("recipient"))))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    a, b = rows(argv[1]), rows(argv[2])
    diffs = 0
    if len(a) != len(b):
        print(f"{len(a)} rows against {len(b)}")
        diffs += 1
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            diffs += 1
            if diffs <= 5:
                cols = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
                print(f"row {i} (line {x.get('line_no')}): " + ", ".join(f"{c}: {x.get(c)!r} != {y.get(c)!r}" for c in cols))
    print(f"{len(a)} rows, {len(b)} rows: {'same' if not diffs else f'{diffs} differences'}")
    return 0 if not diffs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
