//! logscan's compiled hot path for Postfix logs (logscan._core), driven by logscan/fastpath.py.
//!
//! It does what parsers/postfix.py does, line for line, and that module stays the reference: the
//! same tests run both (tests/test_engines.py). Every pattern below is the reference's pattern
//! (parsers/postfix.py, logscan/smtp.py), written for the `regex` crate, which never backtracks
//! (its time is linear in the line); every repetition keeps the reference's bound. Three classes are
//! spelt out where Python's `re` and this crate differ: `\s` (Python also counts U+001C..U+001F as
//! space), `\w` (Python: letters, numbers and `_`, no combining marks) and `\b` (by hand, in
//! split_reply). Where the reference asks Python's str methods about a text that is not ASCII
//! (isalnum, isdigit, lower, upper, decoding invalid UTF-8), this module asks Python too.
//!
//! What it hands back: failure rows (column lists, the stamp still text: Python converts it),
//! the line accounting of each parsed block (failures, unparsed, examples, ignored reasons) and the
//! deliveries by (hour key, recipient domain, relay) with one stamp per hour key, which Python
//! folds by UTC day exactly as FileContext.fold_deliveries does.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::OnceLock;

use memchr::memmem;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use regex::Regex;

const MAX_QUEUE_IDS: usize = 200_000; // PostfixState.MAX_QUEUE_IDS
const UNPARSED_EXAMPLES: usize = 5; // parsers/base.py
const EXAMPLE_CHARS: usize = 500;
const MAX_LINE_CHARS: usize = 64 * 1024; // logscan/reading.py

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DELIVERY_DAEMONS: [&str; 8] = ["smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard"];
const OTHER_DAEMONS: [&str; 31] = [
    "smtpd", "qmgr", "oqmgr", "cleanup", "pickup", "bounce", "postscreen", "dnsblog", "tlsproxy", "anvil",
    "scache", "master", "postfix-script", "postsuper", "postqueue", "postdrop", "sendmail", "trivial-rewrite",
    "verify", "tlsmgr", "proxymap", "showq", "flush", "postlogd", "postmap", "postconf", "spawn", "postmulti",
    "postlog", "smtpd", "qmgr",
];
const CONTEXT_KINDS: [&str; 5] = ["clie", "mess", "from", "uid=", "remo"];
const INTERESTING_UNQUEUED: [&str; 12] = [
    "warning: ", "fatal: ", "panic: ", "error: ", "SSL_accept error", "connect to ", "SSL_connect error",
    "certificate verification failed", "server certificate verification failed", "lost connection after ",
    "timeout after ", "too many errors after ",
];
const WHILE_STAGE: [(&str, &str); 10] = [
    ("initial server greeting", "greeting"), ("EHLO", "EHLO"), ("HELO", "HELO"), ("TLS", "STARTTLS"),
    ("MAIL FROM", "MAIL FROM"), ("RCPT TO", "RCPT TO"), ("end of data", "end of DATA"),
    ("message content", "DATA"), ("DATA", "DATA"), ("AUTH", "AUTH"),
];
const EXPIRED_TAIL: &str = "status=expired, returned to sender";

// --- the reference's patterns ------------------------------------------------------------------

// Python's \s on str: Unicode white space and U+001C..U+001F (str.isspace); its \w: str.isalnum and "_".
const WS: &str = r"\s\x1c-\x1f";
const WORD: &str = r"\p{L}\p{N}_";
const WS_ASCII: &str = r"\t\n\x0b\x0c\r \x1c-\x1f";
const WORD_ASCII: &str = r"0-9A-Za-z_";

/// One pattern twice: with Unicode classes for any text, and with ASCII classes over bytes for ASCII
/// text (the same matches there: Python's classes agree with ASCII ones on ASCII), whose automaton is
/// several times smaller, so that captures take the bounded backtracker instead of the slow PikeVM.
struct Pat {
    unicode: Regex,
    ascii: regex::bytes::Regex,
}

/// A match of a Pat: its groups as texts.
enum Caps<'a> {
    U(regex::Captures<'a>),
    A(regex::bytes::Captures<'a>, &'a str),
}

impl<'a> Caps<'a> {
    fn name(&self, n: &str) -> Option<&'a str> {
        match self {
            Caps::U(c) => c.name(n).map(|m| m.as_str()),
            Caps::A(c, s) => c.name(n).map(|m| &s[m.start()..m.end()]),
        }
    }

    fn start(&self) -> usize {
        match self {
            Caps::U(c) => c.get(0).map_or(0, |m| m.start()),
            Caps::A(c, _) => c.get(0).map_or(0, |m| m.start()),
        }
    }
}

impl Pat {
    /// A hand reading's answer, or (when it is unsure) the pattern's groups `a` and `b`.
    fn decide<'a>(&self, fast: Fast<(&'a str, Option<&'a str>)>, text: &'a str, a: &str, b: &str)
        -> Option<(&'a str, Option<&'a str>)> {
        match fast {
            Fast::Match(m) => Some(m),
            Fast::NoMatch => None,
            Fast::Unsure => self.captures(text).map(|c| (c.name(a).unwrap_or(""), c.name(b))),
        }
    }

    fn captures<'a>(&self, s: &'a str) -> Option<Caps<'a>> {
        if s.is_ascii() {
            self.ascii.captures(s.as_bytes()).map(|c| Caps::A(c, s))
        } else {
            self.unicode.captures(s).map(Caps::U)
        }
    }
}

struct Patterns {
    delivery: Pat,
    qmgr_from: Pat,
    client: Pat,
    reject: Pat,
    check_reject: Pat,
    envelope: Pat,
    sasl_fail: Pat,
    ssl_accept: Pat,
    said: Pat,
    sasl_server: Pat,
    in_reply_to: Pat,
    while_: Pat,
    tls_host: Pat,
    host_ip_port: Pat,
    word_char: Regex,
}

fn build_unicode(pattern: &str) -> Regex {
    regex::RegexBuilder::new(&pattern.replace("WS", WS).replace("WORD", WORD))
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .expect("a fixed pattern of the reference")
}

fn build(pattern: &str) -> Pat {
    let ascii = format!("(?-u){}", pattern.replace("WS", WS_ASCII).replace("WORD", WORD_ASCII));
    Pat {
        unicode: build_unicode(pattern),
        ascii: regex::bytes::RegexBuilder::new(&ascii)
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .expect("a fixed pattern of the reference"),
    }
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // parsers/postfix.py ADDR: a quoted local part (may hold ">") or up to 512 characters before ">"
        let addr = r#"(?:"(?:[^"\\]|\\.){0,256}"(?:@[^<>WS]{0,255})?|[^>]{0,512})"#;
        let client = r"[^WS\[]{0,300}\[[^\]WS]{1,64}\]";
        Patterns {
            delivery: build(&format!(
                r"^to=<(?P<rcpt>{addr})>, (?:orig_to=<(?P<orig>{addr})>, )?relay=(?P<relay>[^,]{{0,300}}), (?:[a-z_]{{1,20}}=[^,]{{0,100}}, ){{0,6}}dsn=(?P<dsn>[0-9]\.[0-9]{{1,3}}\.[0-9]{{1,3}}), status=(?P<status>[WORD-]{{1,40}})(?: \((?P<text>.*?)\)?)?$"
            )),
            qmgr_from: build(&format!(
                r"^from=<(?P<sender>{addr})>, (?:size=(?P<size>\d{{1,15}}), nrcpt=|status=(?P<status>expired))"
            )),
            client: build(r"^client=(?P<client>[^,WS]{1,400})(?:, sasl_method=[^,WS]{1,40})?(?:, sasl_username=(?P<user>[^,]{0,320}))?"),
            reject: build(r"^(?P<action>reject|milter-reject|proxy-reject): (?P<cmd>[A-Z][A-Z-]{1,20}) from (?P<client>[^WS:\[]{0,300}\[[^\]WS]{1,64}\](?::\d{1,5})?): (?P<text>.*)$"),
            check_reject: build(&format!(
                r"^reject: (?P<what>header|body|mime-header|nested-header) (?P<content>.{{0,2000}}) from (?P<client>[^WS;\[]{{0,300}}\[[^\]WS]{{1,64}}\]); from=<(?P<sender>{addr})> to=<(?P<rcpt>{addr})>(?: proto=[^WS]{{1,20}})?(?: helo=<[^>]{{0,300}}>)?: (?P<text>.*)$"
            )),
            envelope: build(&format!(
                r"; from=<(?P<sender>{addr})>(?:,? to=<(?P<rcpt>{addr})>)?(?:,? proto=[^WS,]{{1,20}})?(?:,? helo=<[^>]{{0,300}}>)?$"
            )),
            sasl_fail: build(&format!(
                r"^(?P<client>{client}(?::\d{{1,5}})?): SASL (?P<mech>[WORD-]{{1,40}}) authentication failed: ?(?P<text>.*?)(?:, sasl_username=(?P<user>.{{0,320}}))?$"
            )),
            ssl_accept: build(&format!(r"^SSL_accept error from (?P<client>{client}(?::\d{{1,5}})?): (?P<text>.*)$")),
            said: build(&format!(r"^host (?P<relay>{client}) (?:said|refused to talk to me): (?P<reply>.*)$")),
            sasl_server: build(&format!(r"server (?P<relay>{client})(?P<said> said)?: (?P<rest>.*)$")),
            in_reply_to: build(r" \(in reply to (?P<cmd>[^)]{1,40}) command\)$"),
            while_: build(&format!(
                r" (?:with|to) (?P<relay>{client}(?::\d{{1,5}})?) (?:timed out )?while (?P<what>[^(]{{1,80}})"
            )),
            tls_host: build(&format!(r"host (?P<relay>{client})")),
            host_ip_port: build(r"^(?P<host>[^\[\]WS]{0,255})\[(?P<ip>[^\]WS]{1,64})\](?::(?P<port>[0-9]{1,5}))?"),
            word_char: build_unicode(r"^[WORD]"),
        }
    })
}

