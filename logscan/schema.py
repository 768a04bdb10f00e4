"""The failure table: the one contract between parsers, rules and reports.

Every field is declared once here; the Arrow schema, the pandas dtypes and the
documentation table (docs/failure-table.md, `logscan schema`) are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Field:
    name: str
    type: pa.DataType
    description: str
    # Low-cardinality text is dictionary-encoded in Parquet and categorical in pandas.
    dictionary: bool = False
    # Closed sets of values; checked by tests/test_schema.py.
    allowed: tuple[str, ...] = ()


EVENTS = (
    "bounced",  # the server gave up on a recipient (5xx, or a local permanent error)
    "deferred",  # a delivery attempt failed temporarily; it will be retried
    "expired",  # the message stayed in the queue too long and was returned
    "undeliverable",  # an address-verification probe found the address undeliverable
    "rejected",  # our server refused a client's command (smtpd, cleanup, milter)
    "auth_failed",  # a SMTP AUTH attempt failed
    "tls_failed",  # a TLS handshake failed
    "server_error",  # the mail system itself reported an error that blocks delivery
    "connect_failed",  # a mail client could not reach its server (refused, timed out, no route)
    "send_failed",  # a mail client reached its server, which refused the message
)

DIRECTIONS = ("outbound", "inbound", "local")

TLS_MODES = ("implicit", "starttls", "none", "tls")

FIELDS: tuple[Field, ...] = (
    Field("time", pa.timestamp("us", tz="UTC"), "When the line was written, in UTC."),
    Field(
        "time_zone",
        pa.string(),
        "Zone of the original stamp: its own offset (e.g. +01:00), or 'assumed:<zone>' when the "
        "stamp had none and --tz (default: this machine's zone) was applied.",
        dictionary=True,
    ),
    Field(
        "year_inferred",
        pa.bool_(),
        "True when the stamp had no year (classic syslog) and the year was inferred from the file's "
        "modification time (or set by --year).",
    ),
    Field("host", pa.string(), "The machine that wrote the line (syslog host field).", dictionary=True),
    Field("source", pa.string(), "Log format id: postfix, exim, msmtp, ...", dictionary=True),
    Field("program", pa.string(), "Program that wrote the line, e.g. postfix/smtp.", dictionary=True),
    Field("event", pa.string(), "What failed.", dictionary=True, allowed=EVENTS),
    Field(
        "direction",
        pa.string(),
        "outbound: we could not deliver; inbound: we refused a client, or a client failed against us; "
        "local: delivery on this machine (local, virtual, pipe).",
        dictionary=True,
        allowed=DIRECTIONS,
    ),
    Field("queue_id", pa.string(), "The server's queue id (Postfix queue id, Exim message id)."),
    Field("message_id", pa.string(), "Message-ID header, from a correlated line."),
    Field("sender", pa.string(), "Envelope sender ('' is the null sender of bounces)."),
    Field("recipient", pa.string(), "Envelope recipient."),
    Field("recipient_domain", pa.string(), "Domain of the recipient, lower case.", dictionary=True),
    Field("size", pa.int64(), "Message size in bytes, from a correlated line."),
    Field("client_host", pa.string(), "Name of the client that submitted the message or was refused."),
    Field("client_ip", pa.string(), "Address of that client."),
    Field("sasl_username", pa.string(), "SMTP AUTH user of the submitting client."),
    Field("relay_host", pa.string(), "The server we talked to (or tried to), as logged.", dictionary=True),
    Field("relay_ip", pa.string(), "Its address."),
    Field("relay_port", pa.int32(), "Its port."),
    Field(
        "tls_mode",
        pa.string(),
        "How the client used TLS with that server, as its log shows it: implicit (TLS from the first "
        "byte: SMTPS, ssl://), starttls (STARTTLS was sent), none (a clear-text connection without "
        "STARTTLS up to the failure), tls (TLS on, the log does not say which mode: msmtp's tls=on).",
        dictionary=True,
        allowed=TLS_MODES,
    ),
    Field("smtp_code", pa.int16(), "Basic SMTP reply code, e.g. 550."),
    Field("enhanced_status", pa.string(), "RFC 3463 enhanced status code, e.g. 5.7.1.", dictionary=True),
    Field(
        "smtp_stage",
        pa.string(),
        "Where in the SMTP dialogue it failed: connect, greeting, HELO, STARTTLS, AUTH, MAIL FROM, "
        "RCPT TO, DATA, end of DATA, ...",
        dictionary=True,
    ),
    Field(
        "error_code",
        pa.string(),
        "The logging software's own error code: Exim's defer (-NN) or the OS errno it reports, "
        "later msmtp's exit code or Nodemailer's code.",
        dictionary=True,
    ),
    Field("diagnostic", pa.string(), "The reply or error text, whole (server name prefixes removed)."),
    Field(
        "signature",
        pa.string(),
        "The diagnostic with variable parts (addresses, IPs, ids, numbers) masked: groups recurrences.",
    ),
    Field("category", pa.string(), "Root-cause category chosen by the rules.", dictionary=True),
    Field("rule_id", pa.string(), "The rule that chose it.", dictionary=True),
    Field(
        "last_deferral_category",
        pa.string(),
        "For an `expired` row whose log recorded the last deferral: the root cause of that deferral "
        "(what to fix so the next message does not expire); empty otherwise.",
        dictionary=True,
    ),
    Field("source_file", pa.string(), "File the line came from.", dictionary=True),
    Field("line_no", pa.int64(), "1-based line number in that file (after decompression)."),
    Field("line", pa.string(), "The original log line, for evidence."),
)

FIELD_NAMES = tuple(f.name for f in FIELDS)
BY_NAME = {f.name: f for f in FIELDS}


# The failure table's version, in the metadata of every Parquet file logscan writes (with the
# program's version): a reader can tell which columns to expect. Raise it when a column changes
# meaning or type, or goes away.
SCHEMA_VERSION = 1


def schema_metadata() -> dict[bytes, bytes]:
    from . import __version__

    return {b"logscan.schema_version": str(SCHEMA_VERSION).encode(), b"logscan.version": __version__.encode()}


def arrow_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field(f.name, pa.dictionary(pa.int32(), f.type) if f.dictionary else f.type)
            for f in FIELDS
        ],
        metadata=schema_metadata(),
    )


def plain_arrow_schema() -> pa.Schema:
    """Schema without dictionary encoding (the form rows are built in)."""
    return pa.schema([pa.field(f.name, f.type) for f in FIELDS], metadata=schema_metadata())


def docs_table() -> str:
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for f in FIELDS:
        extra = f" One of: {', '.join(f.allowed)}." if f.allowed else ""
        lines.append(f"| `{f.name}` | {f.type} | {f.description}{extra} |")
    return "\n".join(lines)
