"""How often logscan's root cause agrees with Sisimai's bounce reason on real bounce replies.

    python tools/agreement/sisimai.py            # agreement per Sisimai reason, then totals
    python tools/agreement/sisimai.py --list     # ... and every disagreement, reviewed or not
    python tools/agreement/sisimai.py --mapping  # the reason -> category table (Markdown)
    python tools/agreement/sisimai.py --part score   # only the held-out half (see PARTS below)

Input: ../shared/corpora/sisimai/diagnostics.jsonl (real bounces run through Sisimai 4.25.15, BSD-2;
read in place, never copied; see that folder's README). Each row's reply text goes through the real
engine with what a log row would carry: the reply code, the RFC 3463 status (not Sisimai's private
X.0.9NN codes), the SMTP stage, the remote host, outbound. The mapping (sisimai_mapping.toml) says
which logscan categories mean what each Sisimai reason means; a verdict outside them is a
disagreement. Disagreements where logscan is right and Sisimai is not are listed with the reason in
sisimai_reviewed.toml; they are counted apart, never as agreement. So are abstentions: rows where
logscan says `unknown` because the reply names no cause (an [[abstain]] entry there says why).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from logscan.engine import Engine
from logscan.parsers.postfix import explain_status_text
from logscan.smtp import split_reply

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1].parent / "shared" / "corpora" / "sisimai" / "diagnostics.jsonl"
MAPPING = HERE / "sisimai_mapping.toml"
REVIEWED = HERE / "sisimai_reviewed.toml"

# Sisimai's SMTP command -> logscan's smtp_stage. Sisimai has one DATA for both the DATA command and
# the end of the message; a rejection there nearly always follows the content ("end of DATA").
SAID = re.compile(r"host \S{1,300}\[[^\]\s]{1,64}\] (?:said|refused to talk to me): ")
STAGES = {"CONN": "connect", "HELO": "HELO", "EHLO": "EHLO", "MAIL": "MAIL FROM", "RCPT": "RCPT TO",
          "DATA": "end of DATA", "AUTH": "AUTH", "STARTTLS": "STARTTLS"}
EVENTS = {"failed": "bounced", "delayed": "deferred"}


# Generalization is measured, not claimed: the corpus is split by bounce file into a half that rule
# work may learn from and a half that is only scored. A file's half is fixed by its name's hash, so
# the split never moves when rows are added or reordered. Tune on "learn"; report "score" too.
PARTS = ("all", "learn", "score")


def part_of(row: dict) -> str:
    """'learn' or 'score': the half of the corpus this bounce file belongs to."""
    return "score" if hashlib.sha256(row["file"].encode("utf-8")).digest()[0] % 2 else "learn"


@dataclass
class Case:
    key: str  # "<corpus file>#<sha1 of the reply text, 8 hex>": stable across corpus reorderings
    reason: str
    record: dict
    category: str = ""
    rule_id: str = ""
    verdict: str = ""  # agree | reviewed | abstain | disagree | no-verdict
    why: str = ""


@dataclass
class Result:
    cases: list[Case] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(1 for c in self.cases if c.verdict == verdict)

    @property
    def judged(self) -> int:
        # An abstention stays in the denominator: it lowers agreement, as any row without a cause does.
        return self.count("agree") + self.count("reviewed") + self.count("abstain") + self.count("disagree")

    @property
    def agreement(self) -> float:
        return self.count("agree") / self.judged

    @property
    def agreement_with_reviewed(self) -> float:
        return (self.count("agree") + self.count("reviewed")) / self.judged

    def stale_reviews(self, reviewed: dict, verdict: str = "reviewed") -> list[str]:
        """Reviewed (or abstain) keys that no longer name such a row (the row is gone, or logscan now
        gives another category)."""
        used = {c.key for c in self.cases if c.verdict == verdict}
        return sorted(set(reviewed) - used)


def load_mapping(path: Path = MAPPING) -> tuple[dict[str, str], dict[str, dict]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data["skip"], data["reason"]


def load_reviewed(path: Path = REVIEWED, table: str = "case") -> dict[str, dict]:
    """`case`: disagreements where logscan is right; `abstain`: rows where logscan says unknown
    because the reply names no cause. Each entry needs key, sisimai, text and a non-empty why."""
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get(table, [])
    for e in entries:
        missing = [k for k in ("key", "sisimai", "text", "why") if not e.get(k)]
        if missing or (table == "case" and not e.get("logscan")):
            raise SystemExit(f"{path.name}: [[{table}]] {e.get('key', '?')} lacks {missing or ['logscan']}")
    return {e["key"]: e for e in entries}


def case_key(row: dict) -> str:
    digest = hashlib.sha1(row.get("diagnosticcode", "").encode("utf-8")).hexdigest()[:8]
    return f"{row['file']}#{digest}"


def unmangle(text: str) -> str:
    """The corpus holds non-ASCII replies as UTF-8 bytes read as Latin-1 ('ã¦ã¼ã¶ã¼'); a log has
    the real text ('ユーザー'), so undo that where it round-trips."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def record_of(row: dict) -> dict:
    """The fields a logscan failure row would carry for this bounce. Reply code and status come
    from Sisimai's fields, else from the start of the text (as `logscan classify` does)."""
    diagnostic = unmangle(row.get("diagnosticcode", ""))
    # A Postfix status text ("host X said: ... (in reply to RCPT TO command)", "refused to talk to
    # me: ..."): keep what logscan's Postfix parser keeps, the reply and the stage.
    postfix = explain_status_text(diagnostic) if SAID.search(diagnostic) else {}
    diagnostic = postfix.get("diagnostic") or diagnostic
    text_code, text_status = split_reply(diagnostic)
    status = row.get("deliverystatus") or None
    if status and status[2:5] == "0.9":  # Sisimai's private codes (5.0.9NN) are not RFC 3463
        status = None
    code = str(row.get("replycode") or "")
    return {
        "diagnostic": diagnostic,
        "smtp_code": int(code) if code.isdigit() else text_code,
        "enhanced_status": status or text_status,
        "smtp_stage": postfix.get("smtp_stage") or STAGES.get(row.get("smtpcommand") or "")
        or ("greeting" if "after initial connection" in diagnostic else None),  # as the Exim parser reads it
        "relay_host": row.get("rhost") or None,
        "event": EVENTS.get(row.get("action") or ""),
        "direction": "outbound",
    }


