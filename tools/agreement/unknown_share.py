"""Share of failure rows that end as `unknown`, on every corpus log logscan reads.

    python tools/agreement/unknown_share.py          # per corpus: failures, unknown, share
    python tools/agreement/unknown_share.py --top 20 # ... and the most frequent unknown signatures
    python tools/agreement/unknown_share.py --exim-repo DIR  # ... and which unknown Exim test-suite rows
                                                     # carry a text scripted by the test itself


The corpora are ../shared/corpora (real logs from public projects, read in place; see their README).
Each is scanned by the real pipeline with its format forced, as tests/test_corpora*.py do. The Exim
test-suite logs come from Exim's own tests: many replies there are invented by its test
configuration ("550 NO", "not just now"), so their unknown share says less than the others'.
`--exim-repo` takes a checkout of Exim at the corpus' commit (13835a3c1e05) and counts the unknown
rows whose reply or message text is written in the test's own scripts or configuration (test/scripts,
test/confs) or is runtest's mask for an OS error ("Network Error"): nothing outside the test could
say what they mean. The rest are texts of Exim's own that logscan does not classify yet.
The postfix-grok-patterns cases are single Postfix messages; each gets a syslog header (as
tests/test_corpora.py does) and the set is scanned as one log.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import regex

from logscan.pipeline import ScanOptions, scan

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (CORPORA / folder).rglob("*") if p.is_file())


GROK_DAEMONS = {"POSTFIX_SMTP": "smtp", "POSTFIX_LMTP": "lmtp", "POSTFIX_ERROR": "error",
                "POSTFIX_QMGR": "qmgr", "POSTFIX_SMTPD": "smtpd"}


def grok_cases_log(folder: Path) -> Path:
    """The postfix-grok-patterns messages as one syslog file (written once into `folder`)."""
    out = folder / "postfix-grok-patterns.log"
    if not out.exists():
        lines = []
        for raw in open(CORPORA / "postfix-grok-patterns" / "cases.jsonl", encoding="utf-8"):
            case = json.loads(raw)
            daemon = GROK_DAEMONS.get(case["pattern"])
            if daemon and "\n" not in case["data"]:
                lines.append(f"Nov 27 12:00:00 mx1 postfix/{daemon}[123]: {case['data']}\n")
        out.write_text("".join(lines), encoding="utf-8")
    return out


# name -> (files, format)
def corpus_logs(scratch: Path | None = None) -> dict[str, tuple[list[Path], str]]:
    scratch = scratch or Path(tempfile.mkdtemp(prefix="logscan-unknown-"))
    return {
        "postfix-grok-patterns/cases.jsonl": ([grok_cases_log(scratch)], "postfix"),
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


def measure(name: str, files: list[Path], fmt: str, diagnostics: dict | None = None) -> tuple[int, Counter]:
    """(failures, Counter of (event, signature) for the unknown ones). If `diagnostics` is a dict,
    it receives one whole diagnostic per unknown (event, signature)."""
    table = scan([str(f) for f in files], ScanOptions(forced_format=fmt, workers=1)).table
    if table.num_rows == 0:
        return 0, Counter()
    rows = zip(table.column("category").to_pylist(), table.column("event").to_pylist(),
               table.column("signature").to_pylist(), table.column("diagnostic").to_pylist(), strict=True)
    unknown = Counter()
    for c, e, s, d in rows:
        if c == "unknown":
            unknown[(e, s)] += 1
            if diagnostics is not None:
                diagnostics.setdefault((e, s), d or "")
    return table.num_rows, unknown


# Exim's own framing around a reply or message: what is left is the text the test wrote.
EXIM_FRAMING = regex.compile(
    r"^(?:.{0,300}?(?:SMTP error from remote mail server after|LMTP error after|PRDR error after)"
    r"[^:]{0,200}(?::<[^>]{0,300}>)?: |.{0,300}? : response to \"[^\"]{0,300}\" was: |"
    r"Could not complete (?:sender|recipient) verify callout: .{0,300}? : |host \S{1,300} \[[^\]]{1,64}\]: )")


def scripted_text(diagnostic: str) -> str:
    """The part of a diagnostic that a test script or configuration could have written."""
    text = EXIM_FRAMING.sub("", diagnostic.strip(), count=1).replace("\\n", "\n").split("\n")[0]
    return MULTILINE_REST.sub("", text).strip()


MULTILINE_REST = regex.compile(r"(?<=^\d{3}-.{1,300}?) \d{3}[ -].*$")


# Where Exim's tests write the texts their servers, ACLs, routers, alias and filter files answer with.
FIXTURE_DIRS = ("test/scripts", "test/confs", "test/aux-fixed", "test/aux-var-src", "test/runtest")


C_STRING = regex.compile(r'"((?:[^"\\\n]|\\.){1,500})"')


def exim_source_strings(repo: Path) -> frozenset[str]:
    """The string literals of Exim's own C source (src/src), where its own log and reply texts
    are written (comments do not count: a phrase in a comment is not a text Exim writes)."""
    return frozenset(C_STRING.findall(_read_git_files(repo, ("src/src",), ".c")))


def exim_fixture_text(repo: Path) -> str:
    """The FIXTURE_DIRS of an Exim git repository, as one text."""
    return _read_git_files(repo, FIXTURE_DIRS)


def _read_git_files(repo: Path, paths: tuple[str, ...], suffix: str = "") -> str:
    """The files under `paths` at HEAD of a git repository (a bare mirror works too), as one text."""
    listing = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "HEAD", *paths],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    blobs = [line.split()[2] for line in listing if line.split("\t", 1)[-1].endswith(suffix)]
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input=("\n".join(blobs) + "\n").encode(),
                         capture_output=True, check=True).stdout
    # The batch output is "<sha> blob <size>\n<content>\n" per file: keep the contents only.
    texts, pos = [], 0
    while pos < len(out):
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        texts.append(out[header_end + 1:header_end + 1 + size].decode("utf-8", errors="replace"))
        pos = header_end + 1 + size + 1
    return "\n".join(texts)


# What Exim logs when one of our ACL statements refuses without a `message` or `log_message`
# (src/smtp_in.c, src/acl.c): Exim's own words, but they name no reason at all.
# "Administrative prohibition" and "Temporary local problem" are what Exim answers for a deny or
# defer without a message (src/smtp_in.c, src/receive.c), "local configuration problem" for a
# non-SMTP ACL's (src/receive.c).
NO_REASON = regex.compile(r"^(?:temporarily )?rejected (?:RCPT|MAIL|after DATA|connection|VRFY|EXPN|WELLKNOWN|"
                          r"ATRN|ETRN|STARTTLS|HELO|EHLO)$|^VRFY failed$|^Administrative prohibition$|"
                          r"^Temporary local problem$|^local configuration problem$")


# What a log line fills in (addresses, numbers, octal escapes, brackets) splits a text into its
# literal pieces.
FILLED_IN = regex.compile(r"<[^>]{0,300}>|\S{0,300}@\S{0,300}|\d+|\\\d{3}|[\[\]()]|>>|<<")


def _candidates(text: str) -> list[str]:
    """The text, then each literal piece and its word prefixes (2+ words, 8+ characters): a test
    configuration writes "don't like sender $sender_address", the log has the address filled in."""
    out = [text]
    for piece in FILLED_IN.split(text):
        words = piece.split()
        out += [p for n in range(len(words), 1, -1) if len(p := " ".join(words[:n])) >= 8]
    return out


def scripted_by_test(text: str, fixtures: str, exim_strings: frozenset[str] = frozenset()) -> bool:
    """Is `text` written in the test's fixtures (whole, or a literal piece of it), and not the
    part of a string that Exim's own source writes?"""
    for needle in _candidates(text):
        if len(needle) < 2 or needle not in fixtures or any(needle in s for s in exim_strings):
            continue
        if regex.search(r"(?<![\w-])" + regex.escape(needle) + r"(?![\w])", fixtures):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=0, help="list this many unknown signatures per corpus")
    ap.add_argument("--exim-repo", type=Path, help="an Exim git checkout (or bare mirror) at the corpus' commit")
    args = ap.parse_args(argv)
    if not CORPORA.exists():
        print(f"Error: {CORPORA} not found (the shared corpora)", file=sys.stderr)
        return 3
    fixtures = exim_fixture_text(args.exim_repo) if args.exim_repo else None
    exim_strings = exim_source_strings(args.exim_repo) if args.exim_repo else frozenset()
    total_f = total_u = 0
    for name, (files, fmt) in corpus_logs().items():
        diagnostics: dict = {}
        failures, unknown = measure(name, files, fmt, diagnostics)
        u = sum(unknown.values())
        total_f, total_u = total_f + failures, total_u + u
        print(f"{name:<36} {failures:>6} failures {u:>6} unknown {100 * u / max(failures, 1):5.1f}%")
        scripted = set()
        if fixtures is not None and name.startswith("exim/"):
            scripted = {k for k in unknown if scripted_by_test(scripted_text(diagnostics[k]), fixtures, exim_strings)}
            silent = {k for k in unknown if k not in scripted and NO_REASON.match(k[1])}
            s, n = sum(unknown[k] for k in scripted), sum(unknown[k] for k in silent)
            rest = u - s - n
            print(f"    of which {s} carry a text scripted by the test, {n} are Exim's words for an ACL refusal "
                  f"without a reason, {rest} ({100 * rest / max(failures, 1):.1f}% of the failures) other Exim texts")
        for (event, sig), n in unknown.most_common(args.top):
            mark = "test" if (event, sig) in scripted else "    "
            print(f"    {n:>5} {mark} {event} | {sig[:160]}")
    print(f"{'all':<36} {total_f:>6} failures {total_u:>6} unknown {100 * total_u / max(total_f, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
