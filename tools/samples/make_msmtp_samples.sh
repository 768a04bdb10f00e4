#!/usr/bin/env bash
# Real msmtp log lines: msmtp (Debian's package) sends one message per scenario to the scripted
# loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only) with the accounts of
# msmtprc.sample, and the log it writes becomes sample_logs/msmtp/msmtp.log.
#   bash tools/samples/make_msmtp_samples.sh        (needs root for apt-get the first time)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/msw}"  # the accounts in msmtprc.sample log to /tmp/msw (rewritten to $WORK)
mkdir -p "$WORK"
command -v msmtp >/dev/null || apt-get install -y msmtp
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
sed "s#/tmp/msw#$WORK#" "$HERE/msmtprc.sample" > "$WORK/msmtprc"
chmod 600 "$WORK/msmtprc"
: > "$WORK/msmtp.log"
printf 'Subject: test\n\nhello\n' > "$WORK/msg.txt"
while read -r account rcpt; do
    msmtp -C "$WORK/msmtprc" -a "$account" "$rcpt" < "$WORK/msg.txt" || echo "msmtp exit $? ($account $rcpt)"
done <<'LIST'
gmail sam@gmail-like.example
gmail nouser@gmail-like.example
authfail relay@authfail.example.org
refused x@refused.example.org
implicit_on_starttls y@outlook-like.example
noauth relay@authfail.example.org
verify p@selfsigned.example.org
silent p@silent.example.org
gmail toolarge@gmail-like.example
gmail ratelimit@gmail-like.example
authplain relay@authfail.example.org
timefmt sam@gmail-like.example
timefmt nouser@gmail-like.example
apppass relay@apppass.example.org
relaydenied friend@elsewhere.example
sendas customer@elsewhere.example
starttls_on_implicit sam@gmail-like.example
plain_on_implicit sam@gmail-like.example
implicit_ok sam@gmail-like.example
wronghost sam@gmail-like.example
LIST
mkdir -p "$REPO/sample_logs/msmtp"
cp "$WORK/msmtp.log" "$REPO/sample_logs/msmtp/msmtp.log"
echo "wrote $REPO/sample_logs/msmtp/msmtp.log"
