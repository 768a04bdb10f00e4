"""How often logscan names the cause of mail-client errors quoted verbatim in public threads.

    python tools/agreement/client_quotes.py FILE --part learn|score|all [--list]

FILE is a JSON-lines set kept OUTSIDE the repository (nothing fetched goes into a commit; the
set is held out so that rules are not fitted to it). One object a line:

    text        the error text as the thread quotes it (the exception message or log line)
    library     the client library or framework (nodemailer, smtplib, phpmailer, ...)
    source      the logscan format that would have read it (`logscan formats`), or null
    error_code  optional: the library's own code when the quote shows it (EAUTH, ESOCKET, ...)
    url         the thread the quote comes from
    cause       what the thread established, in words (null when it established nothing)
    category    the logscan category that cause (or, without one, the text itself) means; a list
                when more than one category is a right answer (for example auth_failed and
                auth_app_password for Gmail's BadCredentials reply)

Each quote goes through the engine as `logscan classify --jsonl` would take it (the text as the
diagnostic, codes read from its start, the source and error code, direction auto). A quote's half
is fixed by the sha256 of its thread URL, so that all quotes of one thread fall in the same half and
the split never moves when quotes are added: tune rules on "learn", only score "score".
Prints the agreement, the `unknown` share and a confusion list (expected -> got, with counts);
--list prints every miss (use it on the learn half only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PARTS = ("all", "learn", "score")


def part_of(url: str) -> str:
    return "score" if hashlib.sha256(url.encode("utf-8")).digest()[0] % 2 else "learn"


@dataclass
class Quote:
    line: int
    text: str
    library: str
    source: str | None
    error_code: str | None
    url: str
    expected: tuple[str, ...]
    got: str = ""
    rule_id: str = ""

    @property
    def right(self) -> bool:
        return self.got in self.expected


def load(path: Path, part: str) -> list[Quote]:
    quotes = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise SystemExit(f"{path}:{n}: not JSON ({exc})") from None
        missing = [k for k in ("text", "library", "url", "category") if not obj.get(k)]
        if missing:
            raise SystemExit(f"{path}:{n}: lacks {', '.join(missing)}")
        if part != "all" and part_of(obj["url"]) != part:
            continue
        cat = obj["category"]
        quotes.append(Quote(n, obj["text"], obj["library"], obj.get("source") or None, obj.get("error_code") or None,
                            obj["url"], tuple(cat) if isinstance(cat, list) else (cat,)))
    return quotes


def measure(quotes: list[Quote], engine=None) -> list[Quote]:
    from logscan.api import record_of, verdict_of
    from logscan.engine import Engine

    engine = engine or Engine.load()
    for q in quotes:
        obj = {"diagnostic": q.text}
        if q.error_code:
            obj["error_code"] = q.error_code
        v, _ = verdict_of(engine, record_of(obj), "auto", q.source)
        q.got, q.rule_id = v.category, v.rule_id or ""
    return quotes


def report(quotes: list[Quote], listing: bool) -> str:
    if not quotes:
        return "no quotes in this part"
    right = sum(q.right for q in quotes)
    unknown = sum(q.got == "unknown" for q in quotes)
    out = []
    family = {q.line: q.library.split()[0] for q in quotes}  # "go (gophish)" counts as go
    per_lib = Counter(family[q.line] for q in quotes)
    right_lib = Counter(family[q.line] for q in quotes if q.right)
    for lib in sorted(per_lib):
        out.append(f"  {lib:<16} {right_lib[lib]:>3}/{per_lib[lib]:<3}")
    confusion = Counter((q.expected[0], q.got) for q in quotes if not q.right)
    if confusion:
        out.append("confusion (expected -> got):")
        for (exp, got), n in confusion.most_common():
            out.append(f"  {n:>3}  {exp} -> {got}")
    if listing:
        out.append("misses:")
        for q in quotes:
            if not q.right:
                text = q.text if len(q.text) <= 240 else q.text[:237] + "..."
                out.append(f"  line {q.line} [{q.library}] expected {'|'.join(q.expected)}, got {q.got}"
                           f" ({q.rule_id or '-'}): {text!r}")
    out.append(f"agreement: {right}/{len(quotes)} = {100 * right / len(quotes):.1f}%; "
               f"unknown: {unknown}/{len(quotes)} = {100 * unknown / len(quotes):.1f}%")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", type=Path, help="the held-out quote set (JSON lines, kept outside the repository)")
    ap.add_argument("--part", choices=PARTS, default="all", help="learn: tune on it; score: only score it")
    ap.add_argument("--list", action="store_true", help="print every miss (use on the learn half only)")
    args = ap.parse_args(argv)
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    print(report(measure(load(args.file, args.part)), args.list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
