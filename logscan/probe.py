"""`logscan probe`: check by hand what the logs suggest, in one command.

probe_server() runs, in order, the checks every guide tells a postmaster to run by hand and
stops at the first that fails: DNS, TCP connect (refused, timed out or unreachable: a wrong port
against a firewall), implicit TLS (smtps://), the greeting, EHLO and its extensions, STARTTLS, the
certificate (chain, host name, expiry), the AUTH mechanisms offered and, with credentials, one
AUTH attempt. It sends no mail: it says QUIT after AUTH. A failing check is classified by the same
rules as a log row: its text is the one Postfix's smtp client writes for the same condition
("connect to H[ip]:port: Connection refused", "... timed out while receiving the initial server
greeting", ...) or the server's own reply, with the port and TLS mode the probe used.

check_blocklists() looks an IP up on the main DNS block lists and decodes the answer (Spamhaus'
127.255.255.x answers mean the query itself was refused, not that the IP is listed).

Safe by design: it connects only where the caller points, with short timeouts and a bounded
number of checks; plan() says what would be contacted without contacting anything.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

from .errors import UsageError

SCHEMES = {"smtp": (25, "starttls-if-offered"), "submission": (587, "starttls"), "smtps": (465, "implicit")}
MAX_TARGETS = 10  # servers, and IPs, in one probe: bounded by design
MAX_REPLY_LINES = 100  # a server that never ends its reply is cut there
MAX_LINE = 4096


@dataclass
class Check:
    name: str  # dns, connect, tls, greeting, ehlo, starttls, certificate, auth-offered, auth
    ok: bool
    verdict: str  # what was seen, one line
    seconds: float
    category: str = ""  # for a failed check: the root cause, as for a log row
    rule_id: str = ""
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    tls: str  # implicit | starttls | starttls-if-offered

    @property
    def tls_mode(self) -> str:
        """The failure table's tls_mode for what the probe tries."""
        return "implicit" if self.tls == "implicit" else "starttls"


def parse_target(url: str) -> Target:
    """smtp://HOST[:PORT], submission://HOST[:PORT] or smtps://HOST[:PORT] (a bare HOST[:PORT] is smtp://)."""
    parts = urlsplit(url if "://" in url else f"smtp://{url}")
    if parts.scheme not in SCHEMES:
        raise UsageError(f"cannot probe {url!r}: the scheme must be smtp, submission or smtps",
                         hint="e.g. submission://smtp.example.com:587 or smtps://smtp.example.com")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"cannot probe {url!r}: the port is not a number from 1 to 65535") from None
    host = unquote(parts.hostname or "")
    if not host or parts.path not in ("", "/") or parts.query or parts.username:
        raise UsageError(f"cannot probe {url!r}: give SCHEME://HOST[:PORT] only (credentials go in --user)")
    default_port, tls = SCHEMES[parts.scheme]
    return Target(parts.scheme, host, port or default_port, tls)


