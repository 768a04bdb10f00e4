#!/bin/bash
# make_sendmail_samples.sh - produce REAL Sendmail log samples for logscan.
#
# Installs Debian's sendmail (apt removes postfix or exim4 if either is installed: they conflict),
# rsyslog, swaks and sasl2-bin; writes /etc/mail/sendmail.mc (Debian's own OSTYPE/DOMAIN plus the
# features below), builds sendmail.cf with m4, starts tools/samples/trouble_smtpd.py (fake providers
# on 127.0.0.1 ports), tools/samples/dnsbl_stub_dns.py (DNS on 127.0.0.1:53) and the Sendmail
# daemon (127.0.0.1:25 MTA, :587 MSA with AUTH, queue run every 15 s, -L sm-mta as Debian starts
# it), submits mail through Debian's MSP (/usr/sbin/sendmail, logs as "sendmail"), swaks and
# tools/samples/exim_smtp_abuse.py, waits until Timeout.queuereturn has returned what could not be
# sent, and publishes the syslog output (mail.* through rsyslog) into sample_logs/sendmail/.
#
# What makes each failure:
#   outbound: mailertable routes every test domain to a mailer "esmtpPORT" (a copy of Sendmail's
#     esmtp mailer with A=TCP $h PORT) and [127.0.0.1], the personas of trouble_smtpd.py (no mail
#     goes to any other domain: the stub DNS would send it back to 127.0.0.1). TLS_Rcpt: entries in the
#     access db require a verified certificate (selfsigned.example.org) or encryption
#     (notls.example.org); an AuthInfo entry with a wrong password for the AUTH personas
#     (2534/2535: Sendmail's client tries AUTH PLAIN and LOGIN, gets 535 5.7.8, sends MAIL anyway;
#     at the default LogLevel 9 only the 530 "Authentication Required" of MAIL is logged);
#     Timeout.queuereturn=2m expires what stays deferred.
#   inbound: 127.0.0.2 may not relay (Relaying denied), 127.0.0.3 is REJECTed by the access db,
#     127.0.0.4 is listed in FEATURE(dnsbl) bl.logscan.test (answered by the stub DNS), a sender
#     domain under "nxdomain" does not resolve, unknown local users, a message over MaxMessageSize,
#     SASL failures (sasldb) on 587, GreetPause (pre-greeting traffic), a client that vanishes,
#     one that idles into Timeout.command, repeated AUTH (possible SMTP attack).
#
# Runs as root on a throw-away Debian 12 machine (no systemd needed).
# NETWORK: everything stays on 127.0.0.0/8. The run itself (daemons, clients) happens in a new
# network namespace that has only a loopback interface (unshare --net, as sandbox.sh does), with
# /etc/resolv.conf and /etc/hosts bind-mounted inside a private mount namespace (the host's files
# are untouched) and its own UTS name "mx1". Nothing can leave the machine.
#
# Usage:  sudo tools/samples/make_sendmail_samples.sh [main|verbose|clean|all|publish]
# Re-runnable; stops every daemon it started when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/sample_logs/sendmail
WORK=/var/tmp/logscan-samples/sendmail
LOGHOST=mx1
RUNS=${1:-all}
PY=${PYTHON:-python3}
# Mailer ports: the trouble_smtpd.py personas, 2599 (closed) and 465 (implicit TLS)
PORTS="2525 2526 2527 2528 2529 2530 2531 2532 2533 2534 2535 2536 2599 465"

mkdir -p "$WORK" "$OUT" "$OUT/clean"
. "$HERE/daemon_common.sh"

