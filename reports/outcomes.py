"""Where a failure belongs, what became of its message, and the one ranking of problems.

Sections (a problem never mixes them):
- outbound: mail our server could not deliver to another one (Postfix/Exim/Sendmail `smtp`);
- submission: our own clients and applications failing to send (every client log: msmtp,
  PHPMailer, smtplib, Nodemailer, JavaMail) and our server's own login to a provider or
  smarthost failing (an outbound row whose cause is in the auth family);
- inbound: our server refusing clients or attackers (smtpd/ACL refusals, password guessing):
  defence that works as intended, unless our own users are among them;
- local: delivery on this machine and the mail system's own errors (local, virtual, pipe,
  Exim's paniclog).

Message view: a message is one (host, queue id) of a server log (Postfix queue id, Exim message
id), or one row of a client log (one send) or of a server row without queue id. Each recipient of
a message ends as one outcome (OUTCOMES); a message takes the worst outcome of its recipients.
Only failures are in the table, so a message deferred and then never failing again is read as
delivered after its retries when its last deferral is older than the software's longest retry
interval before the end of the log (RETRY_HORIZON), and as still deferred otherwise.

Ranking (the page, the exports and the `scan` summary use rank()): mail lost first (distinct
recipients of lost messages; a client send that names no recipient counts as one), then mail
delayed (distinct recipients deferred and not lost), then the rest (distinct clients or
failures), then failures. A lost recipient is counted once, in the problem of its final failure
(the bounce, the expiry, the failed send).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import regex

from logscan.parsers.base import formats_where

SERVER_SOURCES = formats_where(server=True)  # (from the parsers' traits)
SECTIONS = ("outbound", "submission", "inbound", "local")

# Outcomes of one recipient of one message, worst first (a message takes its worst).
OUTCOMES = ("bounced", "expired", "not_sent", "deferred_at_end", "delivered_after_retry", "refused", "no_message")
LOST = ("bounced", "expired", "not_sent")
DELAYED = ("deferred_at_end", "delivered_after_retry")
_RANK = {o: i for i, o in enumerate(OUTCOMES)}

# The longest wait between two delivery attempts by default: Postfix maximal_backoff_time (4000 s,
# postconf(5)); Exim's default retry rule "F,2h,15m; G,16h,1h,1.5; F,4d,6h" (its configure
# file) waits 1 h and more after the first two hours: 2 h covers its first stretch; sendmail's
# queue runs (-q1h in most init scripts). A deferral closer than this to the end of the log has
# not had its next attempt yet.
RETRY_HORIZON = {"postfix": pd.Timedelta(seconds=4000), "exim": pd.Timedelta(hours=2),
                 "sendmail": pd.Timedelta(hours=1)}
_DEFAULT_HORIZON = pd.Timedelta(hours=1)

LOST_EVENTS = ("bounced", "undeliverable")


def cause_of(df: pd.DataFrame) -> pd.Series:
    """The cause to fix: the category, or for an expired message the cause of its last deferral."""
    cat = df["category"].astype(object)
    last = df["last_deferral_category"].astype(object)
    return cat.where(~((cat == "expired") & last.notna() & (last != "")), last)


def sections(df: pd.DataFrame, families: dict[str, str]) -> pd.Series:
    source = df["source"].astype(str)
    direction = df["direction"].astype(str)
    family = cause_of(df).map(families).fillna("other")
    sec = direction.where(direction.isin(("inbound", "local")), "outbound")
    own_login = (sec == "outbound") & (family == "auth")
    return sec.mask(~source.isin(SERVER_SOURCES) | own_login, "submission")


# A provider reply quoted by different programs: "535-5.7.8 A ... go to 535 5.7.8 https://..."
# (msmtp, PHPMailer), "535-5.7.8 A ... go to?535 5.7.8 ..." (Postfix joins the lines), only the
# first line (Exim), "535 5.7.8 A ... go to 5.7.8 https://..." (smtplib), "Invalid login: 535-5.7.8
# A ..." (Nodemailer): all the sample_logs rows of one Gmail reply. Its key is the text of the
# first reply line: after the first code, up to the code that starts the next line.
_CODE = regex.compile(r"(?<![\w.<])(?:[245]\d\d(?:[- ][245]\.\d{1,3}\.\d{1,3})?|[245]\.\d{1,3}\.\d{1,3})(?:[- ]|$)")
_KEY_PREFIX = 40  # a code further in than this is part of the text ("last deferral: 550 ...")
# The next line's code glued to the last word, as PHPMailer's docblock Debugoutput closure writes a
# multi-line reply ("... go to535 5.7.8 https://...", sample_logs/phpmailer): only a full code and
# status after a letter, which no reply text has otherwise.
_GLUED = regex.compile(r"(?<=[A-Za-z])[245][0-9][0-9][- ][245]\.[0-9]{1,3}\.[0-9]{1,3}(?:[- ]|$)")


def reply_key(signature: str) -> str:
    """The part of a (masked) reply that names one provider reply, whichever program logged it."""
    try:
        first = _CODE.search(signature, 0, _KEY_PREFIX + 12, timeout=0.05)
        if first is None or first.start() > _KEY_PREFIX:
            return signature.strip()
        head = signature[:first.start()]
        nxt = min((m for m in (_CODE.search(signature, first.end(), timeout=0.05),
                               _GLUED.search(signature, first.end(), timeout=0.05)) if m is not None),
                  key=lambda m: m.start(), default=None)
    except TimeoutError:
        return signature.strip()
    body = signature[first.end():nxt.start() if nxt else len(signature)]
    # A program's own prefix ("Invalid login: ") is dropped; text that explains ("...; last
    # deferral: ") is kept.
    keep = head if "deferral" in head or "expired" in head or "exceeded" in head else ""
    return " ".join((keep + body).split()).rstrip(" ?")


def message_keys(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(message, item) per row, as integer codes: the message is one (host, queue id) of a server
    row with a queue id, else the row itself (a negative code); the item is the message and one
    recipient. Codes, not "host queue-id" strings: two int64 a row, not two strings a row."""
    source = df["source"].astype(str)
    qid = df["queue_id"].astype(object)
    keyed = (source.isin(SERVER_SOURCES) & qid.notna() & (qid != "")).to_numpy()
    host = df["host"].astype(object).fillna("?").astype(str)
    codes = pd.MultiIndex.from_arrays([host[keyed], qid[keyed].astype(str)]).factorize()[0]
    message = -1 - np.arange(len(df), dtype=np.int64)  # one message per row without a queue id
    message[keyed] = codes
    recipient = pd.factorize(df["recipient"].astype(object).fillna("").astype(str))[0]
    item = pd.MultiIndex.from_arrays([message, recipient]).factorize()[0]
    return pd.Series(message, index=df.index), pd.Series(item.astype(np.int64), index=df.index)