class Resolver:
    """DNS look-ups, through the system's resolver or a given server (dnspython)."""

    def __init__(self, server: str | None = None, timeout: float = 5.0) -> None:
        import dns.resolver

        self.timeout = timeout
        self._r = dns.resolver.Resolver(configure=server is None)
        if server is not None:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            self._r.nameservers = [host or server]
            if port:
                self._r.port = int(port)
        self._r.lifetime = timeout

    def addresses(self, name: str) -> tuple[list[str], str | None]:
        """(the A and AAAA addresses, None) or ([], the error as Postfix words it)."""
        import dns.exception
        import dns.resolver

        found: list[str] = []
        nxdomain = False
        for rtype in ("A", "AAAA"):
            try:
                found += [r.to_text() for r in self._r.resolve(name, rtype)]
            except dns.resolver.NXDOMAIN:
                nxdomain = True
                break
            except (dns.resolver.NoAnswer, dns.resolver.NoNameservers):
                continue
            except dns.exception.Timeout:
                return [], f"Host or domain name not found. Name service error for name={name} type={rtype}: " \
                           "Host not found, try again"
        if found:
            return found, None
        why = "Host not found" if nxdomain else "No address associated with hostname"
        return [], f"Host or domain name not found. Name service error for name={name} type=A: {why}"

    def mx(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            return [r.exchange.to_text().rstrip(".") for r in sorted(self._r.resolve(name, "MX"),
                                                                     key=lambda r: r.preference)]
        except dns.exception.DNSException:
            return []

    def a_records(self, name: str) -> tuple[list[str], str | None]:
        """A records of a DNS block-list name: ([], None) when not listed (NXDOMAIN)."""
        import dns.exception
        import dns.resolver

        try:
            return [r.to_text() for r in self._r.resolve(name, "A")], None
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return [], None
        except dns.exception.DNSException as exc:
            return [], f"lookup failed: {exc.__class__.__name__}"


class _Conn:
    """A line-oriented SMTP connection with bounded reads."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock, self.timeout, self.buf = sock, timeout, b""

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("ascii", "replace") + b"\r\n")

    def _line(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                line, self.buf = self.buf[:MAX_LINE], b""
                return line
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("connection closed by the server")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def reply(self) -> tuple[int | None, list[str]]:
        lines: list[str] = []
        while len(lines) < MAX_REPLY_LINES:
            text = self._line().decode("utf-8", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                break
        code = lines[-1][:3]
        return (int(code) if code.isdigit() and code.isascii() else None), lines


def _reply_text(lines: list[str]) -> str:
    """A multi-line reply as Postfix logs it: the lines joined with a space."""
    return " ".join(lines)


def probe_server(url: str, *, user: str | None = None, password: str | None = None, timeout: float = 10.0,
                 resolver: Resolver | None = None, cafile: str | None = None, ehlo: str = "logscan-probe.invalid",
                 engine=None, on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Run the checks against one server and return them, the last one failed unless all passed."""
    target = parse_target(url)
    if engine is None:
        from .engine import Engine

        engine = Engine.load()
    checks: list[Check] = []

    def record(name: str, ok: bool, verdict: str, start: float, diagnostic: str = "", stage: str = "",
               code: int | None = None, category: str = "", **detail) -> bool:
        c = Check(name, ok, verdict, round(time.monotonic() - start, 3), detail=detail)
        if not ok and category:  # the probe's own finding, no log text to classify
            c.category, c.rule_id = category, f"probe:{name}"
        elif not ok:
            from .smtp import split_reply

            rcode, status = split_reply(diagnostic)
            v = engine.classify({"diagnostic": diagnostic or verdict, "smtp_code": code or rcode,
                                 "enhanced_status": status, "smtp_stage": stage or None, "direction": "outbound",
                                 "relay_host": target.host, "relay_port": target.port, "tls_mode": target.tls_mode,
                                 # the probe is Python's socket and ssl client, as smtplib is: its TLS
                                 # errors are the texts smtplib rows carry
                                 "source": "smtplib", "event": "deferred"})
            c.category, c.rule_id = v.category, v.rule_id or ""
        checks.append(c)
        if on_check is not None:
            on_check(c)
        return ok

    t0 = time.monotonic()
    try:
        ipaddress.ip_address(target.host)
        addresses = [target.host]
        record("dns", True, f"{target.host} is an address (no look-up)", t0)
    except ValueError:
        resolver = resolver or Resolver(timeout=min(timeout, 5.0))
        addresses, error = resolver.addresses(target.host)
        if error:
            record("dns", False, error, t0, diagnostic=error, stage="connect")
            return checks
        mx = resolver.mx(target.host) if target.scheme == "smtp" else []
        record("dns", True, f"{target.host} has address{'es' if len(addresses) > 1 else ''} {', '.join(addresses[:4])}"
               + (f"; MX {', '.join(mx[:4])}" if mx else ""), t0, addresses=addresses, mx=mx)
    ip = addresses[0]
    where = f"{target.host}[{ip}]:{target.port}"

    t0 = time.monotonic()
    try:
        sock = socket.create_connection((ip, target.port), timeout=timeout)
    except TimeoutError:
        record("connect", False, f"connect to {where}: Connection timed out", t0,
               diagnostic=f"connect to {where}: Connection timed out", stage="connect")
        return checks
    except OSError as exc:
        why = exc.strerror or str(exc)
        record("connect", False, f"connect to {where}: {why}", t0, diagnostic=f"connect to {where}: {why}",
               stage="connect")
        return checks
    record("connect", True, f"TCP connection to {where} in {time.monotonic() - t0:.3f} s", t0)

    context = ssl.create_default_context(cafile=cafile)
    try:
        sock.settimeout(timeout)
        if target.tls == "implicit":
            t0 = time.monotonic()
            try:
                sock = context.wrap_socket(sock, server_hostname=target.host)
            except ssl.SSLCertVerificationError as exc:
                record("tls", False, f"TLS handshake with {where}: {exc.verify_message or exc}", t0,
                       diagnostic=f"Server certificate not verified: {exc.verify_message or exc}", stage="STARTTLS")
                return checks
            except (ssl.SSLError, OSError) as exc:
                text = f"SSL_connect error to {where}: {exc}"
                record("tls", False, text, t0, diagnostic=text, stage="STARTTLS")
                return checks
            _certificate(sock, target, record, time.monotonic())
            record("tls", True, f"{sock.version()} {sock.cipher()[0]}", t0)
        conn = _Conn(sock, timeout)
        t0 = time.monotonic()
        try:
            code, lines = conn.reply()
        except TimeoutError:
            text = f"conversation with {where} timed out while receiving the initial server greeting"
            record("greeting", False, text, t0, diagnostic=text, stage="greeting")
            return checks
        except (ConnectionError, OSError) as exc:
            text = f"lost connection with {where} while receiving the initial server greeting"
            record("greeting", False, f"{text} ({exc})", t0, diagnostic=text, stage="greeting")
            return checks
        if code != 220:
            record("greeting", False, f"{where} refused to talk to me: {_reply_text(lines)}", t0,
                   diagnostic=_reply_text(lines), stage="greeting", code=code)
            return checks
        record("greeting", True, lines[0][:200], t0)
        extensions = _ehlo(conn, ehlo, record, where)
        if extensions is None:
            return checks
        if target.tls != "implicit":
            t0 = time.monotonic()
            if "STARTTLS" not in extensions:
                if target.tls == "starttls":
                    text = f"TLS is required, but was not offered by host {where}"
                    record("starttls", False, text, t0, diagnostic=text, stage="STARTTLS")
                    return checks
                record("starttls", True, "not offered (smtp:// goes on in clear text)", t0)
            else:
                conn.send("STARTTLS")
                code, lines = conn.reply()
                if code != 220:
                    text = f"TLS is required, but host {where} refused to start TLS: {_reply_text(lines)}"
                    record("starttls", False, text, t0, diagnostic=text, stage="STARTTLS", code=code)
                    return checks
                try:
                    conn.sock = context.wrap_socket(conn.sock, server_hostname=target.host)
                except ssl.SSLCertVerificationError as exc:
                    record("starttls", False, f"STARTTLS with {where}: {exc.verify_message or exc}", t0,
                           diagnostic=f"Server certificate not verified: {exc.verify_message or exc}",
                           stage="STARTTLS")
                    return checks
                except (ssl.SSLError, OSError) as exc:
                    text = f"Cannot start TLS: handshake failure with {where}: {exc}"
                    record("starttls", False, text, t0, diagnostic=text, stage="STARTTLS")
                    return checks
                conn.buf = b""
                _certificate(conn.sock, target, record, time.monotonic())
                record("starttls", True, f"{conn.sock.version()} {conn.sock.cipher()[0]}", t0)
                extensions = _ehlo(conn, ehlo, record, where)
                if extensions is None:
                    return checks
        t0 = time.monotonic()
        mechanisms = extensions.get("AUTH", "").split()
        if not mechanisms:
            # No AUTH after EHLO (and TLS): an MX taking mail for its own domains, not a submission
            # server; with credentials to try, that is the wrong host or port for sending.
            text = f"{where} offers no AUTH: it takes mail for its own domains only (an MX, not a submission server)"
            record("auth-offered", user is None, text, t0, category="wrong_port_or_protocol")
            return checks
        record("auth-offered", True, f"AUTH {' '.join(mechanisms)}", t0, mechanisms=mechanisms)
        if user is not None:
            if not isinstance(conn.sock, ssl.SSLSocket) and not ipaddress.ip_address(ip).is_loopback:
                # a password is never sent in clear text over a network (only to this machine)
                record("auth", False, f"not sending the password to {where} in clear text: it offers no TLS "
                       "(use submission:// or smtps://)", time.monotonic(), category="tls_required")
                return checks
            _auth(conn, user, password or "", mechanisms, record, where)
        try:
            conn.send("QUIT")
        except OSError:
            pass
        return checks
    except (TimeoutError, ConnectionError, OSError) as exc:
        text = f"lost connection with {where}: {exc}"
        record(checks[-1].name if checks else "connect", False, text, time.monotonic(), diagnostic=text)
        return checks
    finally:
        sock.close()


def _ehlo(conn: _Conn, name: str, record, where: str) -> dict[str, str] | None:
    t0 = time.monotonic()
    conn.send(f"EHLO {name}")
    code, lines = conn.reply()
    if code != 250:
        record("ehlo", False, f"{where} said: {_reply_text(lines)} (in reply to EHLO command)", t0,
               diagnostic=_reply_text(lines), stage="EHLO", code=code)
        return None
    extensions = {}
    for line in lines[1:]:
        word, _, args = line[4:].partition(" ")
        extensions[word.upper()] = args
    record("ehlo", True, " ".join(sorted(extensions)) or "no extensions", t0, extensions=extensions)
    return extensions


def _certificate(sock: ssl.SSLSocket, target: Target, record, t0: float) -> None:
    cert = sock.getpeercert() or {}
    not_after = cert.get("notAfter")
    if not_after:
        expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), tz=timezone.utc)
        days = (expires - datetime.now(timezone.utc)).days
        subject = dict(x[0] for x in cert.get("subject", ()) if x)
        record("certificate", True, f"verified for {target.host} ({subject.get('commonName', '?')}), expires "
               f"{expires:%Y-%m-%d} (in {days} days)" + ("; renew it soon" if days < 14 else ""), t0,
               expires=expires.isoformat())


