#!/usr/bin/env bash
# Real Go net/smtp failures in a Go service log: go_smtp_scenarios/main.go (standard library only:
# net/smtp, crypto/tls, log, log/slog) sends to the scripted loopback server
# tools/samples/trouble_smtpd.py (127.0.0.1 only); its output becomes sample_logs/gosmtp/service.log.
# Needs Go (1.21+ for log/slog); the binary is built in $WORK, outside the repository.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/gow}"
mkdir -p "$WORK"
if [ -z "${LOGSCAN_SANDBOX:-}" ]; then  # build before the sandbox (no network there)
    (cd "$HERE/go_smtp_scenarios" && GOFLAGS=-mod=mod GO111MODULE=off go build -o "$WORK/go_smtp_scenarios" main.go)
fi
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/gosmtp"
"$WORK/go_smtp_scenarios" > "$REPO/sample_logs/gosmtp/service.log" 2>&1
echo "wrote $REPO/sample_logs/gosmtp/service.log"
