# Sourced by make_postfix_samples.sh and make_exim_samples.sh (they need $WORK, $HERE, $PY, $LOGHOST):
# the rsyslogd and trouble_smtpd.py life cycle both MTA runs share. The client scripts use the
# lighter trouble_server.sh instead (no syslog, no transcript).

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
