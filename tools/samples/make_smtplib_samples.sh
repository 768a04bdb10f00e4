#!/usr/bin/env bash
# Real Python smtplib failures in an application log: smtplib_scenarios.py (standard library only)
# sends to the scripted loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only) and logs
# with the logging module; the output becomes sample_logs/smtplib/app.log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/pyw}"
mkdir -p "$WORK"
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/smtplib"
python3 "$HERE/smtplib_scenarios.py" > "$REPO/sample_logs/smtplib/app.log" 2>&1
echo "wrote $REPO/sample_logs/smtplib/app.log"
