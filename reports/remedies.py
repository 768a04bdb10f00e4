"""Remediation chosen by the software that logged a problem and by its direction.

categories.toml gives every category its general `remediation` (and `remediation_zh`). A category
may add variants beside it, each a list of steps in English with a `_zh` twin:

    remediation_inbound      our server refusing clients (smtpd/ACL settings, fail2ban, postscreen)
    remediation_postfix      Postfix's own commands and parameters (main.cf, postconf, postqueue)
    remediation_exim         Exim's (exim -bt, exim -bP, the router/transport/ACL options)
    remediation_sendmail     sendmail's (sendmail.mc, access db, mailq)
    remediation_client       any client library or program (its SMTP settings)
    remediation_msmtp, remediation_phpmailer, remediation_smtplib, remediation_nodemailer,
    remediation_javamail     one client's own options (msmtprc, $mail->SMTPSecure, ...)

An inbound problem takes remediation_inbound; any other takes, per program that logged it, the most
specific variant there is (its own, then `client` for a client library), else the general steps.
Engine's Category reads only the general keys, so adding variants changes nothing else.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from logscan.engine import Category

CLIENTS = ("msmtp", "phpmailer", "smtplib", "nodemailer", "javamail")
SOFTWARE_LABEL = {"postfix": "Postfix", "exim": "Exim", "sendmail": "Sendmail", "msmtp": "msmtp",
                  "phpmailer": "PHPMailer", "smtplib": "Python smtplib", "nodemailer": "Nodemailer",
                  "javamail": "Jakarta Mail / JavaMail"}
MAX_SOFTWARE = 3  # per problem, the programs with most failures get their own steps


@cache
def _variants() -> dict[str, dict[str, tuple[str, ...]]]:
    text = resources.files("logscan").joinpath("knowledge/categories.toml").read_text(encoding="utf-8")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for cid, c in tomllib.loads(text).items():
        out[cid] = {k.removeprefix("remediation_"): tuple(v) for k, v in c.items()
                    if k.startswith("remediation_") and isinstance(v, list)}
    return out


def variant(cat: Category | None, name: str | None, lang: str) -> tuple[str, ...]:
    """One variant's steps in `lang` (English where not translated); () when absent. None: general."""
    if cat is None:
        return ()
    if name is None:
        return tuple(cat.text("remediation", lang))
    v = _variants().get(cat.id, {})
    return (v.get(f"{name}_{lang}") if lang != "en" else None) or v.get(name, ())


def _for(cat: Category | None, section: str, software: str, lang: str) -> tuple[str, ...]:
    if cat is None:
        return ()
    names = ["inbound"] if section == "inbound" else []
    names += [software] + (["client"] if software in CLIENTS else [])
    for name in names:
        steps = variant(cat, name, lang)
        if steps:
            return steps
    return variant(cat, None, lang)


def steps(cat: Category | None, section: str, sources: dict[str, int], lang: str = "en") -> list[dict[str, Any]]:
    """[{"software": label or "", "steps": [...]}]: the category's steps for this section, per
    program that logged the problem (most failures first); programs that get the same steps share
    one list, and a problem of one program has one unlabelled list."""
    groups: list[dict[str, Any]] = []
    for software in list(sources)[:MAX_SOFTWARE] or [""]:
        chosen = list(_for(cat, section, software, lang))
        same = next((g for g in groups if g["steps"] == chosen), None)
        if same is not None:
            same["programs"].append(software)
        elif chosen:
            groups.append({"programs": [software], "steps": chosen})
    for g in groups:
        g["software"] = ", ".join(SOFTWARE_LABEL.get(p, p) for p in g.pop("programs") if p) if len(groups) > 1 else ""
    return groups


def first_step(groups: list[dict[str, Any]]) -> str:
    return groups[0]["steps"][0] if groups and groups[0]["steps"] else ""