def measure(corpus: Path = CORPUS, engine: Engine | None = None, part: str = "all") -> Result:
    engine = engine or Engine.load()
    skip, reasons = load_mapping()
    reviewed, abstain = load_reviewed(), load_reviewed(table="abstain")
    result = Result()
    for line in corpus.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        row = json.loads(line)
        if part != "all" and part_of(row) != part:
            continue
        reason = row["reason"]
        if reason in skip and reason != "onhold":
            continue
        case = Case(case_key(row), reason, record_of(row))
        v = engine.classify(case.record)
        case.category, case.rule_id = v.category, v.rule_id
        if reason == "onhold":
            case.verdict = "no-verdict"
        elif reason not in reasons:
            raise SystemExit(f"Sisimai reason {reason!r} is not in {MAPPING.name}: add it with its reasoning")
        elif v.category in reasons[reason]["categories"]:
            case.verdict = "agree"
        elif case.key in reviewed and reviewed[case.key]["logscan"] == v.category:
            case.verdict, case.why = "reviewed", reviewed[case.key]["why"]
        elif case.key in abstain and v.category == "unknown":
            case.verdict, case.why = "abstain", abstain[case.key]["why"]
        else:
            case.verdict = "disagree"
        result.cases.append(case)
    return result


def mapping_markdown() -> str:
    skip, reasons = load_mapping()
    out = ["| Sisimai reason | logscan categories | why |", "|---|---|---|"]
    for name, m in reasons.items():
        out.append(f"| `{name}` | {', '.join(f'`{c}`' for c in m['categories'])} | {m['why']} |")
    for name, why in skip.items():
        out.append(f"| `{name}` | (not counted) | {why} |")
    return "\n".join(out)