# ----------------------------------------------------------------- install (outside the sandbox)
install_packages() {
    local need; need=$(missing_packages sendmail sendmail-bin swaks rsyslog sasl2-bin openssl m4)
    if [ -n "$need" ]; then
        say "installing:$need"
        export DEBIAN_FRONTEND=noninteractive
        local had_policy=0
        [ -e /usr/sbin/policy-rc.d ] && had_policy=1
        [ $had_policy = 1 ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        apt-get update -q
        apt-get install -y -q $need   # removes postfix / exim4-daemon-* (Conflicts: mail-transport-agent)
        [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
    fi
}

if [ -z "${LOGSCAN_SANDBOX:-}" ]; then
    [ "$RUNS" = publish ] || install_packages
    exec env LOGSCAN_SANDBOX=1 unshare --net --mount --uts --propagation private bash "$0" "$@"
fi

# ----------------------------------------------------------------- inside the sandbox
ip link set lo up
hostname "$LOGHOST"
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' > "$WORK/resolv.conf"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmx1.example.com mx1\n' > "$WORK/hosts"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
mount --bind "$WORK/hosts" /etc/hosts

stop_sendmail() {  # Sendmail's pid file holds the pid and then its command line: keep the pid
    [ -s "$WORK/sendmail.pid" ] && head -1 "$WORK/sendmail.pid" > "$WORK/sendmail-daemon.pid"
    rm -f "$WORK/sendmail.pid"
    stop_pidfile "$WORK/sendmail-daemon.pid"
}
stop_dns() { stop_pidfile "$WORK/dns.pid"; }
cleanup() { stop_sendmail; stop_trouble; stop_dns; stop_syslog; }
trap cleanup EXIT

start_dns() {
    stop_dns
    "$PY" "$HERE/dnsbl_stub_dns.py" > "$WORK/dns.out" 2>&1 &
    echo $! > "$WORK/dns.pid"
    for _ in $(seq 1 50); do grep -q ready "$WORK/dns.out" 2>/dev/null && break; sleep 0.1; done
}

# ----------------------------------------------------------------- setup
setup_users_and_certs() {
    for u in alice bob carol; do
        id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$u"
    done
    if [ ! -s "$WORK/trouble-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout "$WORK/trouble-key.pem" -out "$WORK/trouble-cert.pem" \
            -subj "/CN=mx.selfsigned.example.org" 2>/dev/null
    fi
}

setup_sasl() {
    # sasldb for the MSA's AUTH (Debian links /usr/lib/sasl2/Sendmail.conf to this file)
    [ -f /etc/mail/sasl/Sendmail.conf.2.logscan-orig ] || cp /etc/mail/sasl/Sendmail.conf.2 /etc/mail/sasl/Sendmail.conf.2.logscan-orig
    printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: /etc/mail/sasl/sasldb2\nmech_list: LOGIN PLAIN\n' \
        > /etc/mail/sasl/Sendmail.conf.2
    rm -f /etc/mail/sasl/sasldb2
    echo correct-horse | saslpasswd2 -p -c -f /etc/mail/sasl/sasldb2 -u example.com alice
    echo battery-staple | saslpasswd2 -p -f /etc/mail/sasl/sasldb2 -u example.com bob
    chown root:smmsp /etc/mail/sasl/sasldb2; chmod 640 /etc/mail/sasl/sasldb2
}

setup_sendmail() {  # QUEUERETURN=2m (main) or 5d (clean)
    for f in sendmail.mc sendmail.cf access mailertable authinfo; do
        [ -e "/etc/mail/$f" ] && [ ! -e "/etc/mail/$f.logscan-orig" ] && cp "/etc/mail/$f" "/etc/mail/$f.logscan-orig"
    done
    cat > /etc/mail/sendmail.mc <<EOF
divert(-1)dnl
# logscan sample run (tools/samples/make_sendmail_samples.sh); Debian's OSTYPE and DOMAIN
divert(0)dnl
define(\`_USE_ETC_MAIL_')dnl
include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`logscan sample run')dnl
OSTYPE(\`debian')dnl
DOMAIN(\`debian-mta')dnl
undefine(\`confHOST_STATUS_DIRECTORY')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-v4, Port=smtp, Addr=127.0.0.1')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MSA-v4, Port=submission, M=Ea, Addr=127.0.0.1')dnl
define(\`confDOMAIN_NAME', \`mx1.example.com')dnl
LOCAL_DOMAIN(\`example.com')dnl
define(\`confPID_FILE', \`$WORK/sendmail.pid')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings,needmailhelo,noexpn,novrfy,restrictqrun')dnl
define(\`confMAX_MESSAGE_SIZE', \`40960')dnl
define(\`confLOG_LEVEL', \`${LOGLEVEL:-9}')dnl
define(\`confTO_QUEUERETURN', \`${QUEUERETURN:-2m}')dnl
define(\`confTO_QUEUEWARN', \`${QUEUEWARN:-1m}')dnl
define(\`confTO_CONNECT', \`6s')dnl
define(\`confTO_ICONNECT', \`6s')dnl
define(\`confTO_INITIAL', \`6s')dnl
define(\`confTO_HELO', \`6s')dnl
define(\`confTO_MAIL', \`6s')dnl
define(\`confTO_RCPT', \`6s')dnl
define(\`confTO_DATAINIT', \`6s')dnl
define(\`confTO_DATABLOCK', \`6s')dnl
define(\`confTO_DATAFINAL', \`8s')dnl
define(\`confTO_COMMAND', \`10s')dnl
define(\`confTO_STARTTLS', \`10s')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confAUTH_MECHANISMS', \`LOGIN PLAIN')dnl
TRUST_AUTH_MECH(\`LOGIN PLAIN')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`access_db', \`hash -T<TMPF> -o /etc/mail/access')dnl
FEATURE(\`mailertable', \`hash -o /etc/mail/mailertable')dnl
FEATURE(\`authinfo', \`hash -o /etc/mail/authinfo')dnl
FEATURE(\`greet_pause', \`1000')dnl
FEATURE(\`dnsbl', \`bl.logscan.test', \`"550 5.7.1 Rejected: " \$&{client_addr} " listed at bl.logscan.test"')dnl
include(\`/etc/mail/tls/starttls.m4')dnl
MAILER_DEFINITIONS
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
    m4 /etc/mail/sendmail.mc > "$WORK/sendmail.cf"
    # one esmtp mailer per port: a copy of Sendmail's own esmtp definition with "A=TCP \$h PORT"
    "$PY" - "$WORK/sendmail.cf" /etc/mail/sendmail.cf $PORTS <<'PYEOF'
import sys
src, dst, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
lines = open(src).read().split("\n")
i = next(n for n, x in enumerate(lines) if x.startswith("Mesmtp,"))
j = i + 1
while lines[j][:1] in ("\t", " "):
    j += 1
block = "\n".join(lines[i:j])
assert block.rstrip().endswith("A=TCP $h"), block
clones = [block.replace("Mesmtp,", f"Mesmtp{p},", 1).rstrip() + f" {p}" for p in ports]
lines[j:j] = clones
open(dst, "w").write("\n".join(lines))
PYEOF
    cat > /etc/mail/mailertable <<'EOF'
gmail-like.example      esmtp2525:[127.0.0.1]
outlook-like.example    esmtp2526:[127.0.0.1]
yahoo-like.example      esmtp2527:[127.0.0.1]
example.net             esmtp2528:[127.0.0.1]
flaky.example.net       esmtp2528:[127.0.0.1]
ymail-like.example      esmtp2529:[127.0.0.1]
silent.example.org      esmtp2530:[127.0.0.1]
hangup.example.org      esmtp2531:[127.0.0.1]
selfsigned.example.org  esmtp2532:[127.0.0.1]
notls.example.org       esmtp2533:[127.0.0.1]
legacy.example.org      esmtp2533:[127.0.0.1]
authfail.example.org    esmtp2534:[127.0.0.1]
apppass.example.org     esmtp2535:[127.0.0.1]
relaydenied.example.org esmtp2536:[127.0.0.1]
refused.example.org     esmtp2599:[127.0.0.1]
smtps.example.org       esmtp465:[127.0.0.1]
retired.example.org     error:5.1.2:550 this domain no longer accepts mail
EOF
    cat > /etc/mail/access <<'EOF'
Connect:127.0.0.1               RELAY
Connect:127.0.0.3               REJECT
Connect:127.0.0.5               ERROR:"550 5.7.1 Your host is on our local block list"
GreetPause:127.0.0.1            0
GreetPause:127.0.0.2            0
GreetPause:127.0.0.3            0
GreetPause:127.0.0.4            0
GreetPause:127.0.0.5            0
GreetPause:127.0.0.6            3000
From:spammer@example.org        REJECT
TLS_Rcpt:selfsigned.example.org VERIFY
TLS_Rcpt:notls.example.org      ENCR:128
EOF
    # AuthInfo for 127.0.0.1 (the AUTH personas 2534/2535 advertise AUTH PLAIN LOGIN): Sendmail's
    # client tries both mechanisms, gets 535 and goes on to MAIL (530); LogLevel 9 logs only the 530.
    printf 'AuthInfo:127.0.0.1 "U:relayuser" "I:relayuser" "P:WrongPassw0rd" "M:PLAIN LOGIN"\n' > /etc/mail/authinfo
    chmod 600 /etc/mail/authinfo
    makemap hash /etc/mail/mailertable < /etc/mail/mailertable
    makemap hash /etc/mail/access < /etc/mail/access
    makemap hash /etc/mail/authinfo < /etc/mail/authinfo
    grep -q '^postmaster:' /etc/aliases || echo 'postmaster: root' >> /etc/aliases
    grep -q '^root:' /etc/aliases || echo 'root: alice' >> /etc/aliases
    newaliases >/dev/null 2>&1 || true
}

# fresh queues and mailboxes before each run
reset_state() {
    stop_sendmail
    rm -f /var/spool/mqueue/* /var/spool/mqueue-client/* 2>/dev/null || true
    rm -f /var/mail/alice /var/mail/bob /var/mail/carol /var/mail/root
}

start_sendmail() {
    stop_sendmail
    /usr/sbin/sendmail-mta -L sm-mta -bd -q15s
    for _ in $(seq 1 50); do [ -s "$WORK/sendmail.pid" ] && break; sleep 0.1; done
    sleep 1
}

# ----------------------------------------------------------------- helpers
N=0
# sm FROM SUBJECT RCPT... : submit through Debian's MSP (/usr/sbin/sendmail, submit.cf)
sm() {
    local from=$1 subj=$2; shift 2
    N=$((N+1))
    printf 'From: %s\nTo: %s\nSubject: %s\n\nlogscan sample message %d.\n' \
        "$from" "$(IFS=,; echo "$*")" "$subj" "$N" | /usr/sbin/sendmail -f "$from" "$@" || true
}
sm_big() {  # sm_big FROM SIZE RCPT
    local from=$1 size=$2 rcpt=$3
    { printf 'From: %s\nTo: %s\nSubject: large attachment\n\n' "$from" "$rcpt"
      head -c "$size" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } | /usr/sbin/sendmail -f "$from" "$rcpt" || true
}
queue_empty() { [ -z "$(ls /var/spool/mqueue 2>/dev/null | grep '^qf')" ]; }
drain() {  # drain EVERY MAX : wait until the MTA queue is empty (the daemon runs it every 15 s)
    local every=$1 max=$2 t=0
    while [ "$t" -lt "$max" ]; do
        sleep "$every"; t=$((t+every))
        /usr/sbin/sendmail -Ac -q >/dev/null 2>&1 || true   # the MSP's client queue
        queue_empty && { say "queue empty after ${t}s"; return 0; }
    done
    say "queue not empty after ${max}s:"; mailq 2>/dev/null | tail -5 >&2 || true
}
# repeated AUTH in one session: Sendmail counts it ("possible SMTP attack: command=AUTH, count=N")
auth_flood() {
    "$PY" - <<'PYEOF'
import base64, socket, time
s = socket.create_connection(("127.0.0.1", 587), timeout=20, source_address=("127.0.0.1", 0))
f = s.makefile("rb")
def reply():
    out = []
    while True:
        line = f.readline()
        out.append(line)
        if not line or line[3:4] != b"-":
            return out
reply()
s.sendall(b"EHLO flood.example.com\r\n"); reply()
cred = base64.b64encode(b"\0mallory@example.com\0guess").decode()
for i in range(8):
    try:
        s.sendall(f"AUTH PLAIN {cred}\r\n".encode())
        if not reply()[-1]:
            break
    except OSError:
        break
s.close()
PYEOF
}

begin_run() {  # begin_run TEMPLATE LOGFILE
    reset_state
    start_syslog "$1" "$2"
    start_dns
    start_trouble
    start_sendmail
}
end_run() {
    stop_sendmail
    sleep 1
    stop_trouble
    stop_dns
    stop_syslog
}

# ----------------------------------------------------------------- runs
run_main() {
    say "main run (mixed failures and successes)"
    QUEUERETURN=2m QUEUEWARN=1m setup_sendmail
    begin_run RSYSLOG_TraditionalFileFormat "$WORK/raw-main.log"

    send_successes

    send_provider_refusals
    for r in greylist relay nouser rbl full lookupfail policydefer toolarge virus tempfail; do
        sm bob@example.com "example.net $r" "$r@example.net"
    done
    for r in drop slowdata dropdata; do
        sm bob@example.com "flaky $r" "$r@flaky.example.net"
    done
    sm_big carol@example.com 30000 archive@example.net        # > SIZE 20480 of that server
    # --- transport level trouble
    sm alice@example.com "silent"      postmaster@silent.example.org
    sm alice@example.com "hangup"      postmaster@hangup.example.org
    sm alice@example.com "selfsigned"  postmaster@selfsigned.example.org
    sm alice@example.com "notls"       postmaster@notls.example.org
    sm alice@example.com "authfail"    relay@authfail.example.org
    sm alice@example.com "apppass"     relay@apppass.example.org
    sm alice@example.com "relaydenied" someone@relaydenied.example.org
    sm alice@example.com "refused"     postmaster@refused.example.org
    sm alice@example.com "smtps"       postmaster@smtps.example.org
    sm alice@example.com "retired"     old@retired.example.org
    # --- local delivery failure
    sm bob@example.com "typo" nosuchuser@example.com
    sm_big bob@example.com 50000 alice@example.com            # > MaxMessageSize

    # --- inbound refusals by Sendmail
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to other@outlook-like.example
    sw --server 127.0.0.1:25 --from carol@example.com --to ghost@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.3 --from someone@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.4 --from listed@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.5 --from someone@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@nxdomain.example.org --to alice@example.com
    sw --server 127.0.0.1:25 --from spammer@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --from carol@example.com --to alice@example.com \
       --attach-type application/octet-stream --attach @<(head -c 60000 /dev/urandom)
    # --- SASL failures against Sendmail's MSA (sasldb)
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password wrong-password \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --auth PLAIN --auth-user mallory@example.com --auth-password guess123 \
       --from mallory@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --local-interface 127.0.0.2 --auth LOGIN --auth-user admin --auth-password admin \
       --from admin@example.com --to x@outlook-like.example
    auth_flood
    # unauthenticated relay attempt on the MSA from a foreign address
    sw --server 127.0.0.1:587 --local-interface 127.0.0.2 --from alice@example.com --to x@gmail-like.example
    # --- misbehaving clients (pre-greeting traffic, vanishing, idling, broken TLS)
    "$PY" - <<'PYEOF'
import socket, time
s = socket.create_connection(("127.0.0.1", 25), timeout=10, source_address=("127.0.0.6", 0))
s.sendall(b"EHLO early.example.com\r\n")
time.sleep(4)
try:
    s.recv(4096)
except OSError:
    pass
s.close()
PYEOF
    "$PY" "$HERE/exim_smtp_abuse.py" unknown syntax lostdata drop nomail tlsgarbage idle 2>/dev/null || true

    # let Sendmail retry: the greylist passes, the rest defers and finally expires (queuereturn 2m)
    drain 15 260
    end_run
}

run_verbose() {
    say "verbose run (LogLevel 14: client AUTH, connections, more detail)"
    LOGLEVEL=14 QUEUERETURN=1m QUEUEWARN=4h setup_sendmail
    begin_run RSYSLOG_TraditionalFileFormat "$WORK/raw-verbose.log"
    sm alice@example.com "hi"          kim@gmail-like.example
    sm alice@example.com "authfail"    relay@authfail.example.org
    sm alice@example.com "apppass"     relay@apppass.example.org
    sm bob@example.com   "bounce"      nouser@gmail-like.example
    sm bob@example.com   "grey"        greylist@example.net
    sm alice@example.com "refused"     postmaster@refused.example.org
    sm alice@example.com "tls"         postmaster@notls.example.org
    sm alice@example.com "tss04"       someone@ymail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:587 --auth LOGIN --auth-user alice@example.com --auth-password nope \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to pat@yahoo-like.example
    "$PY" "$HERE/exim_smtp_abuse.py" drop tlsgarbage 2>/dev/null || true
    drain 15 120
    end_run
}

run_clean() {
    say "clean run (successful deliveries only)"
    QUEUERETURN=5d QUEUEWARN=4h setup_sendmail
    begin_run RSYSLOG_TraditionalFileFormat "$WORK/raw-clean.log"
    sm alice@example.com "weekly report"  jane.doe@gmail-like.example
    sm alice@example.com "re: weekly"     j.smith@outlook-like.example pat@gmail-like.example
    sm bob@example.com   "photos"         friend@yahoo-like.example
    sm carol@example.com "invoice 1042"   billing@example.net
    sm bob@example.com   "order"          orders@legacy.example.org
    sm carol@example.com "team lunch"     alice@example.com bob@example.com
    sw --server 127.0.0.1:25 --from alice@example.com --to bob@example.com
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to kim@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user bob@example.com --auth-password battery-staple \
       --from bob@example.com --to lee@outlook-like.example,friend@yahoo-like.example
    drain 5 60
    end_run
}

# ----------------------------------------------------------------- outputs
publish() {
    [ -s "$WORK/raw-main.log" ] && cp "$WORK/raw-main.log" "$OUT/mail.log"
    [ -s "$WORK/raw-clean.log" ] && cp "$WORK/raw-clean.log" "$OUT/clean/mail.log"
    if [ -s "$WORK/raw-verbose.log" ]; then mkdir -p "$OUT/loglevel14"; cp "$WORK/raw-verbose.log" "$OUT/loglevel14/mail.log"; fi
    if [ -s "$OUT/clean/mail.log" ] && grep -Eiq 'stat=(Deferred|User unknown|Service unavailable)|reject=|DSN:|SYSERR|AUTH failure' "$OUT/clean/mail.log"; then
        say "WARNING: clean log contains failure lines"
    fi
    /usr/sbin/sendmail -d0.1 -bt < /dev/null 2>/dev/null | head -1 > "$WORK/sendmail-version.txt" || true
    say "done: $(cat "$WORK/sendmail-version.txt")"
}

setup_users_and_certs
setup_sasl
cleanup
case "$RUNS" in
    main) run_main ;;
    clean) run_clean ;;
    verbose) run_verbose ;;
    all) run_main; run_verbose; run_clean ;;
    publish) ;;
    *) echo "usage: $0 [main|verbose|clean|all|publish]" >&2; exit 2 ;;
esac
publish
