"""Evidence for the four leading causes of mail not going out: configuration (wrong server name,
port or TLS mode), authentication, network, and block lists / anti-spam filters.

Each section lists the concrete things to look at: which of our IPs a block list names and where
to ask for removal, which accounts fail to log in and from where, which clients talk the wrong
port or TLS mode, which servers cannot be reached. Everything here is read from the failure table;
nothing a log says is fetched or followed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import regex

from logscan.engine import Category
from logscan.parsers.base import formats_where
from logscan.reports.i18n import CLIENT_LABELS

LEADING = ("config", "auth", "network", "reputation")  # category families, in this order
ROWS = 15

# Block list names and listed IPs, taken from the reply text only when the text names them.
# Bounded repetitions and the `regex` timeout keep hostile text linear.
_LIST_NAME = regex.compile(
    r"(?:blocked using|listed (?:in|on|at|by)|found in|DNSLIST \()\s*(?P<name>[A-Za-z0-9][A-Za-z0-9.-]{0,100}[A-Za-z0-9])"
    # Postfix postscreen/smtpd reject: "Client host rejected: blocked using mail.neko.example.org;"
    #   (sisimai/diagnostics.jsonl:15); "Client host [..] blocked using zen.spamhaus.org"
    #   (sample_logs/postfix, Spamhaus's own reply); Exim: "host is listed in rbl2.test.ex"
    #   (corpora exim/rejectlog/4116:1), "DNSLIST (rbl.test.ex: ...)" (exim/rejectlog/0023:6).
    r"|on our (?P<name>block list \(S\d{3,5}\))",
    # Outlook.com: "part of their network is on our block list (S3150)" (sample_logs, Microsoft's reply).
    regex.IGNORECASE,
)
_LISTED_IP = regex.compile(
    r"(?:client host|messages from|from)\s*\[(?P<ip>[0-9a-fA-F.:]{3,45})\]"
    r"|\[(?P<ip>[0-9a-fA-F.:]{3,45})\]>:\s*Client host rejected",
    regex.IGNORECASE,
)
_URL = regex.compile(r"https?://[^\s<>\"';,)]{1,200}")

# Where to ask for removal, for lists whose operators publish a lookup/delisting page (shown as
# text, not links: the report references no URL at all).
REMOVAL = (
    ("spamhaus", "https://check.spamhaus.org/"),
    ("barracuda", "https://www.barracudacentral.org/rbl/removal-request"),
    ("spamcop", "https://www.spamcop.net/bl.shtml"),
    ("uceprotect", "https://www.uceprotect.net/en/rblcheck.php"),
    ("psbl", "https://psbl.org/"),
    ("block list (s3", "https://sender.office.com/"),  # Outlook.com / Microsoft 365 S3140, S3150
)


def blocklist_of(diagnostic: str) -> tuple[str | None, str | None, str | None]:
    """(list name, listed IP, URL the reply itself gives) from a reply text; None where absent."""
    try:
        name = _LIST_NAME.search(diagnostic, timeout=0.05)
        ip = _LISTED_IP.search(diagnostic, timeout=0.05)
        url = _URL.search(diagnostic, timeout=0.05)
    except TimeoutError:
        return None, None, None
    return (name.group("name") if name else None, ip.group("ip") if ip else None,
            url.group(0).rstrip(".") if url else None)  # a sentence's full stop is not part of the URL


def removal_page(list_name: str | None) -> str | None:
    low = (list_name or "").lower()
    return next((page for key, page in REMOVAL if key in low), None)


def _account(df: pd.DataFrame) -> pd.Series:
    return df["sasl_username"].astype(object).fillna(df["sender"].where(df["sender"] != "<>")).fillna("")


SERVERS = formats_where(server=True)  # (from the parsers' traits)


def _client(df: pd.DataFrame, lang: str = "en") -> pd.Series:
    """Who was sending: the client a server log names; else, for a server's own deliveries, the
    server and its host; for an application's log (msmtp, smtplib, ...), that log file."""
    on, in_file = CLIENT_LABELS.get(lang, CLIENT_LABELS["en"])
    source = df["source"].astype(str)
    host = df["host"].astype(object).fillna("?").astype(str)
    ours = _labels(on, source, "host", host)
    app = _labels(in_file, source, "file", df["source_file"].astype(str))
    return df["client"].astype(object).fillna(ours.where(source.isin(SERVERS), app))


