#!/usr/bin/env bash
# Real Nodemailer errors in a Node.js application log: nodemailer_scenarios.js (nodemailer from
# npm) sends to the scripted loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only);
# its output becomes sample_logs/nodemailer/app.log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/nm}"
mkdir -p "$WORK"
cd "$WORK"
[ -f package.json ] || npm init -y >/dev/null
[ -d node_modules/nodemailer ] || npm install --no-audit --no-fund nodemailer@6 >/dev/null
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
cp "$HERE/nodemailer_scenarios.js" "$WORK/"
mkdir -p "$REPO/sample_logs/nodemailer"
node "$WORK/nodemailer_scenarios.js" > "$REPO/sample_logs/nodemailer/app.log" 2>&1
echo "wrote $REPO/sample_logs/nodemailer/app.log"