def messages(df: pd.DataFrame, end) -> pd.DataFrame:
    """Per row: the item's outcome, the message's outcome, the item's retries (deferrals) and
    whether the row is the item's (message's) final failure. `end`: the end of the log (the last
    moment any file covers). Needs the columns message, item and section."""
    source = df["source"].astype(str)
    message, item = df["message"], df["item"]
    keyed = message >= 0
    event = df["event"].astype(str)
    sec = df["section"]
    out = pd.DataFrame({"message": message, "item": item, "time": df["time"], "event": event}, index=df.index)
    bounced = event.isin(LOST_EVENTS).groupby(item).transform("any")
    expired = (event == "expired").groupby(item).transform("any")
    deferrals = (event == "deferred").groupby(item).transform("sum")
    last = out.groupby("item", sort=False)["time"].transform("max")
    horizon = source.map(RETRY_HORIZON).fillna(_DEFAULT_HORIZON)
    end = pd.Timestamp(end) if end is not None and not pd.isna(end) else df["time"].max()
    if pd.isna(end):  # no time anywhere (client logs without stamps): nothing is known to wait
        waiting = pd.Series(False, index=df.index)
    else:
        waiting = last > (end - pd.to_timedelta(horizon))
    outcome = np.select(
        [bounced, expired, ~source.isin(SERVER_SOURCES), sec == "inbound", ~keyed, waiting],
        ["bounced", "expired", "not_sent", "refused", "no_message", "deferred_at_end"],
        "delivered_after_retry")
    out["outcome"] = outcome
    out["retries"] = deferrals.astype(int)
    # The final row of an item: its last, a bounce or expiry after any other row at the same moment.
    terminal = event.isin(LOST_EVENTS + ("expired",))
    order = out.assign(_t=terminal).sort_values(["time", "_t"], kind="stable")
    out["final"] = False
    out.loc[order.drop_duplicates("item", keep="last").index, "final"] = True
    rank = out["outcome"].map(_RANK)
    out["message_outcome"] = pd.Series(OUTCOMES, dtype=object).iloc[rank.groupby(message).transform("min")].to_numpy()
    out["message_final"] = False
    out.loc[order.drop_duplicates("message", keep="last").index, "message_final"] = True
    return out