// --- Python's str semantics where the reference relies on them ----------------------------------

fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// Python's str method `name` (isalnum, isdigit, islower) on a text that is not all ASCII.
fn py_pred(py: Python<'_>, s: &str, name: &str) -> bool {
    PyString::new(py, s)
        .call_method0(name)
        .and_then(|v| v.extract::<bool>())
        .unwrap_or(false)
}

fn py_text(py: Python<'_>, s: &str, name: &str) -> String {
    PyString::new(py, s)
        .call_method0(name)
        .and_then(|v| v.extract::<String>())
        .unwrap_or_else(|_| s.to_string())
}

/// Python's str method `name` on s: by `ascii` when s is ASCII, else by Python itself.
fn str_is(py: Python<'_>, s: &str, name: &str, ascii: impl Fn(&[u8]) -> bool) -> bool {
    if s.is_ascii() { ascii(s.as_bytes()) } else { py_pred(py, s, name) }
}

fn isalnum(py: Python<'_>, s: &str) -> bool {
    str_is(py, s, "isalnum", |b| !b.is_empty() && b.iter().all(u8::is_ascii_alphanumeric))
}

fn islower(py: Python<'_>, s: &str) -> bool {
    str_is(py, s, "islower", |b| b.iter().any(u8::is_ascii_lowercase) && !b.iter().any(u8::is_ascii_uppercase))
}

fn isdigit(py: Python<'_>, s: &str) -> bool {
    str_is(py, s, "isdigit", |b| !b.is_empty() && b.iter().all(u8::is_ascii_digit))
}

fn lower(py: Python<'_>, s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { py_text(py, s, "lower") }
}

fn upper(py: Python<'_>, s: &str) -> String {
    if s.is_ascii() { s.to_ascii_uppercase() } else { py_text(py, s, "upper") }
}

