"""Ruby Net::SMTP failures in a Rails application's log (Ruby's Logger::Formatter, as Rails'
production logger writes it, tags included).

    E, [2026-12-04T19:11:12.388012 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [<job id>]
       Error performing ActionMailer::MailDeliveryJob (Job ID: <id>) from Inline(mailers) in 415.49ms:
       Net::SMTPFatalError (550-5.1.1 The email account that you tried to reach does not exist. Please try
    ):
    /app/...:80:in `block in <main>'                                      (the backtrace)
    E, [2026-12-04T19:11:12.434026 #27525] ERROR -- : could not send password reset:
       Net::SMTPAuthenticationError: 535-5.7.8 Username and Password not accepted. ...

A failure is a log record with an exception of Net::SMTP or of the socket, DNS, timeout and
OpenSSL layers under it: ActiveJob's "Error performing <job> ...: <Class> (<message>):" (any
exception of a mail delivery job, an exception of those classes for any other job), or an
application's own "...: <Class>: <message>" with one of those classes. A record spans the lines
up to the next record (the message's continuation, the backtrace). ActiveJob's "Failed enqueuing
... to Inline(...)" repeats the error of a job performed inline, logged just before: ignored with
that reason. The recipient is the one of the job's "Performing ... with arguments: ..." line.
Everything else in the application log is ignored. Every shape has a real line below, written by
Ruby 3.1 with Rails 6.1's ActionMailer/ActiveJob (the mail gem 2.7, net-smtp 0.3.1) here against
the loopback trouble server (tools/samples/rubysmtp_scenarios.rb).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logscan.parsers.base import BaseParser, FileContext, ParserState, Sample, Traits, file_field
from logscan.smtp import AUTH_REPLY_CODES, domain_of, split_reply

NAME = "rubysmtp"

# Ruby's Logger::Formatter: "%s, [%s #%d] %5s -- %s: %s\n" (severity letter, time, pid, severity,
# progname, message)
RECORD = re.compile(r"([DIWEFAU]), \[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?) #\d{1,10}\] {0,2}"
                    r"(DEBUG|INFO|WARN|ERROR|FATAL|ANY|UNKNOWN) -- ([^:]{0,200}): (.{0,16000})$")
TAGS = re.compile(r"(?:\[[^\[\]]{1,200}+\] ){1,10}+")  # possessive: linear on any line
JOB_ID = re.compile(r"\(Job ID: ([\w-]{1,100})\)")
PERFORMING = re.compile(r"Performing (\S{1,200}) \(Job ID: ([\w-]{1,100})\) .{0,500}?with arguments: (.{0,8000})$")
ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]{1,200}@[A-Za-z0-9.-]{1,255}[A-Za-z0-9]")
# The exceptions Net::SMTP raises or lets through (lib/net/smtp.rb, net/protocol, socket, openssl)
CLASS = (r"Net::SMTP\w{0,40}|Net::(?:Open|Read|Write)Timeout|Net::ProtocolError|Errno::E[A-Z]{2,20}|"
         r"OpenSSL::SSL::SSLError|SocketError|Socket::ResolutionError|EOFError|IOError|Timeout::Error")
ERROR_PERFORMING = re.compile(r"Error performing (?P<job>\S{1,200}) \(Job ID: (?P<id>[\w-]{1,100})\) from \S{1,200} "
                              r"in [\d.]{1,20}ms: (?P<cls>[A-Z][\w:]{0,200}) \((?P<msg>.{0,16000})$")
APP_ERROR = re.compile(r"(?:^|: )(?P<cls>" + CLASS + r"): (?P<msg>.{0,16000})$")
MAIL_CLASS = re.compile(r"(?:" + CLASS + r")$")
# Rails.logger.error(exception) writes the message alone (ActiveSupport's formatter interpolates
# it): an ERROR record that is exactly a message of those classes (a reply of Net::SMTP's, or the
# socket/OpenSSL/timeout texts) is a failure whose class the log does not give
BARE = re.compile(r"(?:[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.{0,16000}|end of file reached|Net::(?:Read|Open)Timeout\b.{0,500}|"
                  r"Connection refused - connect\(2\) for .{1,300}|getaddrinfo: .{1,300}|SSL_connect .{1,2000}|"
                  r"STARTTLS is not supported on this server)$")
FAILED_INLINE = re.compile(r"Failed enqueuing \S{1,200} to Inline\(")
MAILER_JOBS = ("ActionMailer::MailDeliveryJob", "ActionMailer::DeliveryJob", "ActionMailer::Parameterized::DeliveryJob")
BACKTRACE = re.compile(r"\s{0,8}(?:from )?\S{1,1000}:\d{1,7}:in [`'].{0,500}'$")
MENTIONS = re.compile(r"\bNet::SMTP\w{0,40}\b")
JOBS_KEPT = 1000  # recipients of the last jobs seen (the Performing line comes just before the error)


def _event(cls: str | None, code: int | None, msg: str) -> tuple[str, str | None]:
    if code in AUTH_REPLY_CODES:
        return "auth_failed", "AUTH"
    if cls in ("Errno::ECONNREFUSED", "SocketError", "Socket::ResolutionError", "Net::OpenTimeout", "Errno::EHOSTUNREACH",
               "Errno::ENETUNREACH", "Errno::ETIMEDOUT"):
        return "connect_failed", "connect"
    if cls == "OpenSSL::SSL::SSLError" or cls is None and msg.startswith("SSL_connect"):
        return "tls_failed", None
    if cls == "Net::SMTPUnsupportedCommand" and "STARTTLS" in msg:
        return "tls_failed", "STARTTLS"
    if cls in ("Net::ReadTimeout", "EOFError", "Errno::ECONNRESET", "Errno::EPIPE", "IOError") \
            or cls is None and msg == "end of file reached":
        return "connect_failed", None
    return "send_failed", None


@dataclass
class RubysmtpState(ParserState):
    # Where reading stands in one file (kept per file by incremental runs, parsers/base.py)
    # the failure record being read:
    # [stamp, class, message lines, message closed, line_no, line, rcpt, ActiveJob's form]
    pending: list[Any] | None = file_field(default=None, open_record=True)
    jobs: dict[str, str] = file_field(default_factory=dict)  # job id -> recipient (from "Performing ... with arguments")


class RubysmtpParser(BaseParser):
    name = NAME
    description = "Ruby Net::SMTP failures in Rails / Ruby Logger application logs"
    traits = Traits(multiline=True)
    State = RubysmtpState

    def detect(self, lines: list[str]) -> float:
        # Ruby Logger records that carry a Net::SMTP-layer exception (ActiveJob's or the application's)
        hits = 0
        for x in lines:
            r = RECORD.match(x)
            if r and self._failure(TAGS.sub("", r.group(5)), r.group(3)) is not None:
                hits += 1
        return hits / len(lines) if lines else 0.0

    @staticmethod
    def _failure(message: str, severity: str = "ERROR") -> tuple[str | None, str, str | None] | None:
        """(class, message, job id) of a record message that is a mail failure."""
        e = ERROR_PERFORMING.search(message)
        if e and (e.group("job") in MAILER_JOBS or MAIL_CLASS.match(e.group("cls"))):
            return e.group("cls"), e.group("msg"), e.group("id")
        a = APP_ERROR.search(message)
        if a:
            return a.group("cls"), a.group("msg"), None
        if severity in ("ERROR", "FATAL") and BARE.match(message):
            return None, message, None
        return None

    def parse(self, lines: list[str], first_line_no: int, ctx: FileContext, state: RubysmtpState) -> None:
        for offset, line in enumerate(lines):
            r = RECORD.match(line)
            if r is None:
                if state.pending is not None and not state.pending[3]:
                    self._continue(line, state)
                ctx.ignore()  # a continuation of another record, or not the logger's
                continue
            self.finish(ctx, state)
            message = TAGS.sub("", r.group(5))
            p = PERFORMING.search(message)
            if p:
                addresses = ADDRESS.findall(p.group(3))
                if addresses:
                    if len(state.jobs) >= JOBS_KEPT:
                        state.jobs.pop(next(iter(state.jobs)))
                    state.jobs[p.group(2)] = addresses[0]
                ctx.ignore()
                continue
            if FAILED_INLINE.search(message):
                ctx.ignored("ActiveJob's inline enqueue failure repeats the job's error logged just before")
                continue
            found = self._failure(message, r.group(3))
            if found is None:
                if MENTIONS.search(message):
                    ctx.unparsed(first_line_no + offset, line)  # a mail exception in a shape not read here
                else:
                    ctx.ignore()
                continue
            cls, msg, job = found
            state.pending = [r.group(2), cls, [], False, first_line_no + offset, line,
                             state.jobs.pop(job, None) if job else None, job is not None]
            self._continue(msg, state, first=True)
            ctx.ignore()  # a failure line when finish() emits its row (opened)

    @staticmethod
    def _continue(text: str, state: RubysmtpState, first: bool = False) -> None:
        """Add a line of the exception's message; ActiveJob's "(<message>):" ends with "):" and the
        backtrace follows; an application's message ends at the record's end or the backtrace."""
        pending = state.pending
        if pending is None:
            return
        if not first and BACKTRACE.match(text):
            pending[3] = True
            return
        if pending[7] and text.endswith("):"):  # ActiveJob's "<Class> (<message>):"
            text = text[:-2]
            pending[3] = True
        if text.strip():
            pending[2].append(text.strip())

    def finish(self, ctx: FileContext, state: RubysmtpState) -> None:
        """Emit the failure record being read (at the next record, or the end of the file)."""
        pending, state.pending = state.pending, None
        if pending is None:
            return
        stamp, cls, parts, _closed, line_no, line, rcpt, _activejob = pending
        msg = " ".join(parts)
        code, enh = split_reply(msg)
        event, stage = _event(cls, code, msg)
        row: dict[str, Any] = {
            "source": NAME,
            "program": "ruby net/smtp",
            "event": event,
            "direction": "outbound",
            "recipient": rcpt,
            "recipient_domain": domain_of(rcpt),
            "smtp_code": code,
            "enhanced_status": enh,
            "smtp_stage": stage,
            "error_code": cls,
            "diagnostic": msg,
            "tls_mode": "starttls" if stage == "STARTTLS" else None,
        }
        ctx.emit(row, stamp, line_no, line, opened=True)


PARSER = RubysmtpParser()

PERFORM = ("I, [2026-12-04T19:11:11.972323 #27525]  INFO -- : [ActiveJob] [ActionMailer::MailDeliveryJob] "
           "[2e91a269-17e0-41d8-8147-93c0712127c9] Performing ActionMailer::MailDeliveryJob (Job ID: "
           "2e91a269-17e0-41d8-8147-93c0712127c9) from Inline(mailers) enqueued at 2026-12-04T19:11:11Z with "
           'arguments: "OrderMailer", "confirmation", "deliver_now", {:args=>["nouser@gmail-like.example", 0, nil]}')
SAMPLES: tuple[Sample, ...] = (
    Sample(
        "E, [2026-12-04T19:11:12.388012 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [2e91a269-17e0-41d8-8147-93c0712127c9] Error performing ActionMailer::MailDeliveryJob (Job ID: 2e91a269-17e0-41d8-8147-93c0712127c9) from Inline(mailers) in 415.49ms: Net::SMTPFatalError (550-5.1.1 The email account that you tried to reach does not exist. Please try",
        context=(PERFORM,),
        expect={"event": "send_failed", "recipient": "nouser@gmail-like.example", "smtp_code": 550,
                "enhanced_status": "5.1.1", "error_code": "Net::SMTPFatalError", "category": "recipient_unknown",
                "diagnostic": "550-5.1.1 The email account that you tried to reach does not exist. Please try"}),
    Sample(
        "E, [2026-12-04T19:11:12.434026 #27525] ERROR -- : could not send password reset: Net::SMTPAuthenticationError: 535-5.7.8 Username and Password not accepted. For more information, go to",
        expect={"event": "auth_failed", "smtp_stage": "AUTH", "smtp_code": 535, "error_code": "Net::SMTPAuthenticationError",
                "category": "auth_failed"}),
    Sample(
        "E, [2026-12-04T19:11:12.455984 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [aec67929-7af9-4fb8-9a90-62ccb42e05fe] Error performing ActionMailer::MailDeliveryJob (Job ID: aec67929-7af9-4fb8-9a90-62ccb42e05fe) from Inline(mailers) in 21.39ms: Errno::ECONNREFUSED (Connection refused - connect(2) for 127.0.0.1:2599):",
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "Errno::ECONNREFUSED",
                "diagnostic": "Connection refused - connect(2) for 127.0.0.1:2599", "category": "connection_refused"}),
    Sample(
        "E, [2026-12-04T19:11:15.507670 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [20482679-2815-4d6b-960a-542503c172d8] Error performing ActionMailer::MailDeliveryJob (Job ID: 20482679-2815-4d6b-960a-542503c172d8) from Inline(mailers) in 3036.08ms: Net::ReadTimeout (Net::ReadTimeout with #<Socket:(closed)>):",
        expect={"event": "connect_failed", "error_code": "Net::ReadTimeout", "category": "connection_timeout"}),
    Sample(
        "E, [2026-12-04T19:11:15.555523 #27525] ERROR -- : could not send newsletter: EOFError: end of file reached",
        expect={"event": "connect_failed", "error_code": "EOFError", "diagnostic": "end of file reached",
                "category": "connection_lost"}),
    Sample(
        "E, [2026-12-04T19:11:15.604727 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [c9a6ffb7-a192-4928-8e58-cd2017aa633a] Error performing ActionMailer::MailDeliveryJob (Job ID: c9a6ffb7-a192-4928-8e58-cd2017aa633a) from Inline(mailers) in 48.48ms: OpenSSL::SSL::SSLError (SSL_connect returned=1 errno=0 peeraddr=127.0.0.1:2526 state=error: wrong version number):",
        expect={"event": "tls_failed", "error_code": "OpenSSL::SSL::SSLError", "category": "wrong_port_or_protocol"}),
    Sample(
        "E, [2026-12-04T19:11:15.674995 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [1f0aebf2-aeff-4e77-8efd-067882153cca] Error performing ActionMailer::MailDeliveryJob (Job ID: 1f0aebf2-aeff-4e77-8efd-067882153cca) from Inline(mailers) in 69.4ms: OpenSSL::SSL::SSLError (SSL_connect returned=1 errno=0 peeraddr=127.0.0.1:2532 state=error: certificate verify failed (self-signed certificate)):",
        expect={"event": "tls_failed", "category": "tls_certificate",
                "diagnostic": "SSL_connect returned=1 errno=0 peeraddr=127.0.0.1:2532 state=error: certificate verify failed (self-signed certificate)"}),
    Sample(
        "E, [2026-12-04T19:11:15.696664 #27525] ERROR -- : could not send invoice 78: Net::SMTPUnsupportedCommand: STARTTLS is not supported on this server",
        expect={"event": "tls_failed", "smtp_stage": "STARTTLS", "tls_mode": "starttls", "category": "tls_required"}),
    Sample(
        "E, [2026-12-04T19:11:15.893129 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [4938dc84-dc96-444a-85e2-2b567eeee639] Error performing ActionMailer::MailDeliveryJob (Job ID: 4938dc84-dc96-444a-85e2-2b567eeee639) from Inline(mailers) in 32.51ms: Net::SMTPAuthenticationError (530-5.7.0 Authentication Required. For more information, go to",
        expect={"event": "send_failed", "smtp_code": 530, "error_code": "Net::SMTPAuthenticationError", "category": "auth_required"}),
    Sample(
        "E, [2026-12-04T19:11:15.992736 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [4af8444a-7543-481d-802e-c0c4ef293571] Error performing ActionMailer::MailDeliveryJob (Job ID: 4af8444a-7543-481d-802e-c0c4ef293571) from Inline(mailers) in 42.92ms: Net::SMTPAuthenticationError (534-5.7.9 Application-specific password required. Learn more at",
        expect={"event": "auth_failed", "smtp_code": 534, "category": "auth_app_password"}),
    Sample(
        "E, [2026-12-04T19:11:16.144414 #27525] ERROR -- : could not send order 1010 confirmation: Net::SMTPFatalError: 554 5.2.252 SendAsDenied; shop@contoso-like.example not allowed to send as noreply@contoso-like.example; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a ",
        expect={"smtp_code": 554, "enhanced_status": "5.2.252", "category": "sender_rejected"}),
    Sample(  # a mistyped host, run in tools/samples/sandbox.sh (loopback-only network, stub DNS: NXDOMAIN)
        "E, [2026-12-04T19:11:19.193406 #27525] ERROR -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [dc85a0a9-9cdf-49d0-a7b8-f51d4d0f680b] Error performing ActionMailer::MailDeliveryJob (Job ID: dc85a0a9-9cdf-49d0-a7b8-f51d4d0f680b) from Inline(mailers) in 28.61ms: SocketError (getaddrinfo: Name or service not known):",
        expect={"event": "connect_failed", "smtp_stage": "connect", "error_code": "SocketError", "category": "server_unresolvable"}),
    Sample(
        "E, [2026-12-04T19:11:12.388173 #27525] ERROR -- : [ActiveJob] Failed enqueuing ActionMailer::MailDeliveryJob to Inline(mailers): Net::SMTPFatalError (550-5.1.1 The email account that you tried to reach does not exist. Please try",
        ignore="ActiveJob's inline enqueue failure repeats the job's error logged just before"),
    Sample(PERFORM, ignore=""),
    Sample("I, [2026-12-04T19:11:12.387771 #27525]  INFO -- : [ActiveJob] [ActionMailer::MailDeliveryJob] [2e91a269-17e0-41d8-8147-93c0712127c9] Delivered mail 6b13104fedd9f_6b8535c-37a@vm.mail (414.2ms)",
           ignore=""),
    Sample("/work/wt/clients/tools/samples/rubysmtp_scenarios.rb:80:in `block in <main>'", ignore=""),
    Sample(  # Rails.logger.error(e): the message alone
        "E, [2026-12-04T19:13:13.220156 #29445] ERROR -- : end of file reached",
        expect={"event": "connect_failed", "error_code": None, "category": "connection_lost"}),
)