_LAST_DEFERRAL = "last deferral: "


def add_columns(df: pd.DataFrame, families: dict[str, str], end) -> pd.DataFrame:
    """Added in place (and returned): section; cause (the category, or an expired message's last
    deferral's); problem_key (the reply; an expired message's last deferral reply, so that an
    expiry is part of the problem that kept it deferred); message, item and the outcome columns."""
    df["section"] = sections(df, families)
    df["cause"] = cause_of(df)
    df["message"], df["item"] = message_keys(df)
    expired = df["event"].astype(str) == "expired"
    if expired.any():  # an expiry belongs to the section its deferrals are in (Exim: local, outbound)
        before = df.loc[~expired, ["item", "time", "section"]].sort_values("time", kind="stable")
        prior = before.drop_duplicates("item", keep="last").set_index("item")["section"]
        mapped = df.loc[expired, "item"].map(prior).astype(object)
        df.loc[expired, "section"] = mapped.where(mapped.notna(), df.loc[expired, "section"])
    sig = df["signature"].astype(object).fillna("")
    deferral = sig.where(~expired | ~sig.str.contains(_LAST_DEFERRAL, regex=False))
    deferral = deferral.fillna(sig.str.split(_LAST_DEFERRAL, n=1).str[-1])
    keys = {s: reply_key(s) for s in deferral.unique()}
    df["problem_key"] = deferral.map(keys)
    m = messages(df, end)
    for name in ("outcome", "retries", "final", "message_outcome", "message_final"):
        df[name] = m[name]
    return df


PROBLEM = ["section", "cause", "problem_key"]


def rank(df: pd.DataFrame) -> pd.DataFrame:
    """One row per problem (section, cause, problem key) with its impact, ranked: lost, then
    delayed, then other (distinct targets), then failures, then the latest first."""
    if df.empty:
        return pd.DataFrame(columns=PROBLEM + ["lost", "delayed", "other", "failures"])
    who = df["recipient"].astype(object).fillna(df["item"])
    lost_rows = df["final"] & df["outcome"].isin(LOST)
    delayed_rows = df["outcome"].isin(DELAYED)
    target = df["client_ip"].astype(object).where(df["section"] == "inbound").fillna(df["item"])
    frame = pd.DataFrame({
        **{k: df[k] for k in PROBLEM},
        "lost_who": who.where(lost_rows), "delayed_who": who.where(delayed_rows & ~lost_rows),
        "other_who": target.where(~df["outcome"].isin(LOST + DELAYED)), "time": df["time"],
    })
    agg = frame.groupby(PROBLEM, sort=False, dropna=False).agg(
        lost=("lost_who", "nunique"), delayed=("delayed_who", "nunique"), other=("other_who", "nunique"),
        failures=("time", "size"), last=("time", "max")).reset_index()
    return agg.sort_values(["lost", "delayed", "other", "failures", "last"], ascending=False, kind="stable")


def message_view(df: pd.DataFrame) -> dict:
    """The message view of one period: per outcome, messages (counted in the period of their final
    failure), their recipients and the failed attempts (rows in this period); lost domains."""
    rows = []
    finals = df.loc[df["message_final"], ["message_outcome"]]  # the columns used: no copy of the rest
    items = df.loc[df["final"], ["outcome", "recipient_domain", "retries"]]
    for o in OUTCOMES:
        rows.append({"outcome": o, "messages": int((finals["message_outcome"] == o).sum()),
                     "recipients": int((items["outcome"] == o).sum()),
                     "attempts": int((df["outcome"] == o).sum())})
    lost_items = items[items["outcome"].isin(LOST)]
    domains = lost_items["recipient_domain"].astype(object).dropna().value_counts()
    retried = items[items["outcome"] == "delivered_after_retry"]["retries"]
    return {"rows": rows, "messages": int(len(finals)), "recipients": int(len(items)), "attempts": int(len(df)),
            "lost_messages": sum(r["messages"] for r in rows if r["outcome"] in LOST),
            "lost_recipients": sum(r["recipients"] for r in rows if r["outcome"] in LOST),
            "lost_domains": [(str(d), int(n)) for d, n in domains.head(8).items()],
            "lost_domains_more": max(len(domains) - 8, 0),
            "retries_max": int(retried.max()) if len(retried) else 0,
            "retries_mean": float(retried.mean()) if len(retried) else 0.0}
