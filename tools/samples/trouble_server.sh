# Sourced by the client sample scripts: start tools/samples/trouble_smtpd.py on 127.0.0.1 with a
# throw-away self-signed certificate in $WORK, and stop it (and sandbox.sh's stub DNS server) when
# the calling script exits.
#   . "$HERE/trouble_server.sh"; start_trouble_server "$WORK"
start_trouble_server() {
    local work="$1"
    if [ ! -f "$work/trouble-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mx.trouble.example" \
            -keyout "$work/trouble-key.pem" -out "$work/trouble-cert.pem" 2>/dev/null
    fi
    python3 "$HERE/trouble_smtpd.py" --cert "$work/trouble-cert.pem" --key "$work/trouble-key.pem" \
        --greylist-delay 20 > "$work/trouble.out" 2>&1 &
    TROUBLE_PID=$!
    trap 'kill "$TROUBLE_PID" ${DNS_PID:-} 2>/dev/null || true' EXIT  # DNS_PID: sandbox.sh
    for _ in $(seq 1 50); do grep -q ready "$work/trouble.out" 2>/dev/null && return 0; sleep 0.1; done
    echo "trouble_smtpd.py did not start; see $work/trouble.out" >&2
    return 1
}
