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
if [ ! -f "$WORK/trouble-cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mx.trouble.example" \
        -keyout "$WORK/trouble-key.pem" -out "$WORK/trouble-cert.pem" 2>/dev/null
fi
python3 "$HERE/trouble_smtpd.py" --cert "$WORK/trouble-cert.pem" --key "$WORK/trouble-key.pem" \
    --greylist-delay 20 > "$WORK/trouble.out" 2>&1 &
TROUBLE=$!
trap 'kill $TROUBLE 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q ready "$WORK/trouble.out" 2>/dev/null && break; sleep 0.1; done
cp "$HERE/nodemailer_scenarios.js" "$WORK/"
mkdir -p "$REPO/sample_logs/nodemailer"
node "$WORK/nodemailer_scenarios.js" > "$REPO/sample_logs/nodemailer/app.log" 2>&1
echo "wrote $REPO/sample_logs/nodemailer/app.log"