def shorten(text: str, head: int = 200, tail: int = 200) -> str:
    """Both ends of a long reply: a DSN often quotes the remote server's words at its end."""
    return text if len(text) <= head + tail + 5 else f"{text[:head]} ... {text[-tail:]}"


def report(result: Result, listing: bool) -> str:
    out = []
    by_reason: dict[str, Counter] = {}
    for c in result.cases:
        by_reason.setdefault(c.reason, Counter())[c.verdict] += 1
    out.append(f"{'Sisimai reason':<16} {'rows':>5} {'agree':>6} {'reviewed':>9} {'abstain':>8} {'disagree':>9}")
    for reason, n in sorted(by_reason.items(), key=lambda kv: -sum(kv[1].values())):
        if reason == "onhold":
            continue
        out.append(f"{reason:<16} {sum(n.values()):>5} {n['agree']:>6} {n['reviewed']:>9} {n['abstain']:>8}"
                   f" {n['disagree']:>9}")
    j = result.judged
    out.append(f"\nAgreement on failure reasons: {result.count('agree')}/{j} = {100 * result.agreement:.1f}%")
    out.append(f"Agreement or logscan right after review: {result.count('agree') + result.count('reviewed')}/{j} = "
               f"{100 * result.agreement_with_reviewed:.1f}%")
    out.append(f"logscan abstains (unknown; the reply names no cause, reviewed): {result.count('abstain')}/{j}; "
               f"not reviewed: {result.count('disagree')}/{j}")
    unknown = sum(1 for c in result.cases if c.verdict != "no-verdict" and c.category == "unknown")
    out.append(f"unknown (any reason, reviewed or not): {unknown}/{j} = {100 * unknown / j:.1f}%")
    out.append(f"Not judged: {result.count('no-verdict')} onhold rows (Sisimai gave no verdict); "
               "feedback and vacation skipped.")
    if listing:
        for verdict, head in (("disagree", "Disagreements (not reviewed)"),
                              ("reviewed", "Disagreements where logscan is right (reviewed)"),
                              ("abstain", "logscan abstains: unknown, because the reply names no cause (reviewed)"),
                              ("no-verdict", "Sisimai onhold (no verdict), for reference")):
            rows = [c for c in result.cases if c.verdict == verdict]
            out.append(f"\n{head}: {len(rows)}")
            for c in rows:
                out.append(f"- {c.key}\n    sisimai {c.reason} | logscan {c.category} [{c.rule_id or '-'}]"
                           f" | stage {c.record['smtp_stage']} status {c.record['enhanced_status']}"
                           f" host {c.record['relay_host']}\n    {shorten(c.record['diagnostic'])}")
                if c.why:
                    out.append(f"    why: {c.why}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list every disagreement")
    ap.add_argument("--mapping", action="store_true", help="print the mapping table (Markdown) and exit")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help=f"diagnostics.jsonl (default {CORPUS})")
    ap.add_argument("--part", choices=PARTS, default="all",
                    help="learn: the half rule work may look at; score: the held-out half, only scored")
    args = ap.parse_args(argv)
    if args.mapping:
        print(mapping_markdown())
        return 0
    if not args.corpus.exists():
        print(f"Error: {args.corpus} not found; pass --corpus PATH to Sisimai's diagnostics.jsonl", file=sys.stderr)
        return 3
    result = measure(args.corpus, part=args.part)
    if args.part != "all":
        print(f"Part: {args.part} ({len(result.cases)} rows of the corpus)")
    print(report(result, args.list))
    if args.part != "all":
        return 0  # stale reviews are judged on the whole corpus only
    stale = result.stale_reviews(load_reviewed())
    if stale:
        print(f"\nStale reviews in {REVIEWED.name} (no longer a disagreement with that verdict): {stale}")
    stale = result.stale_reviews(load_reviewed(table="abstain"), "abstain")
    if stale:
        print(f"\nStale abstentions in {REVIEWED.name} (logscan no longer says unknown there): {stale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
