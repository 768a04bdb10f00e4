"""The client errors as they read in other languages: the alternatives of the localized rules in
logscan/knowledge/rules/clients.toml (CLI038-CLI046) and the localized rows of
logscan/knowledge/tables/msmtp.toml, from the translations the programs ship.

    python tools/knowledge/client_l10n.py MSMTP_GIT_DIR REF rules   # the alternatives per meaning
    python tools/knowledge/client_l10n.py MSMTP_GIT_DIR REF table   # [[row]] blocks for msmtp.toml

Three sources, each read as data (only the short message texts, no code):
- the C library's error texts (strerror, gai_strerror) in /usr/share/locale/<lang>/LC_MESSAGES/libc.mo
  (Debian 12's glibc 2.36 here): every program that prints the OS error in the user's locale
  (msmtp, PHP's stream_socket_client, Python's OSError, Ruby's Errno) writes these;
- GnuTLS's texts in gnutls30.mo (msmtp's TLS errors quote them);
- msmtp's own messages in po/<lang>.po of a clone of github.com/marlam/msmtp at REF.
A translation that a file lacks (or marks fuzzy) adds nothing: the program then prints English.
"""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
from pathlib import Path

LOCALE = Path("/usr/share/locale")
LANGS = ("de", "fr", "es", "pt_BR", "pt", "it", "nl", "pl", "cs", "ru", "uk", "zh_CN", "zh_TW", "ja", "ko",
         "sv", "tr", "hu", "fi", "da", "nb", "ro", "vi", "id", "el", "ca", "sk", "hr", "bg", "sr", "lt", "gl",
         "eo")

# rule id -> (category, [(domain, msgid), ...]); domain "msmtp" is read from the po files
MEANINGS = {
    "CLI038": ("connection_refused", [("libc", "Connection refused")]),
    "CLI039": ("connection_timeout", [("libc", "Connection timed out"), ("msmtp", "the operation timed out")]),
    "CLI040": ("network_unreachable", [("libc", "Network is unreachable"), ("libc", "No route to host")]),
    "CLI041": ("connection_lost", [("libc", "Connection reset by peer"),
                                   ("msmtp", "the connection was closed unexpectedly")]),
    "CLI042": ("server_unresolvable", [("libc", "Name or service not known")]),
    "CLI043": ("dns_error", [("libc", "Temporary failure in name resolution")]),
    "CLI044": ("tls_required", [("msmtp", "cannot use a secure authentication method"),
                                ("msmtp", "the server does not support TLS via the STARTTLS command")]),
    "CLI045": ("wrong_port_or_protocol", [("gnutls30", "An unexpected TLS packet was received.")]),
    "CLI046": ("tls_certificate", [("msmtp", "TLS certificate verification failed"),
                                   ("msmtp", "TLS certificate check failed")]),
}

# msmtp's message templates for the table rows: (template msgid, the OS/TLS text's meaning, values)
ROWS = [
    ("cannot connect to %s, port %d: %s", ("libc", "Connection refused"), "connection_refused"),
    ("cannot connect to %s, port %d: %s", ("libc", "Connection timed out"), "connection_timeout"),
    ("cannot connect to %s, port %d: %s", ("libc", "Network is unreachable"), "network_unreachable"),
    ("cannot connect to %s, port %d: %s", ("libc", "No route to host"), "network_unreachable"),
    ("cannot locate host %s: %s", ("libc", "Name or service not known"), "server_unresolvable"),
    ("cannot locate host %s: %s", ("libc", "Temporary failure in name resolution"), "dns_error"),
    ("network read error: %s", ("msmtp", "the operation timed out"), "connection_timeout"),
    ("network read error: %s", ("libc", "Connection reset by peer"), "connection_lost"),
    ("TLS handshake failed: %s", ("gnutls30", "An unexpected TLS packet was received."), "wrong_port_or_protocol"),
    ("the connection was closed unexpectedly", None, "connection_lost"),
    ("cannot use a secure authentication method", None, "tls_required"),
    ("the server does not support TLS via the STARTTLS command", None, "tls_required"),
    ("TLS certificate verification failed", None, "tls_certificate"),
    ("TLS certificate check failed", None, "tls_certificate"),
]


