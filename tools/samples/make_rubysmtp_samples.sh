#!/usr/bin/env bash
# Real Ruby Net::SMTP failures in a Rails-style log: rubysmtp_scenarios.rb (Debian's ruby 3.1 with
# ruby-actionmailer/ruby-activejob 6.1, the mail gem 2.7 and net-smtp 0.3.1) sends to the scripted
# loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only); the output becomes
# sample_logs/rubysmtp/production.log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/rbw}"
mkdir -p "$WORK"
if [ -z "${LOGSCAN_SANDBOX:-}" ] && ! ruby -e 'require "action_mailer"; require "active_job"' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ruby ruby-actionmailer ruby-activejob >/dev/null
fi
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/rubysmtp"
ruby "$HERE/rubysmtp_scenarios.rb" > "$REPO/sample_logs/rubysmtp/production.log" 2>&1
echo "wrote $REPO/sample_logs/rubysmtp/production.log"