def _auth(conn: _Conn, user: str, password: str, mechanisms: list[str], record, where: str) -> None:
    t0 = time.monotonic()
    upper = [m.upper() for m in mechanisms]
    if "PLAIN" in upper:
        conn.send("AUTH PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode())
        code, lines = conn.reply()
    elif "LOGIN" in upper:
        conn.send("AUTH LOGIN")
        code, lines = conn.reply()
        for value in (user, password):
            if code != 334:
                break
            conn.send(base64.b64encode(value.encode()).decode())
            code, lines = conn.reply()
    else:
        record("auth", False, f"no mechanism the probe speaks (PLAIN, LOGIN) among {' '.join(mechanisms)}", t0,
               diagnostic="no worthy mechs found")
        return
    if code == 235:
        record("auth", True, f"logged in as {user}", t0)
    else:
        record("auth", False, f"{where} said: {_reply_text(lines)} (in reply to AUTH command)", t0,
               diagnostic=_reply_text(lines), stage="AUTH", code=code)


# --- DNS block lists ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Blocklist:
    zone: str
    name: str
    removal: str
    codes: dict[str, str]  # answer -> meaning; a listed answer not in here is "listed"


# Return codes as each list's operator documents them. Spamhaus: its DNSBL return-code table
# (127.0.0.2-11 by list) and its notice "Using our public mirrors? Check your return codes now"
# (spamhaus.org/news/article/807): 127.255.255.252/254/255 are errors about the query (typo in the
# zone, a public/open resolver, too many queries), never listings; mail-in-a-box PR #2332 and
# haraka-plugin-uribl issue 2 show those answers taken for listings in real deployments.
BLOCKLISTS = (
    Blocklist("zen.spamhaus.org", "Spamhaus ZEN", "https://check.spamhaus.org/", {
        "127.0.0.2": "SBL: a spam source or spam operation (Spamhaus Block List)",
        "127.0.0.3": "SBL CSS: a snowshoe spam source",
        "127.0.0.4": "XBL: an exploited or infected host (CBL)",
        "127.0.0.5": "XBL: an exploited or infected host",
        "127.0.0.6": "XBL: an exploited or infected host",
        "127.0.0.7": "XBL: an exploited or infected host",
        "127.0.0.9": "SBL DROP/EDROP: a hijacked or leased-to-spammers netblock",
        "127.0.0.10": "PBL (ISP): an end-user address that should not send mail directly",
        "127.0.0.11": "PBL (Spamhaus): an end-user address that should not send mail directly",
        "127.255.255.252": "not a listing: the query was malformed (a typing error in the list's name)",
        "127.255.255.254": "not a listing: the query came through a public or open resolver, which Spamhaus refuses; "
                           "query from your own resolver",
        "127.255.255.255": "not a listing: too many queries from this resolver (rate-limited)",
    }),
    Blocklist("b.barracudacentral.org", "Barracuda Reputation", "https://www.barracudacentral.org/rbl/removal-request",
              {"127.0.0.2": "listed: poor sending reputation"}),
    Blocklist("bl.spamcop.net", "SpamCop", "https://www.spamcop.net/bl.shtml",
              {"127.0.0.2": "listed: reported as a spam source by SpamCop users"}),
    Blocklist("dnsbl-1.uceprotect.net", "UCEPROTECT level 1", "https://www.uceprotect.net/en/rblcheck.php",
              {"127.0.0.2": "listed: this address sent to UCEPROTECT's spam traps"}),
)


@dataclass
class Listing:
    zone: str
    name: str
    answers: list[str]
    meaning: str
    listed: bool
    removal: str
    error: str | None = None


def reversed_name(ip: str, zone: str) -> str:
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return ".".join(reversed(ip.split("."))) + "." + zone
    return ".".join(reversed(addr.exploded.replace(":", ""))) + "." + zone


def check_blocklists(ip: str, resolver: Resolver, lists: tuple[Blocklist, ...] = BLOCKLISTS) -> list[Listing]:
    """Look `ip` up on each list. An answer in 127.255.255.0/24 is an error about the query (the
    resolver is refused or rate-limited), never a listing."""
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise UsageError(f"{ip!r} is not an IP address", hint="e.g. logscan probe --blocklists 192.0.2.1") from None
    out = []
    for bl in lists:
        answers, error = resolver.a_records(reversed_name(ip, bl.zone))
        errors = [a for a in answers if a.startswith("127.255.255.")]
        listings = [a for a in answers if a not in errors]
        if error is not None:
            meaning = error
        elif errors and not listings:
            meaning = "; ".join(bl.codes.get(a, f"{a}: not a listing (an error answer)") for a in errors)
        elif listings:
            meaning = "; ".join(bl.codes.get(a, f"listed ({a})") for a in listings)
        else:
            meaning = "not listed"
        out.append(Listing(bl.zone, bl.name, answers, meaning, bool(listings), bl.removal,
                           error or ("query refused" if errors and not listings else None)))
    return out


# --- what the logs suggest -------------------------------------------------------------------------

SERVER_FAMILIES = {"config", "auth", "tls", "network"}  # failures a check of the server can confirm


def from_failures(table, top: int = 5) -> tuple[list[str], list[str]]:
    """The servers and sending IPs the leading failures point at: the relays (host and port) of
    outbound failures in the config, auth, tls and network families, most failures first, and the
    IPs that block-list replies name ("[192.0.2.1] blocked using zen.spamhaus.org"). At most `top` of each."""
    import re
    from collections import Counter

    from .engine import load_categories

    families = {c.id: c.family for c in load_categories().values()}
    servers: Counter = Counter()
    ips: Counter = Counter()
    cols = {c: table.column(c).to_pylist() for c in ("category", "direction", "relay_host", "relay_port",
                                                      "diagnostic")}
    for cat, direction, host, port, text in zip(*cols.values(), strict=True):
        if direction != "outbound":
            continue
        if families.get(cat) in SERVER_FAMILIES and host and port:
            scheme = {465: "smtps", 587: "submission"}.get(port, "smtp")
            servers[f"{scheme}://{_url_host(host)}:{port}"] += 1
        if cat == "blocklisted" and text:
            for m in re.finditer(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])", text[:2000]):
                try:
                    addr = ipaddress.ip_address(m.group(0))
                except ValueError:
                    continue
                if addr.is_global or addr.is_loopback:  # (loopback: the trouble server of the samples)
                    ips[str(addr)] += 1
    return [s for s, _ in servers.most_common(top)], [i for i, _ in ips.most_common(top)]


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host
