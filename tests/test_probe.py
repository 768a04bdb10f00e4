"""logscan probe against the loopback trouble server (tools/samples/trouble_smtpd.py) and a DNS
stub on 127.0.0.1: each persona's first failing check and root cause, and every Spamhaus return
code. No traffic leaves 127.0.0.0/8: every DNS query goes to the stub."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.probe import BLOCKLISTS, Resolver, check_blocklists, parse_target, probe_server, reversed_name

from conftest import REPO

runner = CliRunner()
TROUBLE = REPO / "tools" / "samples" / "trouble_smtpd.py"


class DnsStub:
    """A UDP DNS server on 127.0.0.1 that answers A records from a table, NXDOMAIN otherwise."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = {k.lower().rstrip("."): v for k, v in answers.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            reply = dns.message.make_response(query)
            q = query.question[0]
            name = q.name.to_text().lower().rstrip(".")
            self.asked.append(name)
            found = self.answers.get(name)
            if found is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif q.rdtype == dns.rdatatype.A:
                reply.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", *found))
            self.sock.sendto(reply.to_wire(), peer)

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def trouble(tmp_path_factory):
    """The trouble server's personas on 127.0.0.1 (one already running from the sample scripts is reused)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed for the trouble server's certificate")
    work = tmp_path_factory.mktemp("trouble")
    proc = None
    if not _listening(2525):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=mx.trouble.example", "-addext", "subjectAltName=DNS:smtp.trouble.test", "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
                       check=True, capture_output=True)
        proc = subprocess.Popen([sys.executable, str(TROUBLE), "--cert", str(work / "cert.pem"), "--key",
                                 str(work / "key.pem"), "--greylist-delay", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while not _listening(2525) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _listening(2525):
            proc.kill()
            pytest.skip(f"the trouble server did not start: {proc.stdout.read()[-500:]}")
    yield work / "cert.pem" if proc is not None else None  # None: a running server's certificate is unknown
    if proc is not None:
        proc.kill()
        proc.wait()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _last(checks):
    return checks[-1].name, checks[-1].ok, checks[-1].category


@pytest.fixture(scope="module")
def stub():
    return DnsStub({"smtp.trouble.test": ["127.0.0.1"]})


# persona (port) -> (scheme, the first failing check, its category)
PERSONAS = [
    ("refused (2599, nothing listens)", "submission://127.0.0.1:2599", {}, ("connect", False, "connection_refused")),
    ("silent (2530): no greeting", "submission://127.0.0.1:2530", {}, ("greeting", False, "connection_timeout")),
    ("hangup (2531)", "submission://127.0.0.1:2531", {}, ("greeting", False, "connection_lost")),
    ("421 TSS04 at connect (2529)", "smtp://127.0.0.1:2529", {}, ("greeting", False, "rate_limited")),
    ("no STARTTLS (2533) for submission", "submission://127.0.0.1:2533", {}, ("starttls", False, "tls_required")),
    ("self-signed certificate (2532)", "submission://127.0.0.1:2532", {}, ("starttls", False, "tls_certificate")),
    ("STARTTLS client on implicit TLS (465)", "submission://127.0.0.1:465", {}, ("greeting", False,
                                                                              "wrong_port_or_protocol")),
    ("implicit TLS on a STARTTLS port (2534)", "smtps://127.0.0.1:2534", {}, ("tls", False, "wrong_port_or_protocol")),
    ("bad password (2534)", "smtp://127.0.0.1:2534", {"user": "me", "password": "wrong"}, ("auth", False,
                                                                                        "auth_failed")),
    ("app password required (2535)", "smtp://127.0.0.1:2535", {"user": "me", "password": "pw"},
     ("auth", False, "auth_app_password")),
    ("an MX without AUTH, credentials given (2528)", "smtp://127.0.0.1:2528", {"user": "me", "password": "pw"},
     ("auth-offered", False, "wrong_port_or_protocol")),
    ("a name that does not exist", "submission://nxdomain.trouble.test:587", {}, ("dns", False,
                                                                                "server_unresolvable")),
]


@pytest.mark.slow
@pytest.mark.parametrize("persona,url,kw,expected", PERSONAS, ids=[p[0] for p in PERSONAS])
def test_first_failing_check_and_category(trouble, stub, persona, url, kw, expected):
    checks = probe_server(url, timeout=2.0, resolver=Resolver(stub.server, timeout=2.0), **kw)
    assert _last(checks) == expected, [(c.name, c.ok, c.category, c.verdict) for c in checks]
    assert all(c.ok for c in checks[:-1])  # it stops at the first failure


@pytest.mark.slow
def test_the_whole_way_with_a_trusted_certificate(trouble, stub):
    """2537 accepts any credentials after STARTTLS: every check passes, then QUIT (no mail sent)."""
    if trouble is None:
        pytest.skip("a trouble server was already running: its certificate is not ours to trust")
    checks = probe_server("submission://smtp.trouble.test:2537", user="me", password="pw", timeout=2.0,
                          resolver=Resolver(stub.server), cafile=str(trouble))
    assert [(c.name, c.ok) for c in checks] == [("dns", True), ("connect", True), ("greeting", True), ("ehlo", True),
                                                ("certificate", True), ("starttls", True), ("ehlo", True),
                                                ("auth-offered", True), ("auth", True)]
    assert "expires" in checks[4].verdict


@pytest.mark.slow
def test_a_name_is_resolved_through_the_given_server(trouble, stub):
    checks = probe_server("smtp://smtp.trouble.test:2528", timeout=2.0, resolver=Resolver(stub.server))
    assert checks[0].name == "dns" and checks[0].ok and "127.0.0.1" in checks[0].verdict
    assert [c.name for c in checks] == ["dns", "connect", "greeting", "ehlo", "starttls", "auth-offered"]
    assert "smtp.trouble.test" in stub.asked


SPAMHAUS = {a: m for a, m in BLOCKLISTS[0].codes.items()}


@pytest.mark.parametrize("answer", sorted(SPAMHAUS))
def test_every_spamhaus_return_code_is_decoded(answer):
    ip = "192.0.2.10"
    stub = DnsStub({reversed_name(ip, "zen.spamhaus.org"): [answer]})
    (zen,) = check_blocklists(ip, Resolver(stub.server), lists=BLOCKLISTS[:1])
    assert zen.meaning == SPAMHAUS[answer] and zen.answers == [answer]
    assert zen.listed == (not answer.startswith("127.255.255."))  # 127.255.255.x: the query was refused


def test_blocklists_not_listed_and_listed_elsewhere():
    ip = "192.0.2.11"
    stub = DnsStub({reversed_name(ip, "bl.spamcop.net"): ["127.0.0.2"]})
    r = runner.invoke(app, ["probe", "--blocklists", ip, "--dns", stub.server])
    assert r.exit_code == 13
    assert "SpamCop (bl.spamcop.net): LISTED" in r.output and "https://www.spamcop.net/bl.shtml" in r.output
    assert "Spamhaus ZEN (zen.spamhaus.org): ok" in r.output
    assert set(stub.asked) == {reversed_name(ip, bl.zone) for bl in BLOCKLISTS}
    stub = DnsStub({})
    assert runner.invoke(app, ["probe", "--blocklists", ip, "--dns", stub.server]).exit_code == 0


def test_reversed_names():
    assert reversed_name("192.0.2.1", "zen.spamhaus.org") == "1.2.0.192.zen.spamhaus.org"
    assert reversed_name("2001:db8::1", "x.example").startswith("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.")


def test_dry_run_contacts_nothing():
    stub = DnsStub({})
    r = runner.invoke(app, ["probe", "submission://smtp.example.com", "--blocklists", "192.0.2.1", "--dns",
                            stub.server, "--user", "me", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "would contact smtp.example.com port 587 (submission, TLS starttls), and try AUTH as me" in r.output
    assert "would look up 1.2.0.192.zen.spamhaus.org (A) in DNS" in r.output and "nothing was contacted" in r.output
    assert stub.asked == []


def test_from_logs_picks_the_servers_and_ips_the_failures_name():
    r = runner.invoke(app, ["probe", "--from-logs", str(REPO / "sample_logs"), "--dry-run"])
    assert r.exit_code == 0, r.output
    contacts = [line for line in r.output.splitlines() if line.startswith("would contact")]
    assert 0 < len(contacts) <= 5 and all("127.0.0.1" in c for c in contacts)  # the samples' relays: loopback


def test_bad_targets_and_passwords_are_usage_errors(tmp_path):
    for bad in ("http://x", "smtp://", "smtp://host:99999", "smtp://user@host"):
        assert runner.invoke(app, ["probe", bad, "--dry-run"]).exit_code == 2, bad
    assert runner.invoke(app, ["probe"]).exit_code == 2
    assert runner.invoke(app, ["probe", "smtp://127.0.0.1:2599", "--user", "me", "--password-env",
                               "LOGSCAN_NO_SUCH_VAR"]).exit_code == 2
    assert parse_target("mx.example.com").port == 25 and parse_target("smtps://h").tls == "implicit"
