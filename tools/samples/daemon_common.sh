# Sourced by make_postfix_samples.sh, make_exim_samples.sh and make_sendmail_samples.sh (they need
# $WORK, $HERE, $PY, $LOGHOST): the rsyslogd and trouble_smtpd.py life cycle the MTA runs share,
# the swaks submission, the mail both main runs send, the package check, and the split of one
# run's log into a rotated set. The client scripts use the lighter trouble_server.sh instead (no
# syslog, no transcript).

stop_pidfile() {  # stop_pidfile FILE : TERM the process in FILE, wait up to 6 s, remove FILE
    local f=$1
    if [ -s "$f" ]; then
        local pid; pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
        rm -f "$f"
    fi
}
stop_trouble() { stop_pidfile "$WORK/trouble.pid"; }
# Only remove /dev/log when our rsyslogd made it.
stop_syslog()  { if [ -s "$WORK/rsyslogd.pid" ]; then stop_pidfile "$WORK/rsyslogd.pid"; rm -f /dev/log; fi; }

start_syslog() {  # start_syslog TEMPLATE FILE : rsyslogd writing mail.* to FILE with an rsyslog template
    local template=$1 file=$2
    stop_syslog
    mkdir -p "$WORK/rsyslog"
    : > "$file"
    cat > "$WORK/rsyslog.conf" <<CONF
global(localHostname="$LOGHOST" workDirectory="$WORK/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
mail.*  action(type="omfile" file="$file" template="$template")
CONF
    rsyslogd -f "$WORK/rsyslog.conf" -i "$WORK/rsyslogd.pid"
    for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
}

start_trouble() {  # the scripted provider on its 127.0.0.1 ports (trouble_smtpd.py), transcript in $WORK
    stop_trouble
    : > "$WORK/trouble-transcript.log"
    "$PY" "$HERE/trouble_smtpd.py" --cert "$WORK/trouble-cert.pem" --key "$WORK/trouble-key.pem" \
        --greylist-delay "${GREYLIST_DELAY:-20}" --transcript "$WORK/trouble-transcript.log" \
        > "$WORK/trouble.out" 2>&1 &
    echo $! > "$WORK/trouble.pid"
    for _ in $(seq 1 50); do grep -q ready "$WORK/trouble.out" 2>/dev/null && break; sleep 0.1; done
}

say() { echo "== $(date +%T) $*" >&2; }

missing_packages() {  # missing_packages PKG... : the ones not installed ("removed, config kept" is missing)
    local p
    for p in "$@"; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || printf ' %s' "$p"
    done
}

sw() {  # swaks, quiet, with a unique Message-Id; a refusal is what the run wants, not an error
    N=$((N+1))
    swaks --silent 2 --helo client.example.com \
        --header "Message-Id: <$(date +%Y%m%d%H%M%S).$N.swaks@client.example.com>" "$@" >/dev/null 2>&1 || true
}

rotate_in_thirds() {  # rotate_in_thirds SRC OUTDIR NAME STAMP_CHARS
    # One run's log as a rotated set: oldest third -> NAME.2.gz, middle -> NAME.1, newest -> NAME.
    # Each cut moves on to the next change of second (the first STAMP_CHARS characters), like a
    # rotation between two writes.
    "$PY" - "$1" "$2" "$3" "$4" <<'EOF'
import sys
src, out, name, width = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = open(src, "rb").read().splitlines(keepends=True)
n = len(lines)
def cut(i):
    while 0 < i < n and lines[i][:width] == lines[i - 1][:width]:
        i += 1
    return i
a = cut(n // 3); b = cut(2 * n // 3)
with open(f"{out}/{name}.2", "wb") as f: f.writelines(lines[:a])
with open(f"{out}/{name}.1", "wb") as f: f.writelines(lines[a:b])
with open(f"{out}/{name}", "wb") as f: f.writelines(lines[b:])
print(f"main run: {n} lines -> {a} / {b - a} / {n - b}", file=sys.stderr)
EOF
    rm -f "$2/$3.2.gz"
    gzip -n -9 "$2/$3.2"
}

# The main runs of the MTA scripts (Postfix, Sendmail) send the same mail: through the caller's
# `sm FROM SUBJECT RCPT...` (its own sendmail command) and swaks, to the personas of trouble_smtpd.py.
send_successes() {
    sm alice@example.com "lunch"            jane.doe@gmail-like.example
    sm bob@example.com   "report Q3"        j.smith@outlook-like.example
    sm carol@example.com "hello"            friend@yahoo-like.example
    sm alice@example.com "invoice"          billing@example.net
    sm alice@example.com "minutes"          bob@example.com
    sm bob@example.com   "legacy partner"   orders@legacy.example.org
    sw --server 127.0.0.1:25 --from alice@example.com --to pat@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to partner@outlook-like.example
    # one message, several recipients, mixed fates
    sm alice@example.com "team update" sam@gmail-like.example nouser@gmail-like.example overquota@gmail-like.example
}

send_provider_refusals() {  # the Gmail-, Microsoft- and Yahoo-like personas' refusals
    # --- Gmail-like refusals
    for r in nouser disabled toofast spamrate ratelimit sysproblem dmarc spam toolarge suspicious; do
        sm bob@example.com "gmail $r" "$r@gmail-like.example"
    done
    # --- Microsoft-like refusals
    for r in spamhaus s3150 nouser dbeb busy mailboxfull dmarc toolarge; do
        sm carol@example.com "outlook $r" "$r@outlook-like.example"
    done
    # --- Yahoo-like refusals
    for r in nouser tss09 ts01 tss04 policy dmarc; do
        sm alice@example.com "yahoo $r" "$r@yahoo-like.example"
    done
    sm alice@example.com "ymail" someone@ymail-like.example
}
