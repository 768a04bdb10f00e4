# Sourced by the client sample scripts, after their installs: runs the rest of the calling script in
# a new network namespace that has only a loopback interface (nothing can leave the machine) and a
# private mount namespace where /etc/resolv.conf is bind-mounted to "nameserver 127.0.0.1", served
# by nxdomain_dns.py. A client given a wrong host name then writes its real "host not found" error.
# The host's own /etc/resolv.conf and network are untouched. Needs root (unshare, mount).
#   . "$HERE/sandbox.sh"; enter_sandbox "$@"
enter_sandbox() {
    if [ -z "${LOGSCAN_SANDBOX:-}" ]; then
        exec env LOGSCAN_SANDBOX=1 WORK="$WORK" unshare --net --mount --propagation private bash "$HERE/$(basename "$0")" "$@"
    fi
    ip link set lo up
    printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' > "$WORK/resolv.conf"
    mount --bind "$WORK/resolv.conf" /etc/resolv.conf
    python3 "$HERE/nxdomain_dns.py" > "$WORK/dns.out" 2>&1 &
    DNS_PID=$!  # stopped by trouble_server.sh's EXIT trap
    for _ in $(seq 1 50); do grep -q ready "$WORK/dns.out" 2>/dev/null && return 0; sleep 0.1; done
    echo "nxdomain_dns.py did not start; see $WORK/dns.out" >&2
    return 1
}