/// Byte offset of the n-th character (or the end): Python's s[:n] is &s[..chars_end(s, n)].
fn chars_end(s: &str, n: usize) -> usize {
    if s.len() <= n && s.is_ascii() {
        return s.len();
    }
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

fn head(s: &str, n: usize) -> &str {
    &s[..chars_end(s, n)]
}

fn skip(s: &str, n: usize) -> &str {
    &s[chars_end(s, n)..]
}

fn nchars(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

/// Python's s[-n:]
fn tail(s: &str, n: usize) -> &str {
    let count = nchars(s);
    if count <= n { s } else { skip(s, count - n) }
}

/// Python's s[:-1]
fn drop_last(s: &str) -> &str {
    match s.char_indices().last() {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn find_from(s: &str, needle: &str, from: usize) -> Option<usize> {
    if from > s.len() {
        return None;
    }
    s.get(from..).and_then(|t| t.find(needle)).map(|i| i + from)
}

fn ascii_int(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().filter(|v| *v <= max)
}

// --- the delivery status line, read by hand where that is provably the pattern's reading ----------

/// The groups of DELIVERY the parser uses.
struct Delivery<'a> {
    rcpt: &'a str,
    relay: &'a str,
    dsn: &'a str,
    status: &'a str,
    text: Option<&'a str>,
}

/// The maximal run at the start of s of bytes `ok`, if it is between lo and hi long.
fn run(s: &str, lo: usize, hi: usize, ok: impl Fn(u8) -> bool) -> Option<usize> {
    let n = s.bytes().take_while(|b| ok(*b)).count();
    (lo..=hi).contains(&n).then_some(n)
}

/// `[^>]{0,512}>` (ADDR's second branch; the first needs a '"' at the start, left to the pattern)
fn plain_addr(s: &str) -> Option<usize> {
    if s.starts_with('"') {
        return None;
    }
    run(s, 0, 512, |b| b != b'>').filter(|n| s[*n..].starts_with('>'))
}

enum Fast<T> {
    Match(T),
    NoMatch,
    Unsure, // the pattern decides
}

/// `<prefix>(ADDR)>, ` at the start of an ASCII text: the address and what follows.
fn addr_then<'a>(text: &'a str, prefix: &str) -> Fast<(&'a str, &'a str)> {
    use Fast::*;
    if !text.is_ascii() {
        return Unsure;
    }
    let Some(a) = text.strip_prefix(prefix) else { return NoMatch };
    if a.starts_with('"') {
        return Unsure;
    }
    let Some(n) = plain_addr(a) else { return NoMatch };
    match a[n..].strip_prefix(">, ") {
        Some(after) => Match((&a[..n], after)),
        None => NoMatch,
    }
}

/// DELIVERY on an ASCII text, without the automaton: each part of the pattern is a maximal run that
/// its delimiter ends (no giving back can change it), except the `{0,6}` fields before dsn=, which
/// are tried from the most to the fewest as the pattern's greedy repetition does. Unsure for a quoted
/// address (the pattern's first branch) and for text that is not ASCII.
fn delivery_fast(rest: &str) -> Fast<Delivery<'_>> {
    use Fast::*;
    let (rcpt, mut t) = match addr_then(rest, "to=<") {
        Match(m) => m,
        NoMatch => return NoMatch,
        Unsure => return Unsure,
    };
    if t.starts_with("orig_to=<") {
        // the optional group, or (when it fails) "relay=" at "orig_to=<": no match either way
        t = match addr_then(t, "orig_to=<") {
            Match((_, after)) => after,
            NoMatch => return NoMatch,
            Unsure => return Unsure,
        };
    }
    let Some(r) = t.strip_prefix("relay=") else { return NoMatch };
    let Some(n) = run(r, 0, 300, |b| b != b',') else { return NoMatch };
    let relay = &r[..n];
    let Some(mut f) = r[n..].strip_prefix(", ") else { return NoMatch };
    // (?:[a-z_]{1,20}=[^,]{0,100}, ){0,6}: where each iteration may end
    let mut ends = vec![f];
    while ends.len() <= 6 {
        let Some(k) = run(f, 1, 20, |b| b.is_ascii_lowercase() || b == b'_') else { break };
        let Some(v) = f[k..].strip_prefix('=') else { break };
        let Some(m) = run(v, 0, 100, |b| b != b',') else { break };
        let Some(next) = v[m..].strip_prefix(", ") else { break };
        f = next;
        ends.push(f);
    }
    for at in ends.iter().rev() {
        if let Some(d) = dsn_status(at) {
            return Match(Delivery { rcpt, relay, dsn: d.0, status: d.1, text: d.2 });
        }
    }
    NoMatch
}

/// QMGR_FROM on an ASCII text: (sender, size digits).
/// `^from=<(ADDR)>, (?:size=(\d{1,15}), nrcpt=|status=(expired))`
fn qmgr_from_fast(raw: &str) -> Fast<(&str, Option<&str>)> {
    use Fast::*;
    let (sender, t) = match addr_then(raw, "from=<") {
        Match(m) => m,
        NoMatch => return NoMatch,
        Unsure => return Unsure,
    };
    if let Some(z) = t.strip_prefix("size=") {
        if let Some(k) = run(z, 1, 15, |b| b.is_ascii_digit()) {
            if z[k..].starts_with(", nrcpt=") {
                return Match((sender, Some(&z[..k])));
            }
        }
    }
    if t.starts_with("status=expired") { Match((sender, None)) } else { NoMatch }
}

/// CLIENT on an ASCII text: (client, sasl_username). Not anchored at the end: each bounded part
/// takes what it can, and an optional part that does not follow is left out.
/// `^client=([^,\s]{1,400})(?:, sasl_method=[^,\s]{1,40})?(?:, sasl_username=([^,]{0,320}))?`
fn client_fast(raw: &str) -> Fast<(&str, Option<&str>)> {
    use Fast::*;
    if !raw.is_ascii() {
        return Unsure;
    }
    let word = |b: u8| b != b',' && !(b == b' ' || (9..=13).contains(&b) || (0x1c..=0x1f).contains(&b));
    let Some(c) = raw.strip_prefix("client=") else { return NoMatch };
    let n = c.bytes().take_while(|b| word(*b)).count().min(400);
    if n == 0 {
        return NoMatch;
    }
    let mut t = &c[n..];
    if let Some(m) = t.strip_prefix(", sasl_method=") {
        let k = m.bytes().take_while(|b| word(*b)).count().min(40);
        if k > 0 {
            t = &m[k..];
        }
    }
    let user = t.strip_prefix(", sasl_username=").map(|u| {
        let k = u.bytes().take_while(|b| *b != b',').count().min(320);
        &u[..k]
    });
    Match((&c[..n], user))
}

/// `dsn=([0-9]\.[0-9]{1,3}\.[0-9]{1,3}), status=([\w-]{1,40})(?: \((.*?)\)?)?$` on ASCII text
fn dsn_status(s: &str) -> Option<(&str, &str, Option<&str>)> {
    let d = s.strip_prefix("dsn=")?;
    let b = d.as_bytes();
    if b.len() < 2 || !b[0].is_ascii_digit() || b[1] != b'.' {
        return None;
    }
    let n1 = run(&d[2..], 1, 3, |c| c.is_ascii_digit())?;
    let mid = &d[2 + n1..];
    let mid = mid.strip_prefix('.')?;
    let n2 = run(mid, 1, 3, |c| c.is_ascii_digit())?;
    let dsn_len = 2 + n1 + 1 + n2;
    let st = d[dsn_len..].strip_prefix(", status=")?;
    let n = run(st, 1, 40, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')?;
    let tail = &st[n..];
    if tail.is_empty() {
        return Some((&d[..dsn_len], &st[..n], None));
    }
    let text = tail.strip_prefix(" (")?;
    Some((&d[..dsn_len], &st[..n], Some(text.strip_suffix(')').unwrap_or(text))))
}

// --- SMTP helpers (logscan/smtp.py) -------------------------------------------------------------

fn host_ip_port(text: &str) -> (Option<String>, Option<String>, Option<i64>) {
    match patterns().host_ip_port.captures(text) {
        Some(m) => {
            let host = m.name("host").map(|h| h).filter(|h| !h.is_empty()).map(String::from);
            let port = m.name("port").and_then(|p| p.parse::<i64>().ok());
            (host, m.name("ip").map(|i| i.to_string()), port)
        }
        None => (if text.is_empty() { None } else { Some(text.to_string()) }, None, None),
    }
}

fn domain_of(py: Python<'_>, address: Option<&str>) -> Option<String> {
    let a = address?;
    let at = a.rfind('@')?;
    let d = lower(py, py_strip(&a[at + 1..]));
    if d.is_empty() { None } else { Some(d) }
}

fn is_word_char(c: Option<char>) -> bool {
    match c {
        None => false,
        Some(c) if c.is_ascii() => c.is_ascii_alphanumeric() || c == '_',
        Some(c) => {
            let mut buf = [0u8; 4];
            patterns().word_char.is_match(c.encode_utf8(&mut buf))
        }
    }
}

/// `[245]\.[0-9]{1,3}\.[0-9]{1,3}\b` at the start of s: its length.
fn enhanced_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 5 || !matches!(b[0], b'2' | b'4' | b'5') || b[1] != b'.' {
        return None;
    }
    let digits = |from: usize| b[from.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let n1 = digits(2);
    if !(1..=3).contains(&n1) || b.get(2 + n1) != Some(&b'.') {
        return None;
    }
    let n2 = digits(3 + n1);
    let end = 3 + n1 + n2;
    // a digit run longer than 3 has no word boundary inside it: no match, as in Python
    if !(1..=3).contains(&n2) || is_word_char(s[end..].chars().next()) {
        return None;
    }
    Some(end)
}

/// logscan.smtp.split_reply: the SMTP code and enhanced status at the start of a reply text.
fn split_reply(text: &str) -> (Option<i64>, Option<String>) {
    let b = text.as_bytes();
    if b.len() >= 3 && (b'2'..=b'5').contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit() {
        let code = text[..3].parse::<i64>().ok();
        let enh = if b.len() > 3 && (b[3] == b' ' || b[3] == b'-') {
            enhanced_at(&text[4..]).map(|n| text[4..4 + n].to_string())
        } else {
            None
        };
        return (code, enh);
    }
    (None, enhanced_at(text).map(|n| text[..n].to_string()))
}

// --- rows -----------------------------------------------------------------------------------------

// The string columns a Postfix row can fill, in this order (logscan/fastpath.py names them).
const STR_COLUMNS: [&str; 19] = [
    "host", "program", "event", "direction", "queue_id", "message_id", "sender", "recipient", "recipient_domain",
    "client_host", "client_ip", "sasl_username", "relay_host", "relay_ip", "enhanced_status", "smtp_stage",
    "diagnostic", "stamp", "line",
];
#[derive(Clone, Copy)]
#[repr(usize)]
enum C {
    Host, Program, Event, Direction, QueueId, MessageId, Sender, Recipient, RecipientDomain, ClientHost,
    ClientIp, SaslUsername, RelayHost, RelayIp, EnhancedStatus, SmtpStage, Diagnostic, Stamp, Line,
}

#[derive(Default, Clone)]
struct Row {
    s: [Option<String>; 19],
    size: Option<i64>,
    relay_port: Option<i64>,
    smtp_code: Option<i64>,
    line_no: i64,
}

impl Row {
    fn set(&mut self, c: C, v: Option<String>) {
        self.s[c as usize] = v;
    }
    fn get(&self, c: C) -> Option<&str> {
        self.s[c as usize].as_deref()
    }
}

/// The fields an expired row takes from its queue id's last deferral (LAST_DEFERRAL_FIELDS and the
/// diagnostic); all the reference reads of a carried last_deferral row.
#[derive(Default, Clone)]
struct LastDeferral {
    recipient: Option<String>,
    recipient_domain: Option<String>,
    relay_host: Option<String>,
    relay_ip: Option<String>,
    relay_port: Option<i64>,
    smtp_code: Option<i64>,
    enhanced_status: Option<String>,
    smtp_stage: Option<String>,
    diagnostic: Option<String>,
}

/// One queue id's raw context lines (the text after "QID: "), decoded only when it fails.
#[derive(Default, Clone)]
struct Info {
    clie: Option<String>,
    mess: Option<String>,
    from: Option<String>,
    uid: Option<String>,
    last_deferral: Option<Box<LastDeferral>>, // boxed: most entries never have one
}

impl Info {
    fn set(&mut self, kind: &str, raw: &str) {
        let v = Some(raw.to_string());
        match kind {
            "clie" => self.clie = v,
            "mess" => self.mess = v,
            "from" => self.from = v,
            _ => self.uid = v,
        }
    }
}

#[derive(Default)]
struct Corr {
    client_host: Option<String>,
    client_ip: Option<String>,
    sasl_username: Option<String>,
    message_id: Option<String>,
    sender: Option<String>,
    size: Option<i64>,
    any: bool, // the reference's dict is not empty
}

/// parsers/postfix.py correlated()
fn correlated(info: Option<&Info>) -> Corr {
    let mut out = Corr::default();
    let Some(info) = info else { return out };
    let p = patterns();
    if let Some(raw) = &info.clie {
        if let Some((client, user)) = p.client.decide(client_fast(raw), raw, "client", "user") {
            let (h, ip, _) = host_ip_port(client);
            out.client_host = h;
            out.client_ip = ip;
            out.sasl_username = user.map(String::from);
            out.any = true;
        }
    }
    if let Some(raw) = &info.mess {
        let mut mid = py_strip(skip(raw, 11));
        if mid.starts_with('<') && mid.ends_with('>') {
            mid = if mid.len() >= 2 { &mid[1..mid.len() - 1] } else { "" };
        }
        out.message_id = if mid.is_empty() { None } else { Some(mid.to_string()) };
        out.any = true;
    }
    let mut have_sender = false;
    if let Some(raw) = &info.from {
        if let Some((sender, size)) = p.qmgr_from.decide(qmgr_from_fast(raw), raw, "sender", "size") {
            out.sender = Some(sender.to_string());
            have_sender = true;
            out.any = true;
            if let Some(size) = size {
                out.size = ascii_int(size, i64::MAX);
            }
        }
    }
    if let Some(raw) = &info.uid {
        if !have_sender {
            if let Some(i) = raw.find(" from=<") {
                if i > 0 {
                    out.sender = Some(raw[i + 7..].trim_end_matches('>').to_string());
                    out.any = true;
                }
            }
        }
    }
    out
}

fn apply(row: &mut Row, c: Corr) {
    if !c.any {
        return;
    }
    row.set(C::ClientHost, c.client_host);
    row.set(C::ClientIp, c.client_ip);
    row.set(C::SaslUsername, c.sasl_username);
    row.set(C::MessageId, c.message_id);
    if c.sender.is_some() {
        row.set(C::Sender, c.sender);
    }
    if c.size.is_some() {
        row.size = c.size;
    }
}

#[derive(Default)]
struct Explained {
    relay: Option<String>,
    smtp_code: Option<i64>,
    stage: Option<String>,
    diagnostic: String,
}

fn stage_of_while(what: &str) -> Option<String> {
    for (needle, stage) in WHILE_STAGE {
        if what.contains(needle) {
            return Some(stage.to_string());
        }
    }
    if what.contains("connect") { Some("connect".into()) } else { None }
}

/// parsers/postfix.py explain_status_text
fn explain_status_text(text: &str) -> Explained {
    let p = patterns();
    let mut out = Explained::default();
    let mut body = text.strip_prefix("delivery temporarily suspended: ").unwrap_or(text);
    if body.starts_with("SASL authentication failed; ") {
        out.stage = Some("AUTH".into());
        if let Some(m) = p.sasl_server.captures(body) {
            out.relay = m.name("relay").map(|r| r.to_string());
            if m.name("said").is_some() {
                body = m.name("rest").map_or("", |r| r);
            }
        }
        out.smtp_code = split_reply(body).0;
        out.diagnostic = body.to_string();
        return out;
    }
    if let Some(m) = p.said.captures(body) {
        out.relay = m.name("relay").map(|r| r.to_string());
        let mut reply = m.name("reply").map_or("", |r| r);
        if let Some(r) = p.in_reply_to.captures(reply) {
            let cmd = r.name("cmd").map_or("", |c| c);
            out.stage = Some(if cmd.starts_with("AUTH") { "AUTH".to_string() } else { cmd.to_string() });
            reply = &reply[..r.start()];
        } else if body.contains("refused to talk to me") {
            out.stage = Some("greeting".into());
        }
        out.smtp_code = split_reply(reply).0;
        out.diagnostic = reply.to_string();
        return out;
    }
    out.diagnostic = body.to_string();
    if let Some(rest) = body.strip_prefix("connect to ") {
        out.stage = Some("connect".into());
        out.relay = Some(rest.split(": ").next().unwrap_or("").to_string());
    } else if body.starts_with("Host or domain name not found")
        || body.starts_with("Name service error")
        || body.starts_with("unknown mail transport")
    {
        if body.contains("Name service") || body.contains("Host or domain") {
            out.stage = Some("DNS".into());
        }
    } else if body.contains("TLS") || body.contains("certificate") {
        out.stage = Some("STARTTLS".into());
        if let Some(m) = p.tls_host.captures(body) {
            out.relay = m.name("relay").map(|r| r.to_string());
        }
    } else if let Some(m) = p.while_.captures(body) {
        out.relay = m.name("relay").map(|r| r.to_string());
        out.stage = stage_of_while(m.name("what").map_or("", |w| w));
    }
    out
}

// --- the correlation table: insertion-ordered, bounded like PostfixState --------------------------

/// FxHash (rustc's hasher): queue ids and delivery keys are short, and SipHash's defence against
/// chosen collisions is not needed for a table the pipeline bounds (MAX_QUEUE_IDS).
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// The (host, queue id) table, in the order entries were made (the reference's dict order: the
/// oldest are forgotten first, and a carried state keeps the newest). Keys are
/// "<host length>:<host><queue id>" (any character may be in a host). `legacy`: entries of a form-1
/// state (keyed by queue id alone), taken over by the first host that uses the id (ParserState.adopt).
#[derive(Default)]
struct Queue {
    map: FxMap<String, (u64, Info)>,
    legacy: FxMap<String, Info>,
    next: u64,
}

fn queue_key(host: &str, qid: &str) -> String {
    let mut k = String::with_capacity(host.len() + qid.len() + 4);
    let _ = write!(k, "{}:", host.len());
    k.push_str(host);
    k.push_str(qid);
    k
}

/// A queue_key's (host, queue id).
fn split_key(k: &str) -> (&str, &str) {
    let colon = k.find(':').unwrap_or(0);
    let n: usize = k[..colon].parse().unwrap_or(0);
    let rest = &k[colon + 1..];
    (&rest[..n], &rest[n..])
}

impl Queue {
    /// PostfixState.lookup: the entry, or the form-1 entry of its id (not taken over).
    fn get(&self, host: &str, qid: &str) -> Option<&Info> {
        match self.map.get(&queue_key(host, qid)) {
            Some((_, i)) => Some(i),
            None if !self.legacy.is_empty() => self.legacy.get(qid),
            None => None,
        }
    }

    /// PostfixState.get: the entry, created (after forgetting the oldest tenth when full) if new.
    fn entry(&mut self, host: &str, qid: &str) -> &mut Info {
        let key = queue_key(host, qid);
        if !self.map.contains_key(&key) {
            if self.map.len() >= MAX_QUEUE_IDS {
                let mut seqs: Vec<u64> = self.map.values().map(|(s, _)| *s).collect();
                let k = MAX_QUEUE_IDS / 10;
                seqs.select_nth_unstable(k - 1);
                let cut = seqs[..k].iter().copied().max().unwrap_or(0);
                self.map.retain(|_, (s, _)| *s > cut);
            }
            let seq = self.next;
            self.next += 1;
            let info = if self.legacy.is_empty() { Info::default() } else { self.legacy.remove(qid).unwrap_or_default() };
            self.map.insert(key.clone(), (seq, info));
        }
        &mut self.map.get_mut(&key).expect("just made").1
    }

    /// PostfixState.remove
    fn pop(&mut self, host: &str, qid: &str) {
        if self.map.remove(&queue_key(host, qid)).is_none() && !self.legacy.is_empty() {
            self.legacy.remove(qid);
        }
    }

    /// The entries, oldest first.
    fn ordered(&self) -> Vec<(&String, &Info)> {
        let mut all: Vec<(u64, &String, &Info)> = self.map.iter().map(|(k, (s, i))| (*s, k, i)).collect();
        all.sort_unstable_by_key(|e| e.0);
        all.into_iter().map(|(_, k, i)| (k, i)).collect()
    }
}

// --- the engine -----------------------------------------------------------------------------------

struct Prefix<'a> {
    stamp: &'a str,
    host: &'a str,
    prog: &'a str,
    pid: &'a str,
}

#[derive(Default)]
struct Block {
    failures: i64,
    unparsed: i64,
    ignored: i64,
    examples: Vec<(i64, String)>,
    reasons: Vec<(&'static str, i64)>,
    late: Vec<(u64, String)>,
    last_failure_line: i64,
    last_unparsed_line: i64,
}

/// The Postfix engine and its correlation state, shared by the files of one scan.
#[pyclass(module = "logscan._core")]
pub struct PostfixCore {
    queue: Queue,
    last_tls_row: HashMap<(String, String), u64>,
    rows: Vec<Row>,
    first_serial: u64, // serial number of rows[0]
    raw_deliveries: FxMap<String, i64>, // keyed as count_delivery writes it
    stamp_of_hour: FxMap<String, String>,
    key: String, // reused for the delivery key
    // Boxed: a SIMD searcher holds 32-byte aligned vectors, and Python allocates the object
    // holding this struct with 16-byte alignment only (a misaligned AVX load faults).
    sent: Box<memmem::Finder<'static>>,
    connect: Box<memmem::Finder<'static>>,
    block: Block,
}

fn daemon_of(prog: &str) -> &str {
    let daemon = prog.rsplit('/').next().unwrap_or(prog);
    let known = DELIVERY_DAEMONS.contains(&daemon) || OTHER_DAEMONS.contains(&daemon);
    if known && (prog.contains('/') || prog.starts_with("postfix")) {
        return daemon;
    }
    if prog.starts_with("postfix") { "master" } else { "" }
}

impl PostfixCore {
    /// ctx.ignore(): a line that is plainly not a failure.
    fn ignore(&mut self) {
        self.block.ignored += 1;
    }

    /// ctx.ignored(reason): a failure-looking line deliberately not a row.
    fn ignored(&mut self, reason: &'static str) {
        self.block.ignored += 1;
        match self.block.reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some(e) => e.1 += 1,
            None => self.block.reasons.push((reason, 1)),
        }
    }

    fn unparsed(&mut self, line_no: i64, line: &str) {
        let b = &mut self.block;
        if line_no != b.last_failure_line && line_no != b.last_unparsed_line {
            b.unparsed += 1;
            b.last_unparsed_line = line_no;
        }
        if b.examples.len() < UNPARSED_EXAMPLES {
            b.examples.push((line_no, head(line, EXAMPLE_CHARS).to_string()));
        }
    }

    fn new_row(p: &Prefix, event: &str, direction: &str) -> Row {
        let mut r = Row::default();
        r.set(C::Host, Some(p.host.to_string()));
        r.set(C::Program, Some(p.prog.to_string()));
        r.set(C::Event, Some(event.to_string()));
        r.set(C::Direction, Some(direction.to_string()));
        r
    }

    /// FileContext.emit: the row is kept, its line counted once as a failure line. Returns its serial.
    fn emit(&mut self, mut row: Row, p: &Prefix, line_no: i64, line: &str) -> u64 {
        // INT_RANGES (parsers/base.py)
        row.smtp_code = row.smtp_code.filter(|v| (0..=(1 << 15) - 1).contains(v));
        row.relay_port = row.relay_port.filter(|v| (0..=(1i64 << 31) - 1).contains(v));
        row.size = row.size.filter(|v| *v >= 0);
        row.set(C::Stamp, Some(p.stamp.to_string()));
        row.set(C::Line, Some(line.to_string()));
        row.line_no = line_no;
        self.rows.push(row);
        let b = &mut self.block;
        if line_no != b.last_failure_line {
            b.failures += 1;
            b.last_failure_line = line_no;
            if line_no == b.last_unparsed_line {
                b.unparsed -= 1;
                b.last_unparsed_line = -1;
            }
        }
        self.first_serial + self.rows.len() as u64 - 1
    }

    fn count_delivery(&mut self, py: Python<'_>, line: &str) {
        let Some(to) = line.find(" to=<") else { return };
        let quote = if line[to + 5..].starts_with('"') { find_from(line, "\"", to + 6) } else { None };
        let start = quote.map_or(to + 5, |q| q.max(to + 5));
        let Some(end) = find_from(line, ">", start) else { return };
        let Some(relay) = find_from(line, ", relay=", end) else { return };
        let from = relay + 8;
        let mut host = match find_from(line, ",", from) {
            Some(comma) => &line[from..comma],
            None => {
                let cut = drop_last(line).len();
                if cut > from { &line[from..cut] } else { "" }
            }
        };
        if let Some(bracket) = host.find('[') {
            if bracket > 0 {
                host = &host[..bracket];
            }
        }
        let (stamp, hour) = if isdigit(py, head(line, 4)) {
            let stamp = &line[..line.find(' ').unwrap_or(0)];
            (stamp, [head(stamp, 13), tail(stamp, 6)])
        } else {
            (head(line, 15), [head(line, 9), ""])
        };
        let recipient = &line[to + 5..end];
        let domain = recipient.rfind('@').map_or("", |at| &recipient[at + 1..]);
        // "<hour key length>:<domain length>:<hour key><domain><relay>" (any character may be in them)
        let key = &mut self.key;
        key.clear();
        let _ = write!(key, "{}:{}:", hour[0].len() + hour[1].len(), domain.len());
        let prefix = key.len();
        key.push_str(hour[0]);
        key.push_str(hour[1]);
        if !self.stamp_of_hour.contains_key(&key[prefix..]) {
            self.stamp_of_hour.insert(key[prefix..].to_string(), stamp.to_string());
        }
        key.push_str(domain);
        key.push_str(host);
        match self.raw_deliveries.get_mut(key.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.raw_deliveries.insert(key.clone(), 1);
            }
        }
    }

    fn parse_line(&mut self, py: Python<'_>, line: &str, line_no: i64) {
        let lb = line.as_bytes();
        if self.sent.find(lb).is_some() {
            self.count_delivery(py, line);
            self.ignore();
            return;
        }
        if self.connect.find(lb).is_some() {
            self.ignore();
            return;
        }
        let stamp_like = |line: &str| {
            MONTHS.iter().any(|m| line.as_bytes().starts_with(m.as_bytes())) || isdigit(py, head(line, 4))
        };
        let colon = match line.find(": ") {
            Some(c) if stamp_like(line) => c,
            _ => {
                if py_strip(line).is_empty() {
                    self.ignore();
                } else {
                    self.unparsed(line_no, line);
                }
                return;
            }
        };
        // context lines: "QID: client=", "message-id=", "from=<", "uid=", "removed"
        if let Some(c) = find_from(line, ": ", colon + 2) {
            let qid = &line[colon + 2..c];
            let width = nchars(qid) + 2;
            let kind = lb.get(c + 2..c + 6).and_then(|k| std::str::from_utf8(k).ok()).unwrap_or("");
            if (7..=22).contains(&width) && CONTEXT_KINDS.contains(&kind)
                && isalnum(py, qid) && !islower(py, qid) && (kind != "from" || !line.ends_with(EXPIRED_TAIL))
            {
                let host = Self::context_host(line, colon);
                if kind == "remo" {
                    self.queue.pop(host, qid);
                } else {
                    self.queue.entry(host, qid).set(kind, &line[c + 2..]);
                }
                self.ignore();
                return;
            }
        }
        let tag_start = line[..colon].rfind(' ');
        let host_start = match tag_start {
            Some(t) if t > 0 => line[..t].rfind(' '),
            _ => None,
        };
        let (Some(tag_start), Some(host_start)) = (tag_start, host_start.filter(|h| *h > 0)) else {
            self.unparsed(line_no, line);
            return;
        };
        let tag = &line[tag_start + 1..colon];
        let bracket = tag.find('[').filter(|b| *b > 0);
        let prog = bracket.map_or(tag, |b| &tag[..b]);
        let daemon = daemon_of(prog);
        if daemon.is_empty() {
            self.ignore(); // another program in the same mail log
            return;
        }
        let p = Prefix {
            stamp: &line[..host_start],
            host: &line[host_start + 1..tag_start],
            prog,
            pid: bracket.map_or("", |b| drop_last(&tag[b + 1..])),
        };
        let msg = &line[colon + 2..];
        if let Some(c) = msg.find(": ") {
            let qid = &msg[..c];
            if (5..=20).contains(&nchars(qid)) && isalnum(py, qid) && !islower(py, qid) && qid != "NOQUEUE" {
                self.queued(py, daemon, qid, &msg[c + 2..], &p, line, line_no);
                return;
            }
        }
        if let Some(rest) = msg.strip_prefix("NOQUEUE: ") {
            self.reject(py, rest, None, &p, line, line_no);
        } else if INTERESTING_UNQUEUED.iter().any(|s| msg.starts_with(s)) {
            self.unqueued(py, msg, &p, line, line_no);
        } else {
            self.ignore();
        }
    }

    /// The host of a context line's key as the reference's fast path takes it: the text between
    /// the last two spaces before the first ": " (Python slicing, even where those spaces are missing).
    fn context_host(line: &str, colon: usize) -> &str {
        match line[..colon].rfind(' ') {
            None => drop_last(line), // line[0:-1]
            Some(0) => "",
            Some(t) => &line[line[..t].rfind(' ').map_or(0, |h| h + 1)..t],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn queued(&mut self, py: Python<'_>, daemon: &str, qid: &str, rest: &str, p: &Prefix, line: &str, line_no: i64) {
        if DELIVERY_DAEMONS.contains(&daemon) && rest.starts_with("to=<") {
            let d = match delivery_fast(rest) {
                Fast::Match(d) => d,
                Fast::NoMatch => {
                    self.unparsed(line_no, line);
                    return;
                }
                Fast::Unsure => match patterns().delivery.captures(rest) {
                    Some(c) => Delivery {
                        rcpt: c.name("rcpt").unwrap_or(""),
                        relay: c.name("relay").unwrap_or(""),
                        dsn: c.name("dsn").unwrap_or(""),
                        status: c.name("status").unwrap_or(""),
                        text: c.name("text"),
                    },
                    None => {
                        self.unparsed(line_no, line);
                        return;
                    }
                },
            };
            let status = d.status;
            if status == "sent" || status == "deliverable" {
                self.ignore();
                return;
            }
            let event = match status {
                "deferred" | "bounced" | "expired" => status,
                s if s.starts_with("undeliverable") => "undeliverable",
                _ => "bounced",
            };
            let text = d.text.unwrap_or("");
            let relay_field = d.relay;
            let ex = explain_status_text(text);
            let relay = if relay_field == "none" || relay_field.is_empty() { ex.relay.clone() } else { Some(relay_field.to_string()) };
            let (rhost, rip, rport) = match relay.as_deref() {
                Some(r) if !r.is_empty() => host_ip_port(r),
                _ => (None, None, None),
            };
            let rcpt = Some(d.rcpt);
            let local = matches!(daemon, "local" | "virtual" | "pipe");
            let mut row = Self::new_row(p, event, if local { "local" } else { "outbound" });
            row.set(C::QueueId, Some(qid.to_string()));
            row.set(C::Recipient, rcpt.map(String::from));
            row.set(C::RecipientDomain, domain_of(py, rcpt));
            row.set(C::RelayHost, rhost);
            row.set(C::RelayIp, rip);
            row.relay_port = rport;
            row.smtp_code = ex.smtp_code;
            row.set(C::EnhancedStatus, Some(d.dsn.to_string()));
            row.set(C::SmtpStage, ex.stage);
            row.set(C::Diagnostic, Some(if ex.diagnostic.is_empty() { text.to_string() } else { ex.diagnostic }));
            let corr = correlated(Some(&*self.queue.entry(p.host, qid)));
            apply(&mut row, corr);
            let kept = if event == "deferred" {
                Some(LastDeferral {
                    recipient: row.get(C::Recipient).map(String::from),
                    recipient_domain: row.get(C::RecipientDomain).map(String::from),
                    relay_host: row.get(C::RelayHost).map(String::from),
                    relay_ip: row.get(C::RelayIp).map(String::from),
                    relay_port: row.relay_port.filter(|v| (0..=(1i64 << 31) - 1).contains(v)),
                    smtp_code: row.smtp_code.filter(|v| (0..=(1 << 15) - 1).contains(v)),
                    enhanced_status: row.get(C::EnhancedStatus).map(String::from),
                    smtp_stage: row.get(C::SmtpStage).map(String::from),
                    diagnostic: row.get(C::Diagnostic).map(String::from),
                })
            } else {
                None
            };
            self.emit(row, p, line_no, line);
            if let Some(last) = kept {
                self.queue.entry(p.host, qid).last_deferral = Some(Box::new(last));
            }
            return;
        }
        let kind = rest.get(..4).unwrap_or("");
        if CONTEXT_KINDS.contains(&kind) {
            if kind == "remo" {
                if rest == "removed" {
                    self.queue.pop(p.host, qid);
                }
                self.ignore();
                return;
            }
            let info = self.queue.entry(p.host, qid);
            if kind == "from" && rest.ends_with(EXPIRED_TAIL) {
                if info.from.is_none() {
                    info.from = Some(rest.to_string()); // keep the earlier from= line: it has the size
                }
                self.expired(qid, p, line, line_no);
            } else {
                info.set(kind, rest);
                self.ignore();
            }
            return;
        }
        if rest.starts_with("reject: ") || rest.starts_with("milter-reject: ") || rest.starts_with("proxy-reject: ") {
            if daemon == "cleanup" && rest.starts_with("reject: ") {
                if let Some(r) = patterns().check_reject.captures(rest) {
                    self.check_reject(py, qid, &r, p, line, line_no);
                    return;
                }
            }
            self.reject(py, rest, Some(qid), p, line, line_no);
            return;
        }
        if rest.starts_with("lost connection with ") || rest.starts_with("conversation with ") {
            self.ignored("session error after the delivery status of the same queue id");
            return;
        }
        if rest.starts_with("host ") || rest.starts_with("SASL authentication failed") {
            self.ignored("per-host reply before the final status= line of the same queue id");
            return;
        }
        self.ignore();
    }

    fn expired(&mut self, qid: &str, p: &Prefix, line: &str, line_no: i64) {
        let mut row = Self::new_row(p, "expired", "outbound");
        row.set(C::QueueId, Some(qid.to_string()));
        let info = self.queue.get(p.host, qid);
        let last = info.and_then(|i| i.last_deferral.as_deref().cloned()).unwrap_or_default();
        row.set(C::Recipient, last.recipient);
        row.set(C::RecipientDomain, last.recipient_domain);
        row.set(C::RelayHost, last.relay_host);
        row.set(C::RelayIp, last.relay_ip);
        row.relay_port = last.relay_port;
        row.smtp_code = last.smtp_code;
        row.set(C::EnhancedStatus, last.enhanced_status);
        row.set(C::SmtpStage, last.smtp_stage);
        row.set(C::Diagnostic, Some(match last.diagnostic.filter(|d| !d.is_empty()) {
            Some(d) => format!("message expired in the queue; last deferral: {d}"),
            None => "message expired in the queue (returned to sender); no deferral reason in the logs read".into(),
        }));
        apply(&mut row, correlated(info));
        self.emit(row, p, line_no, line);
    }

    fn reject(&mut self, py: Python<'_>, rest: &str, qid: Option<&str>, p: &Prefix, line: &str, line_no: i64) {
        let pat = patterns();
        let Some(r) = pat.reject.captures(rest) else {
            const ACTIONS: [&str; 6] = ["reject_warning: ", "discard: ", "filter: ", "hold: ", "redirect ", "warn: "];
            if ACTIONS.iter().any(|a| rest.starts_with(a)) {
                self.ignored("smtpd access action that is not a rejection (warning, discard, filter, hold)");
            } else if rest.starts_with("reject: ") || rest.starts_with("milter-reject: ") {
                self.unparsed(line_no, line);
            } else {
                self.ignore();
            }
            return;
        };
        let mut text = r.name("text").map_or("", |t| t);
        let (mut sender, mut rcpt) = (None, None);
        if let Some(e) = pat.envelope.captures(text) {
            sender = e.name("sender").map(|m| m);
            rcpt = e.name("rcpt").map(|m| m);
            text = &text[..e.start()];
        }
        let client = r.name("client").unwrap_or("");
        let mut row = Self::rejected_row(py, p, qid, sender, rcpt, client, text, r.name("cmd"));
        row.set(C::Diagnostic, Some(text.to_string()));
        if let Some(q) = qid {
            let info = correlated(self.queue.get(p.host, q));
            if info.any {
                row.set(C::MessageId, info.message_id);
                row.size = info.size;
                row.set(C::SaslUsername, info.sasl_username);
            }
        }
        self.emit(row, p, line_no, line);
    }

    /// What _reject and _check_reject rows share: envelope, client, reply code and stage.
    #[allow(clippy::too_many_arguments)]
    fn rejected_row(py: Python<'_>, p: &Prefix, qid: Option<&str>, sender: Option<&str>, rcpt: Option<&str>,
                    client: &str, text: &str, stage: Option<&str>) -> Row {
        let (chost, cip, _) = host_ip_port(client);
        let (code, enh) = split_reply(text);
        let mut row = Self::new_row(p, "rejected", "inbound");
        row.set(C::QueueId, qid.map(String::from));
        row.set(C::Sender, sender.map(String::from));
        row.set(C::Recipient, rcpt.map(String::from));
        row.set(C::RecipientDomain, domain_of(py, rcpt));
        row.set(C::ClientHost, chost);
        row.set(C::ClientIp, cip);
        row.smtp_code = code;
        row.set(C::EnhancedStatus, enh);
        row.set(C::SmtpStage, stage.map(String::from));
        row
    }

    #[allow(clippy::too_many_arguments)]
    fn check_reject(&mut self, py: Python<'_>, qid: &str, r: &Caps, p: &Prefix, line: &str, line_no: i64) {
        let text = r.name("text").unwrap_or("");
        let info = correlated(self.queue.get(p.host, qid));
        let client = r.name("client").unwrap_or("");
        let mut row = Self::rejected_row(py, p, Some(qid), r.name("sender"), r.name("rcpt"), client, text, Some("DATA"));
        let what = r.name("what").map_or("", |w| w);
        row.set(C::Diagnostic, Some(format!("{what} check: {text}")));
        row.set(C::MessageId, info.message_id);
        row.set(C::SaslUsername, info.sasl_username);
        self.emit(row, p, line_no, line);
    }

    fn unqueued(&mut self, py: Python<'_>, msg: &str, p: &Prefix, line: &str, line_no: i64) {
        if let Some(text) = msg.strip_prefix("warning: ") {
            self.warning(py, text, p, line, line_no);
        } else if msg.starts_with("fatal: ") || msg.starts_with("panic: ") || msg.starts_with("error: ") {
            let text = msg.split_once(": ").map_or("", |(_, t)| t);
            let mut row = Self::new_row(p, "server_error", "local");
            row.set(C::Diagnostic, Some(text.to_string()));
            self.emit(row, p, line_no, line);
        } else if msg.starts_with("SSL_accept error from ") {
            let Some(s) = patterns().ssl_accept.captures(msg) else {
                self.unparsed(line_no, line);
                return;
            };
            let (chost, cip, _) = host_ip_port(s.name("client").map_or("", |c| c));
            let mut row = Self::new_row(p, "tls_failed", "inbound");
            row.set(C::ClientHost, chost);
            row.set(C::ClientIp, cip);
            row.set(C::SmtpStage, Some("STARTTLS".into()));
            let text = s.name("text").map_or("", |t| t);
            row.set(C::Diagnostic, Some(format!("TLS handshake with client failed: {text}")));
            let serial = self.emit(row, p, line_no, line);
            self.last_tls_row.insert((p.host.to_string(), p.pid.to_string()), serial);
        } else if msg.starts_with("connect to ") {
            self.ignored("per-host connection attempt without queue id; the delivery's status= line is the failure");
        } else if msg.starts_with("SSL_connect error to ")
            || msg.starts_with("certificate verification failed for ")
            || msg.starts_with("server certificate verification failed for ")
        {
            self.ignored("outbound TLS detail; the delivery's status= line is the failure");
        } else if msg.starts_with("lost connection after ") || msg.starts_with("timeout after ") || msg.starts_with("too many errors after ") {
            self.ignored("an SMTP client dropped or stalled its session with us; nothing was refused");
        } else {
            self.ignore();
        }
    }

    fn warning(&mut self, py: Python<'_>, text: &str, p: &Prefix, line: &str, line_no: i64) {
        if text.contains(" authentication failed") {
            let Some(s) = patterns().sasl_fail.captures(text) else {
                self.unparsed(line_no, line);
                return;
            };
            let (chost, cip, _) = host_ip_port(s.name("client").map_or("", |c| c));
            let reason = s.name("text").map(|t| t).filter(|t| !t.is_empty()).unwrap_or("(no reason given)");
            let mech = upper(py, s.name("mech").map_or("", |m| m));
            let mut row = Self::new_row(p, "auth_failed", "inbound");
            row.set(C::ClientHost, chost);
            row.set(C::ClientIp, cip);
            row.set(C::SaslUsername, s.name("user").map(|u| u.to_string()));
            row.set(C::SmtpStage, Some("AUTH".into()));
            row.set(C::Diagnostic, Some(format!("SASL {mech} authentication failed: {reason}")));
            self.emit(row, p, line_no, line);
        } else if let Some(detail) = text.strip_prefix("TLS library problem: ") {
            match self.last_tls_row.remove(&(p.host.to_string(), p.pid.to_string())) {
                Some(serial) => {
                    let add = format!(" ({detail})");
                    if serial >= self.first_serial {
                        if let Some(row) = self.rows.get_mut((serial - self.first_serial) as usize) {
                            if let Some(d) = row.s[C::Diagnostic as usize].as_mut() {
                                d.push_str(&add);
                            }
                        }
                    } else {
                        self.block.late.push((serial, add));
                    }
                    self.ignored("TLS library detail, added to the preceding TLS failure row");
                }
                None => self.ignored("TLS library detail without a preceding TLS failure line"),
            }
        } else if text.contains("RBL lookup error") || text.contains("DNSBL lookup error") || text.contains("dnsblog reply timeout") {
            let mut row = Self::new_row(p, "server_error", "inbound");
            row.set(C::SmtpStage, Some("DNS".into()));
            row.set(C::Diagnostic, Some(text.to_string()));
            self.emit(row, p, line_no, line);
        } else if text.ends_with(": queue file size limit exceeded") {
            let qid = text.split(':').next().unwrap_or("");
            let mut row = Self::new_row(p, "rejected", "inbound");
            row.set(C::QueueId, Some(qid.to_string()));
            row.smtp_code = Some(552);
            row.set(C::EnhancedStatus, Some("5.3.4".into()));
            row.set(C::SmtpStage, Some("DATA".into()));
            row.set(C::Diagnostic, Some("queue file size limit exceeded (message_size_limit)".into()));
            apply(&mut row, correlated(self.queue.get(p.host, qid)));
            self.emit(row, p, line_no, line);
        } else if text.starts_with("SASL authentication failure: ") {
            self.ignored("client SASL detail; the delivery's status= line is the failure");
        } else {
            self.ignored("warning that does not by itself stop a delivery");
        }
    }

    /// One line as logscan/reading.py's _decode makes it: invalid UTF-8 decoded by Python itself
    /// (with replacement), NUL as U+FFFD, one "\r" before the line end dropped.
    fn decoded<'a>(line: &'a str, owned: &'a mut String) -> &'a str {
        let mut s: &str = line;
        if s.contains('\0') {
            *owned = s.replace('\0', "\u{fffd}");
            s = owned.as_str();
        }
        s.strip_suffix('\r').unwrap_or(s)
    }
}

fn ld_to_py<'py>(py: Python<'py>, last: &LastDeferral) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("recipient", &last.recipient)?;
    d.set_item("recipient_domain", &last.recipient_domain)?;
    d.set_item("relay_host", &last.relay_host)?;
    d.set_item("relay_ip", &last.relay_ip)?;
    d.set_item("relay_port", last.relay_port)?;
    d.set_item("smtp_code", last.smtp_code)?;
    d.set_item("enhanced_status", &last.enhanced_status)?;
    d.set_item("smtp_stage", &last.smtp_stage)?;
    d.set_item("diagnostic", &last.diagnostic)?;
    Ok(d)
}