def _labels(template: str, source: pd.Series, name: str, values: pd.Series) -> pd.Series:
    """template.format(source=, <name>=) per row, formatted once per distinct pair."""
    codes, pairs = pd.MultiIndex.from_arrays([source, values]).factorize()
    labels = pd.Series([template.format(source=s, **{name: v}) for s, v in pairs], dtype=object)
    return pd.Series(labels.to_numpy()[codes] if len(labels) else [], index=source.index, dtype=object)


def _grouped(df: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    """The ROWS largest groups by `keys`, each with failures, first, last and its last sample line.
    One vectorized groupby: a busy log has tens of thousands of groups."""
    if df.empty:
        return []
    g = df.groupby(keys, sort=False, dropna=False).agg(
        failures=("time", "size"), first=("time", "min"), last=("time", "max"), example=("where", "last"))
    g = g.reset_index()
    g["_order"] = g[keys[0]].astype(str)
    g = g.sort_values(["failures", "_order"], ascending=[False, True], kind="stable").head(ROWS)
    return [{**{k: ("" if pd.isna(r[k]) else r[k]) for k in keys}, "failures": int(r["failures"]),
             "first": r["first"], "last": r["last"], "example": r["example"]} for _, r in g.iterrows()]


def leading_causes(df: pd.DataFrame, categories: dict[str, Category], lang: str = "en") -> list[dict[str, Any]]:
    """One section per leading family that has failures: its categories and its evidence tables."""
    family = df["category"].map(lambda c: categories[c].family if c in categories else "other")
    sections = []
    for fam in LEADING:
        part = df[family == fam].copy()
        if part.empty:
            continue
        counts = part["category"].value_counts()
        section = {
            "family": fam,
            "failures": len(part),
            "categories": [{"category": c, "title": categories[c].text("title", lang) if c in categories else c,
                            "failures": int(n)} for c, n in counts.items()],
        }
        part["client_label"] = _client(part, lang)
        part["relay_label"] = part["relay"].astype(object).fillna("")
        if fam == "config":
            section["clients"] = _grouped(part, ["category", "client_label", "relay_label", "smtp_stage"])
        elif fam == "auth":
            part["account"] = _account(part)
            section["accounts"] = _grouped(part, ["account", "direction", "client_label", "relay_label", "category"])
        elif fam == "network":
            section["servers"] = _grouped(part, ["relay_label", "category", "client_label"])
        else:
            section["blocklists"] = blocklists(part)
            section["filters"] = _grouped(part[part["category"] != "blocklisted"], ["category", "relay_label"])
        sections.append(section)
    return sections


BRUTE_FORCE_IPS = 3  # distinct client IPs failing to log in: more than a user with an old password
BRUTE_FORCE_FAILURES = 10  # or this many failed logins


def is_brute_force(failures: int, clients: int) -> bool:
    return clients >= BRUTE_FORCE_IPS or failures >= BRUTE_FORCE_FAILURES


def inbound_defence(df: pd.DataFrame, categories: dict[str, Category], lang: str = "en") -> dict[str, Any] | None:
    """Refusals of our own server, read as defence: password guessing (the attacking IPs and the
    accounts tried), our block list checks (which lists refused how many clients) and the other
    refusals by cause. None when nothing was refused."""
    if df.empty:
        return None
    family = df["category"].map(lambda c: categories[c].family if c in categories else "other")
    auth = df[family == "auth"].copy()
    out: dict[str, Any] = {"failures": len(df), "clients": _nunique(df["client_ip"])}
    if not auth.empty:
        auth["account"] = _account(auth)
        ips = auth.groupby(auth["client_ip"].astype(object).fillna(""), sort=False).agg(
            failures=("time", "size"), accounts=("account", lambda a: a[a != ""].nunique()),
            host=("client_host", "first"), first=("time", "min"), last=("time", "max"), example=("where", "last"))
        ips = ips.reset_index().sort_values(["failures", "client_ip"], ascending=[False, True], kind="stable")
        accounts = auth[auth["account"] != ""].groupby("account", sort=False).agg(
            failures=("time", "size"), ips=("client_ip", "nunique"), last=("time", "max"))
        accounts = accounts.reset_index().sort_values(["failures", "account"], ascending=[False, True], kind="stable")
        n_ips = _nunique(auth["client_ip"])
        out["logins"] = {
            "failures": len(auth), "ips": n_ips, "accounts": int(accounts["account"].nunique()),
            "unnamed": int((auth["account"] == "").sum()), "brute_force": is_brute_force(len(auth), n_ips),
            "by_ip": [{k: ("" if pd.isna(v) else v) for k, v in r.items()} for r in ips.head(ROWS).to_dict("records")],
            "by_account": accounts.head(ROWS).to_dict("records"),
        }
    listed = df[df["category"] == "blocklisted"]
    if not listed.empty:
        names = {d: blocklist_of(d)[0] or "" for d in listed["diagnostic"].dropna().unique()}
        lists = listed.assign(list_name=listed["diagnostic"].map(names).fillna(""))
        g = lists.groupby("list_name", sort=False).agg(failures=("time", "size"), clients=("client_ip", "nunique"),
                                                       last=("time", "max"), example=("where", "last"))
        out["blocklists"] = g.reset_index().sort_values("failures", ascending=False, kind="stable").head(ROWS).to_dict("records")
    rest = df[(family != "auth") & (df["category"] != "blocklisted")]
    if not rest.empty:
        g = rest.groupby("category", sort=False).agg(failures=("time", "size"), clients=("client_ip", "nunique"),
                                                     last=("time", "max"), example=("where", "last"))
        out["refusals"] = g.reset_index().sort_values("failures", ascending=False, kind="stable").head(ROWS).to_dict("records")
    return out


def _nunique(s: pd.Series) -> int:
    return int(s.dropna().nunique())


def blocklists(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Block list hits grouped by (list, listed IP, who refused us): list and IP only where the
    reply text names them."""
    hits = df[df["category"] == "blocklisted"]
    if hits.empty:
        return []
    parsed = {d: blocklist_of(d) for d in hits["diagnostic"].dropna().unique()}
    rows = []
    found = hits["diagnostic"].map(lambda d: parsed.get(d, (None, None, None)))
    hits = hits.assign(list_name=found.map(lambda x: x[0] or ""), listed_ip=found.map(lambda x: x[1] or ""),
                       reply_url=found.map(lambda x: x[2] or ""),
                       refused_by=hits["relay"].astype(object).fillna(hits["client"].astype(object)).fillna(""))
    keys = ["list_name", "listed_ip", "refused_by", "direction"]
    g = hits.groupby(keys, sort=False, dropna=False).agg(
        failures=("time", "size"), first=("time", "min"), last=("time", "max"), example=("where", "last"),
        reply_url=("reply_url", "last")).reset_index()
    for _, r in g.sort_values("failures", ascending=False, kind="stable").head(ROWS).iterrows():
        rows.append({"list": r["list_name"], "ip": r["listed_ip"], "refused_by": r["refused_by"],
                     "direction": r["direction"], "reply_url": r["reply_url"], "removal": removal_page(r["list_name"]),
                     "failures": int(r["failures"]), "first": r["first"], "last": r["last"], "example": r["example"]})
    return rows