def po_entries(git_dir: str, ref: str, lang: str) -> dict[str, str]:
    try:
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{ref}:po/{lang}.po"], check=True,
                              capture_output=True).stdout.decode("utf-8")
    except subprocess.CalledProcessError:
        return {}
    out = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block:
            continue
        mid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        mst = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if mid and mst:
            key, val = (bytes("".join(re.findall(r'"(.*)"', m.group(1))), "utf-8").decode("unicode_escape")
                        .encode("latin-1").decode("utf-8") for m in (mid, mst))
            if val:
                out[key] = val
    return out


def translations(git_dir: str, ref: str) -> dict[str, dict[tuple[str, str], str]]:
    """lang -> {(domain, msgid): text}"""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for lang in LANGS:
        t: dict[tuple[str, str], str] = {}
        for domain in ("libc", "gnutls30"):
            mo = LOCALE / lang / "LC_MESSAGES" / f"{domain}.mo"
            if mo.exists():
                with mo.open("rb") as f:
                    cat = gettext.GNUTranslations(f)
                for _, pairs in MEANINGS.values():
                    for d, msgid in pairs:
                        if d == domain and cat.gettext(msgid) != msgid:
                            t[(d, msgid)] = cat.gettext(msgid)
        for msgid, val in po_entries(git_dir, ref, lang).items():
            t[("msmtp", msgid)] = val
        out[lang] = t
    return out


def alternative(text: str) -> str:
    """A regex alternative for a translated text: escaped, and an apostrophe of any kind (msmtp's
    log writes a typographic one as '?')."""
    parts = re.split(r"['’]", text.rstrip("."))
    return "['’?]".join(re.escape(p).replace(r"\ ", r"\ ") for p in parts)


def rules(tr: dict) -> str:
    out = []
    for rid, (cat, pairs) in MEANINGS.items():
        out.append(f"# {rid} {cat}")
        seen = set()
        for lang, t in tr.items():
            for key in pairs:
                if key in t and t[key] not in seen:
                    seen.add(t[key])
                    out.append(f"  | {alternative(t[key])}  # {lang} {key[0]}: {key[1]}")
    return "\n".join(out)


def table(tr: dict) -> str:
    """One row per translated text: msmtp's message in the language, or its English message where
    msmtp has no translation (msmtp then prints English around the C library's localized text)."""
    out, seen = [], set()
    for lang in LANGS:
        t = tr.get(lang, {})
        for template, inner, cat in ROWS:
            head = t.get(("msmtp", template))
            if inner is None and head is None:
                continue  # msmtp's own English text: an English row exists already
            if inner is not None and inner not in t:
                continue  # the OS/TLS part would be English too
            vals = {"cannot connect to %s, port %d: %s": ("smtp.example.com", 587),
                    "cannot locate host %s: %s": ("smtp.gmial.com",)}.get(template, ())
            if inner is not None:
                vals = (*vals, t[inner])
            try:
                text = (head or template) % vals
            except TypeError:
                continue
            if text in seen:
                continue
            seen.add(text)
            where = f"msmtp po/{lang}.po" if head else "msmtp (English, no translation)"
            out.append(f'[[row]]\ntext = "{text}"\ncategory = "{cat}"\nnote = "{lang}: {where} \'{template}\''
                       + (f" + {inner[0]} \'{inner[1]}\'" if inner else "") + '"\n')
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[3] not in ("rules", "table"):
        print(__doc__, file=sys.stderr)
        return 2
    tr = translations(argv[1], argv[2])
    print(rules(tr) if argv[3] == "rules" else table(tr))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