/// QueueContext's named keys (parsers/postfix.py) for one entry.
fn info_to_py<'py>(py: Python<'py>, info: &Info) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in [("client", &info.clie), ("message_id", &info.mess), ("qmgr", &info.from), ("pickup", &info.uid)] {
        if let Some(v) = v {
            d.set_item(k, v)?;
        }
    }
    if let Some(last) = &info.last_deferral {
        d.set_item("last_deferral", ld_to_py(py, last)?)?;
    }
    Ok(d)
}

fn info_from_py(d: &Bound<'_, PyDict>) -> PyResult<Info> {
    let mut info = Info {
        clie: get_str(d, "client"),
        mess: get_str(d, "message_id"),
        from: get_str(d, "qmgr"),
        uid: get_str(d, "pickup"),
        last_deferral: None,
    };
    if let Some(last) = d.get_item("last_deferral")? {
        if let Ok(l) = last.cast::<PyDict>() {
            info.last_deferral = Some(Box::new(LastDeferral {
                recipient: get_str(l, "recipient"),
                recipient_domain: get_str(l, "recipient_domain"),
                relay_host: get_str(l, "relay_host"),
                relay_ip: get_str(l, "relay_ip"),
                relay_port: get_int(l, "relay_port"),
                smtp_code: get_int(l, "smtp_code"),
                enhanced_status: get_str(l, "enhanced_status"),
                smtp_stage: get_str(l, "smtp_stage"),
                diagnostic: get_str(l, "diagnostic"),
            }));
        }
    }
    Ok(info)
}

