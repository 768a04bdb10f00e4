"""Which parts of the rules' patterns no real line here shows.

    python tools/agreement/rule_backing.py          # counts
    python tools/agreement/rule_backing.py --list   # ... and every alternative not seen

Each rule's `diagnostic` regex is split into its top-level alternatives ("a|b|c"). An alternative is
*seen* when it matches a line that real software wrote: the bundled sample_logs (made here by the
real programs) or the corpora in ../shared/corpora (Sisimai's replies decoded as sisimai.py does),
or the `diagnostic` or `signature` of a failure row that logscan itself extracts from those logs
(the text a rule really sees: one row per line, so an anchored "^...$" alternative can match it,
and a reply that a log splits over several lines is whole).
An alternative that is not seen must rest on what its rule cites (a provider's page, the program's
source). Where that source is recorded as a table (logscan/knowledge/tables/*.toml: a program's
failure texts read from its source, a provider's published codes), an alternative that a row's
text matches is *tabled*: backed by a cited, counted text. The rest rest on their rule's
references alone; the list is where to check those, one by one. Their count may only go down
(tests/test_rule_backing.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

import regex

from logscan.engine import Engine
from logscan.pipeline import ScanOptions, scan

REPO = Path(__file__).resolve().parents[2]
CORPORA = REPO.parent / "shared" / "corpora"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sisimai import unmangle  # noqa: E402  (the same decoding as the agreement script)
from unknown_share import corpus_logs  # noqa: E402  (the corpus logs and the format each is read as)


def top_alternatives(pattern: str) -> list[str]:
    """'a|(b|c)|[|]' -> ['a', '(b|c)', '[|]']: split at the "|"s outside groups and classes."""
    out, cur, depth, in_class, escaped = [], [], 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def real_text() -> str:
    """Every real line available here, one per line."""
    lines: list[str] = []
    for p in sorted((REPO / "sample_logs").rglob("*")):
        if p.is_file() and p.suffix != ".md":
            opener = gzip.open if p.suffix == ".gz" else open
            with opener(p, "rt", encoding="utf-8", errors="replace") as fh:
                lines += fh.read().splitlines()
    if CORPORA.exists():
        for p in sorted(CORPORA.rglob("*")):
            if p.is_file() and p.suffix not in (".md", ".gz", ".jsonl"):
                lines += p.read_text(encoding="utf-8", errors="replace").splitlines()
        for raw in open(CORPORA / "sisimai" / "diagnostics.jsonl", encoding="utf-8"):
            lines.append(unmangle(json.loads(raw).get("diagnosticcode") or "").replace("\n", " "))
        for raw in open(CORPORA / "postfix-grok-patterns" / "cases.jsonl", encoding="utf-8"):
            lines.append(json.loads(raw)["data"].replace("\n", " "))
    lines += extracted_texts()
    return "\n".join(lines)


def published_text() -> str:
    """Every row of the tables (logscan/knowledge/tables: providers' published codes, programs'
    failure texts read from their source), as the diagnostic and the signature a rule sees for it
    (logscan.coverage.record builds it as a parser would), one per line."""
    from logscan.coverage import load_tables, record
    from logscan.signature import signature_of

    lines = []
    for table in load_tables():
        for row in table.rows:
            diagnostic = record(table, row)["diagnostic"]
            lines += [diagnostic, signature_of(diagnostic)]
    return "\n".join(lines)


def _parser_sample_logs(folder: Path) -> list[tuple[list[str], str]]:
    """The parsers' own SAMPLES that real software wrote here (Sample.line; corpus refs are read
    with the corpora), one file per format, each line after its context lines."""
    from logscan.parsers import MODULES

    out = []
    for module in MODULES:
        lines = []
        for sample in module.SAMPLES:
            if sample.line:
                lines += [c for c in sample.context if not c.startswith("ref:")] + [sample.line]
        if lines:
            path = folder / f"samples-{module.PARSER.name}.log"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            out.append(([str(path)], module.PARSER.name))
    return out


def extracted_texts() -> list[str]:
    """The diagnostic and signature of every failure row logscan extracts from sample_logs, the
    parsers' own real sample lines and the corpus logs (the signature is what a rule's
    `diagnostic` regex is searched in)."""
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="logscan-backing-") as scratch:
        scans = [([str(REPO / "sample_logs")], None)] + _parser_sample_logs(Path(scratch))
        if CORPORA.exists():
            scans += [([str(f) for f in files], fmt) for files, fmt in corpus_logs(Path(scratch)).values()]
        for paths, fmt in scans:
            table = scan(paths, ScanOptions(forced_format=fmt, workers=1)).table
            for column in ("diagnostic", "signature"):
                if column in table.column_names:
                    out += [(t or "").replace("\n", " ") for t in table.column(column).to_pylist()]
    return out


def unseen(engine: Engine, text: str, cited: str = "") -> tuple[int, list[tuple[str, str]]]:
    """(alternatives in all, [(rule id, alternative) seen neither in text nor in cited]). A pattern
    written in verbose mode ('(?x)' first: one alternative a line, comments) is split and searched
    in that mode."""
    total, missing = 0, []
    for rule in engine.rules:
        if rule.diagnostic is None:
            continue
        flags = regex.IGNORECASE | regex.MULTILINE | regex.V0
        if rule.diagnostic.pattern.lstrip().startswith("(?x)"):
            flags |= regex.VERBOSE
        for alt in top_alternatives(rule.diagnostic.pattern):
            total += 1
            rx = regex.compile(alt, flags)
            if not rx.search(text, timeout=10) and not (cited and rx.search(cited, timeout=10)):
                missing.append((rule.id, alt.strip()))
    return total, missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list every alternative not seen")
    args = ap.parse_args(argv)
    if not CORPORA.exists():
        print(f"Note: {CORPORA} not found; only sample_logs are read", file=sys.stderr)
    engine, text = Engine.load(), real_text()
    total, not_seen = unseen(engine, text)
    _, missing = unseen(engine, text, published_text())
    print(f"{total} pattern alternatives in the built-in rules; {total - len(not_seen)} seen in a real line here, "
          f"{len(not_seen) - len(missing)} backed by a row of a published or source table, {len(missing)} resting on "
          "their rule's references")
    if args.list:
        for rule_id, alt in missing:
            print(f"  {rule_id:<8} {alt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
