#!/bin/bash
# make_exim_samples.sh - produce REAL Exim log samples for logscan.
#
# Installs Exim (exim4-daemon-light; apt removes postfix, which is fine) plus
# swaks, rsyslog and openssl, writes /etc/exim4/exim4.conf from
# tools/samples/exim_sample.conf.in, starts tools/samples/trouble_smtpd.py (fake
# providers on 127.0.0.1:2525-2534) and the Exim daemon (127.0.0.1:25 and :587,
# queue runner every 30 s), submits mail with exim's sendmail interface, swaks
# and tools/samples/exim_smtp_abuse.py, waits until the retry rules have turned
# every temporary failure into a bounce, and publishes the logs into
# sample_logs/exim/.
#
# Runs as root on a throw-away Debian 12 machine (no systemd needed).
# NETWORK: everything stays on 127.0.0.0/8. The Exim config has no dnslookup
# router: every test domain has an explicit manualroute to 127.0.0.1::<port>,
# every other remote domain is failed locally; no host/ident/HELO lookups.
#
# Usage:  sudo tools/samples/make_exim_samples.sh [main|syslog|clean|all|publish]
# Re-runnable; stops every daemon it started when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/sample_logs/exim
WORK=/var/tmp/logscan-samples/exim
LOGHOST=mx1
RUNS=${1:-all}
PY=${PYTHON:-python3}
CONF=/etc/exim4/exim4.conf

# rich log_selector used for the main and clean runs (syslog run: Exim's default)
SELECTOR='+smtp_protocol_error +smtp_syntax_error +tls_cipher +tls_peerdn +tls_certificate_verified +tls_sni +sender_on_delivery +received_recipients +received_sender +delivery_size +smtp_confirmation +subject +queue_time +deliver_time +outgoing_port +outgoing_interface +incoming_port +incoming_interface +smtp_no_mail +connection_reject +lost_incoming_connection +smtp_connection +smtp_incomplete_transaction +all_parents +retry_defer +queue_run +return_path_on_delivery +unknown_in_list +rejected_header +address_rewrite +pipelining +msg_id +8bitmime +smtp_mailauth +host_lookup_failed'

mkdir -p "$WORK" "$OUT" "$OUT/syslog" "$OUT/clean"

say() { echo "== $(date +%T) $*" >&2; }