fn get_str(d: &Bound<'_, PyDict>, key: &str) -> Option<String> {
    d.get_item(key).ok().flatten().and_then(|v| v.extract::<String>().ok())
}

fn get_int(d: &Bound<'_, PyDict>, key: &str) -> Option<i64> {
    d.get_item(key).ok().flatten().and_then(|v| {
        if v.is_instance_of::<pyo3::types::PyBool>() { None } else { v.extract::<i64>().ok() }
    })
}

#[pymethods]
impl PostfixCore {
    #[new]
    fn new() -> Self {
        PostfixCore {
            queue: Queue::default(),
            last_tls_row: HashMap::new(),
            rows: Vec::new(),
            first_serial: 0,
            raw_deliveries: FxMap::default(),
            stamp_of_hour: FxMap::default(),
            key: String::new(),
            sent: Box::new(memmem::Finder::new(b"status=sent ").into_owned()),
            connect: Box::new(memmem::Finder::new(b"connect from ").into_owned()),
            block: Block::default(),
        }
    }

    /// Parse one block of lines. `decode`: the block is bytes as read (logscan.reading.iter_byte_chunks),
    /// made into lines as the Python reader makes them; else it is lines already read, joined by "\n".
    /// `split`: a block of several lines (over-long ones cut to 64 Ki characters, and counted); else one.
    /// Returns (lines, failures, ignored, unparsed, unparsed examples, ignored reasons, cut lines, undecodable,
    /// late additions to rows already taken: (serial, text)).
    #[allow(clippy::type_complexity)]
    fn parse<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyBytes>,
        first_line_no: i64,
        decode: bool,
        split: bool,
    ) -> PyResult<(i64, i64, i64, i64, Vec<(i64, String)>, Vec<(&'static str, i64)>, i64, bool, Vec<(u64, String)>)> {
        let bytes = data.as_bytes();
        let mut undecodable = false;
        let fixed: String;
        let text: &str = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) if decode => {
                undecodable = true;
                fixed = data.call_method1("decode", ("utf-8", "replace"))?.extract::<String>()?;
                &fixed
            }
            Err(e) => return Err(PyValueError::new_err(format!("lines are not UTF-8: {e}"))),
        };
        self.block = Block { last_failure_line: -1, last_unparsed_line: -1, ..Block::default() };
        let mut cut = 0i64;
        let mut n = 0i64;
        let mut owned = String::new();
        let lines: Box<dyn Iterator<Item = &str>> = if split { Box::new(text.split('\n')) } else { Box::new(std::iter::once(text)) };
        for raw in lines {
            let line_no = first_line_no + n;
            n += 1;
            let mut line = if decode { Self::decoded(raw, &mut owned) } else { raw };
            if split && decode && line.len() > MAX_LINE_CHARS {
                let end = chars_end(line, MAX_LINE_CHARS);
                if end < line.len() {
                    line = &line[..end];
                    cut += 1;
                }
            }
            self.parse_line(py, line, line_no);
        }
        let b = std::mem::take(&mut self.block);
        Ok((n, b.failures, b.ignored, b.unparsed, b.examples, b.reasons, cut, undecodable, b.late))
    }

    /// Rows held (not taken yet).
    fn buffered(&self) -> usize {
        self.rows.len()
    }

    /// The held rows as column lists (STR_COLUMNS, then size, relay_port, smtp_code, line_no, and the
    /// serial of the first), emptied.
    fn take_rows<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = std::mem::take(&mut self.rows);
        let out = PyDict::new(py);
        out.set_item("first_serial", self.first_serial)?;
        self.first_serial += rows.len() as u64;
        for (i, name) in STR_COLUMNS.iter().enumerate() {
            let col = PyList::empty(py);
            for r in &rows {
                col.append(&r.s[i])?;
            }
            out.set_item(*name, col)?;
        }
        out.set_item("size", rows.iter().map(|r| r.size).collect::<Vec<_>>())?;
        out.set_item("relay_port", rows.iter().map(|r| r.relay_port).collect::<Vec<_>>())?;
        out.set_item("smtp_code", rows.iter().map(|r| r.smtp_code).collect::<Vec<_>>())?;
        out.set_item("line_no", rows.iter().map(|r| r.line_no).collect::<Vec<_>>())?;
        Ok(out)
    }

    /// The deliveries counted since the last call: ({(hour key, domain, relay): n}, {hour key: stamp}).
    fn take_deliveries<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
        let counts = PyDict::new(py);
        for (key, n) in self.raw_deliveries.drain() {
            let mut parts = key.splitn(3, ':');
            let h: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let d: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let rest = parts.next().unwrap_or("");
            counts.set_item((&rest[..h], &rest[h..h + d], &rest[h + d..]), n)?;
        }
        let hours = PyDict::new(py);
        for (k, s) in self.stamp_of_hour.drain() {
            hours.set_item(k, s)?;
        }
        Ok((counts, hours))
    }

    /// PostfixState.queue as the Python parser keeps it, {(host, queue id): QueueContext}, oldest
    /// first: what an incremental run carries.
    fn export_queue<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (key, info) in self.queue.ordered() {
            out.set_item(split_key(key), info_to_py(py, info)?)?;
        }
        Ok(out)
    }

    /// PostfixState.legacy["queue"]: the form-1 entries not taken over yet, {queue id: QueueContext}.
    fn export_legacy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (qid, info) in &self.queue.legacy {
            out.set_item(qid, info_to_py(py, info)?)?;
        }
        Ok(out)
    }

    /// Take PostfixState.queue (a carried state, or the Python parser's) and its form-1 entries,
    /// replacing what is held. Keys that are not (host, queue id) texts are skipped.
    fn import_queue(&mut self, queue: &Bound<'_, PyDict>, legacy: &Bound<'_, PyDict>) -> PyResult<()> {
        self.queue = Queue::default();
        for (k, v) in legacy.iter() {
            let (Ok(qid), Ok(d)) = (k.extract::<String>(), v.cast::<PyDict>()) else { continue };
            self.queue.legacy.insert(qid, info_from_py(d)?);
        }
        for (k, v) in queue.iter() {
            let (Ok((host, qid)), Ok(d)) = (k.extract::<(String, String)>(), v.cast::<PyDict>()) else { continue };
            let info = info_from_py(d)?;
            *self.queue.entry(&host, &qid) = info;
        }
        Ok(())
    }

    fn queue_len(&self) -> usize {
        self.queue.map.len()
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PostfixCore>()?;
    m.add("STR_COLUMNS", STR_COLUMNS.to_vec())?;
    Ok(())
}