# ----------------------------------------------------------------- install
install_packages() {
    local need=""
    for p in exim4-daemon-light swaks rsyslog openssl; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || need="$need $p"
    done
    if [ -n "$need" ]; then
        say "installing:$need"
        export DEBIAN_FRONTEND=noninteractive
        # keep the package scripts from starting Debian's own exim daemon
        local had_policy=0
        [ -e /usr/sbin/policy-rc.d ] && had_policy=1
        [ $had_policy = 1 ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        apt-get update -q
        apt-get install -y -q $need
        [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
    fi
}

# ----------------------------------------------------------------- daemons
stop_pidfile() {
    local f=$1
    if [ -s "$f" ]; then
        local pid; pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
        rm -f "$f"
    fi
}
stop_exim()    { stop_pidfile "$WORK/exim.pid"; }
stop_trouble() { stop_pidfile "$WORK/trouble.pid"; }
stop_syslog()  { if [ -s "$WORK/rsyslogd.pid" ]; then stop_pidfile "$WORK/rsyslogd.pid"; rm -f /dev/log; fi; }
cleanup() { stop_exim; stop_trouble; stop_syslog; }
trap cleanup EXIT

start_syslog() {  # start_syslog FILE : rsyslogd writing mail.* to FILE, traditional format
    local file=$1
    stop_syslog
    mkdir -p "$WORK/rsyslog"
    : > "$file"
    cat > "$WORK/rsyslog.conf" <<EOF
global(localHostname="$LOGHOST" workDirectory="$WORK/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
mail.*  action(type="omfile" file="$file" template="RSYSLOG_TraditionalFileFormat")
EOF
    rsyslogd -f "$WORK/rsyslog.conf" -i "$WORK/rsyslogd.pid"
    for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
}

start_trouble() {
    stop_trouble
    : > "$WORK/trouble-transcript.log"
    "$PY" "$HERE/trouble_smtpd.py" --cert "$WORK/trouble-cert.pem" --key "$WORK/trouble-key.pem" \
        --greylist-delay "${GREYLIST_DELAY:-20}" --transcript "$WORK/trouble-transcript.log" \
        > "$WORK/trouble.out" 2>&1 &
    echo $! > "$WORK/trouble.pid"
    for _ in $(seq 1 50); do grep -q ready "$WORK/trouble.out" 2>/dev/null && break; sleep 0.1; done
}

start_exim() {
    stop_exim
    /usr/sbin/exim4 -bd -q30s -oP "$WORK/exim.pid"
    for _ in $(seq 1 50); do [ -s "$WORK/exim.pid" ] && break; sleep 0.1; done
    sleep 1
}

# ----------------------------------------------------------------- setup
setup_users_and_certs() {
    for u in alice bob carol dave; do
        id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$u"
    done
    if [ ! -s "$WORK/trouble-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout "$WORK/trouble-key.pem" -out "$WORK/trouble-cert.pem" \
            -subj "/CN=mx.selfsigned.example.org" 2>/dev/null
    fi
    if [ ! -s "$WORK/exim-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout "$WORK/exim-key.pem" -out "$WORK/exim-cert.pem" \
            -subj "/CN=mx1.example.com" 2>/dev/null
    fi
    chown root:Debian-exim "$WORK/exim-key.pem" "$WORK/exim-cert.pem"
    chmod 640 "$WORK/exim-key.pem"
    printf 'alice@example.com: correct-horse\nbob@example.com: battery-staple\n' > "$WORK/exim-passwd"
    chown root:Debian-exim "$WORK/exim-passwd"; chmod 640 "$WORK/exim-passwd"
    grep -q '^postmaster:' /etc/aliases || echo 'postmaster: root' >> /etc/aliases
    grep -q '^root:' /etc/aliases || echo 'root: alice' >> /etc/aliases
    # the vacation list of the deliberate paniclog scenario must NOT exist
    rm -f /etc/exim4/logscan-vacation-senders
}

# setup_exim MODE LOGPATH SELECTOR : write /etc/exim4/exim4.conf
setup_exim() {
    local mode=$1 logpath=$2 selector=$3
    [ -e "$CONF" ] && [ ! -e "$CONF.logscan-orig" ] && ! grep -q 'make_exim_samples' "$CONF" \
        && cp "$CONF" "$CONF.logscan-orig"
    local keep=0; [ "$mode" = main ] && keep=1
    { echo "# generated by tools/samples/make_exim_samples.sh ($mode run) - do not edit"
      awk -v keep=$keep '/^#@IF_MAIN/{skip=!keep; next} /^#@END_MAIN/{skip=0; next} !skip' "$HERE/exim_sample.conf.in" \
        | sed -e "s|@WORK@|$WORK|g" -e "s|@LOGPATH@|$logpath|" -e "s|@SELECTOR@|$selector|"
    } > "$CONF"
    chmod 644 "$CONF"
    /usr/sbin/exim4 -bV >/dev/null
}

# fresh queue, hints databases, mailboxes and log folder before each run
reset_state() {  # reset_state LOGDIR
    stop_exim
    rm -rf /var/spool/exim4/input/* /var/spool/exim4/msglog/* /var/spool/exim4/db/*
    rm -f /var/mail/alice /var/mail/bob /var/mail/carol /var/mail/dave /var/mail/root
    if [ -n "${1:-}" ]; then
        rm -rf "$1"; mkdir -p "$1"; chown Debian-exim:adm "$1"; chmod 2750 "$1"
    fi
}

# ----------------------------------------------------------------- helpers
N=0
# sm FROM SUBJECT RCPT... : submit through exim's sendmail interface, delivery at once (-odi).
# Local users submit as themselves (U=alice), anything else as root with -f.
sm() {
    local from=$1 subj=$2; shift 2
    N=$((N+1))
    local user=${from%@example.com}
    local msg; msg=$(printf 'From: %s\nTo: %s\nSubject: %s\n\nlogscan sample message %d.\n' \
        "$from" "$(IFS=,; echo "$*")" "$subj" "$N")
    case "$from" in
        alice@example.com|bob@example.com|carol@example.com|dave@example.com)
            printf '%s\n' "$msg" | runuser -u "$user" -- /usr/sbin/sendmail -odi "$@" || true ;;
        *)  printf '%s\n' "$msg" | /usr/sbin/sendmail -odi -f "$from" "$@" || true ;;
    esac
}
# sm_big FROM SIZE SUBJECT RCPT : message with SIZE bytes of body, submitted by root
sm_big() {
    local from=$1 size=$2 subj=$3 rcpt=$4
    { printf 'From: %s\nTo: %s\nSubject: %s\n\n' "$from" "$rcpt" "$subj"
      head -c "$size" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } \
        | /usr/sbin/sendmail -odi -f "$from" "$rcpt" || true
}
# sw [swaks args...] : SMTP to the local Exim daemon
sw() {
    N=$((N+1))
    swaks --silent 2 --helo client.example.com \
        --header "Message-Id: <$(date +%Y%m%d%H%M%S).$N.swaks@client.example.com>" "$@" >/dev/null 2>&1 || true
}
abuse() { "$PY" "$HERE/exim_smtp_abuse.py" "$@" 2>>"$WORK/abuse.err" || true; }
qcount() { /usr/sbin/exim4 -bpc 2>/dev/null || echo 0; }
# wait until the queue is empty (queue runner every 30 s), at most $1 seconds
drain() {
    local max=$1 t=0
    while [ "$t" -lt "$max" ]; do
        [ "$(qcount)" -eq 0 ] && { say "queue empty after ${t}s"; return 0; }
        sleep 10; t=$((t+10))
    done
    say "queue not empty after ${max}s:"; /usr/sbin/exim4 -bp | head -20 >&2 || true
}

begin_run() {  # begin_run MODE LOGPATH SELECTOR LOGDIR
    reset_state "$4"
    setup_exim "$1" "$2" "$3"
    start_trouble
    start_exim
}
end_run() {
    stop_exim
    sleep 1
    stop_trouble
}

# ----------------------------------------------------------------- runs
run_main() {
    say "main run (mixed failures and successes)"
    local L=$WORK/log-main
    begin_run main "$L/%slog" "$SELECTOR" "$L"

    # --- successes
    sm alice@example.com "lunch"            jane.doe@gmail-like.example
    sm bob@example.com   "report Q3"        j.smith@outlook-like.example
    sm carol@example.com "hello"            friend@yahoo-like.example
    sm alice@example.com "invoice"          billing@example.net
    sm alice@example.com "minutes"          bob@example.com
    sm bob@example.com   "legacy partner"   orders@legacy.example.org
    sm bob@example.com   "to postmaster"    postmaster@example.com
    sw --server 127.0.0.1:25 --from alice@example.com --to pat@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to partner@outlook-like.example
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user bob@example.com --auth-password battery-staple \
       --from bob@example.com --to kim@yahoo-like.example,carol@example.com
    # one message, several recipients, mixed fates (one SMTP transaction)
    sm alice@example.com "team update" sam@gmail-like.example nouser@gmail-like.example overquota@gmail-like.example

    # --- Gmail-like refusals
    for r in nouser disabled toofast ratelimit dmarc spam toolarge; do
        sm bob@example.com "gmail $r" "$r@gmail-like.example"
    done
    # --- Microsoft-like refusals
    for r in spamhaus s3150 nouser busy mailboxfull toolarge; do
        sm carol@example.com "outlook $r" "$r@outlook-like.example"
    done
    # --- Yahoo-like refusals
    for r in nouser tss09 policy; do
        sm alice@example.com "yahoo $r" "$r@yahoo-like.example"
    done
    sm alice@example.com "ymail" someone@ymail-like.example            # 421 TSS04 greeting
    # --- self-hosted MX refusals
    for r in greylist relay nouser rbl full lookupfail virus; do
        sm bob@example.com "example.net $r" "$r@example.net"
    done
    for r in drop slowdata dropdata; do
        sm bob@example.com "flaky $r" "$r@flaky.example.net"
    done
    sm_big carol@example.com 30000 "archive" archive@example.net          # > SIZE 20480 of that server
    # --- transport level trouble
    sm alice@example.com "silent"      postmaster@silent.example.org
    sm alice@example.com "hangup"      postmaster@hangup.example.org
    sm alice@example.com "selfsigned"  postmaster@selfsigned.example.org
    sm alice@example.com "notls"       postmaster@notls.example.org
    sm alice@example.com "authfail"    relay@authfail.example.org
    sm alice@example.com "refused"     postmaster@refused.example.org
    sm bob@example.com   "refused 2"   user2@refused.example.org   # host retry record -> retry time not reached
    sm bob@example.com   "silent 2"    user2@silent.example.org
    sm alice@example.com "retired"     old@retired.example.org
    sm alice@example.com "maintenance" ops@maintenance.example.org
    sm bob@example.com   "maintenance 2" ops2@maintenance.example.org  # frozen by hand, later timeout_frozen_after
    sm alice@example.com "elsewhere"   someone@other.example
    # --- local delivery failures
    sm bob@example.com "typo" nosuchuser@example.com
    sm_big bob@example.com 18000 "big one 1" dave@example.com
    sm_big bob@example.com 18000 "big one 2" dave@example.com          # over dave's 30K quota -> defer, later bounce
    sm_big bob@example.com 50000 "too big"   alice@example.com         # > message_size_limit (local submission)
    sm carol@example.com "note to self" carol@example.com              # paniclog: vacation router's list is missing
    # bounce that cannot be delivered -> frozen, later discarded by ignore_bounce_errors_after
    sm nobody-here@example.com "from a ghost" nouser@outlook-like.example
    sm someone@other.example   "from outside" nouser@yahoo-like.example

    # --- Exim as a server: rejections
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to other@outlook-like.example
    sw --server 127.0.0.1:25 --from carol@example.com --to ghost@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from news@example.org --to ghost@example.com,alice@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.3 --from spammer@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --helo 'bad_helo' --from carol@example.com --to alice@example.com
    sw --server 127.0.0.1:25 --from 'carol' --to alice@example.com
    sw --server 127.0.0.1:25 --from carol@example.com --to 'alice%bob@example.com'
    sw --server 127.0.0.1:25 --from carol@example.com --to alice@example.com \
       --attach-type application/octet-stream --attach @<(head -c 60000 /dev/urandom)
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from winner@example.org --to bob@example.com \
       --header "Subject: You won the lottery"
    # --- SMTP AUTH failures against Exim's server authenticators
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password wrong-password \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user mallory@example.com --auth-password guess123 \
       --from mallory@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --auth LOGIN --auth-user admin@example.com --auth-password admin \
       --from admin@example.com --to x@outlook-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --auth PLAIN --auth-user bob@example.com --auth-password 123456 \
       --from bob@example.com --to x@outlook-like.example
    # AUTH without TLS on the submission port, and MAIL without AUTH there
    sw --server 127.0.0.1:587 --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --from alice@example.com --to x@gmail-like.example
    # --- protocol errors, lost connections, TLS trouble, idle timeout
    abuse early unknown syntax nopipe lostdata drop nomail tlsgarbage
    abuse idle &
    local idle_pid=$!

    # --- Exim admin actions on a queued message
    sleep 5
    local id; id=$(/usr/sbin/exim4 -bp | awk '/ops@maintenance.example.org/{print prev} {prev=$3}' | head -1)
    if [ -n "$id" ]; then
        /usr/sbin/exim4 -Mf "$id" >/dev/null 2>&1 || true
        sleep 1; /usr/sbin/exim4 -Mt "$id" >/dev/null 2>&1 || true
        sleep 1; /usr/sbin/exim4 -Mrm "$id" >/dev/null 2>&1 || true
    fi
    id=$(/usr/sbin/exim4 -bp | awk '/ops2@maintenance.example.org/{print prev} {prev=$3}' | head -1)
    [ -n "$id" ] && { /usr/sbin/exim4 -Mf "$id" >/dev/null 2>&1 || true; }
    wait $idle_pid || true

    # let the queue runner retry: greylist passes, quota/4xx retry, hosts get a retry record
    say "waiting for the retry cutoff (F,2m)"
    sleep 170
    # new mail to hosts that have been failing past the cutoff
    sm alice@example.com "silent again"  again@silent.example.org
    sm bob@example.com   "refused again" again@refused.example.org
    sm carol@example.com "busy again"    busy@outlook-like.example
    # the queue drains: retry timeouts -> bounces, frozen bounces discarded
    drain 420
    end_run
}

run_syslog() {
    say "syslog run (smaller, mixed, log_file_path = syslog)"
    start_syslog "$WORK/raw-syslog.log"
    begin_run syslog syslog "" ""
    sm alice@example.com "hi"       kim@gmail-like.example
    sm bob@example.com   "status"   lee@outlook-like.example
    sm alice@example.com "local"    carol@example.com
    sm alice@example.com "bounce"   nouser@gmail-like.example
    sm bob@example.com   "blocked"  spamhaus@outlook-like.example
    sm carol@example.com "grey"     greylist@example.net
    sm carol@example.com "quota"    overquota@gmail-like.example
    sm alice@example.com "refused"  postmaster@refused.example.org
    sm alice@example.com "tls"      postmaster@notls.example.org
    sm alice@example.com "tss04"    someone@ymail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:25 --from carol@example.com --to ghost@example.com
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password nope \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to pat@yahoo-like.example
    abuse early
    drain 300
    end_run
    sleep 1
    stop_syslog
}

run_clean() {
    say "clean run (successful deliveries only)"
    local L=$WORK/log-clean
    begin_run clean "$L/%slog" "$SELECTOR" "$L"
    sm alice@example.com "weekly report"  jane.doe@gmail-like.example
    sm alice@example.com "re: weekly"     j.smith@outlook-like.example pat@gmail-like.example
    sm bob@example.com   "photos"         friend@yahoo-like.example
    sm carol@example.com "invoice 1042"   billing@example.net
    sm bob@example.com   "order"          orders@legacy.example.org
    sm carol@example.com "team lunch"     alice@example.com bob@example.com
    sw --server 127.0.0.1:25 --from alice@example.com --to bob@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from news@example.org --to carol@example.com
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to kim@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user bob@example.com --auth-password battery-staple \
       --from bob@example.com --to lee@outlook-like.example,friend@yahoo-like.example
    sleep 35   # let one queue run start and end
    drain 60
    end_run
}

# ----------------------------------------------------------------- outputs
# neutral hostname: the config sets primary_hostname = mx1.example.com and
# rsyslog writes $LOGHOST; this sed is only a safety net that turns the build
# machine's hostname into mx1 where it would stand as a host name.
neutralize() {
    local h; h=$(hostname)
    h=$(printf '%s' "$h" | sed 's/[.[\*^$/]/\\&/g')
    sed -E -e "s/^([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) $h /\1 $LOGHOST /" \
           -e "s/([(=@\[ ])$h([]) .:>,])/\1$LOGHOST\2/g"
}

publish() {
    local L=$WORK/log-main
    if [ -s "$L/mainlog" ]; then
        neutralize < "$L/mainlog" > "$WORK/mainlog.main"
        "$PY" - "$WORK/mainlog.main" "$OUT" <<'EOF'
import gzip, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().splitlines(keepends=True)
n = len(lines)
def cut(i):  # move the cut to the next change of second, like a rotation between writes
    while 0 < i < n and lines[i][:19] == lines[i - 1][:19]:
        i += 1
    return i
a = cut(n // 3); b = cut(2 * n // 3)
with open(out + "/mainlog.2", "wb") as f: f.writelines(lines[:a])
with open(out + "/mainlog.1", "wb") as f: f.writelines(lines[a:b])
with open(out + "/mainlog", "wb") as f: f.writelines(lines[b:])
print(f"main run: {n} lines -> {a} / {b - a} / {n - b}", file=sys.stderr)
EOF
        rm -f "$OUT/mainlog.2.gz"
        gzip -n -9 "$OUT/mainlog.2"
        for f in rejectlog paniclog; do
            if [ -s "$L/$f" ]; then neutralize < "$L/$f" > "$OUT/$f"; else rm -f "$OUT/$f"; fi
        done
    fi
    [ -s "$WORK/raw-syslog.log" ] && neutralize < "$WORK/raw-syslog.log" > "$OUT/syslog/mail.log"
    [ -s "$WORK/log-clean/mainlog" ] && neutralize < "$WORK/log-clean/mainlog" > "$OUT/clean/mainlog"
    if [ -s "$OUT/clean/mainlog" ] && grep -Eq ' (==|\*\*) |rejected|defer|error|frozen|timeout|panic|refused|failed' "$OUT/clean/mainlog"; then
        say "WARNING: clean log contains failure lines:"
        grep -E ' (==|\*\*) |rejected|defer|error|frozen|timeout|panic|refused|failed' "$OUT/clean/mainlog" >&2
    fi
    /usr/sbin/exim4 -bV | head -1 > "$WORK/exim-version.txt"
    say "done: $(cat "$WORK/exim-version.txt")"
}

install_packages
setup_users_and_certs
cleanup
case "$RUNS" in
    main) run_main ;;
    syslog) run_syslog ;;
    clean) run_clean ;;
    all) run_main; run_syslog; run_clean ;;
    publish) ;;
    *) echo "usage: $0 [main|syslog|clean|all|publish]" >&2; exit 2 ;;
esac
publish
