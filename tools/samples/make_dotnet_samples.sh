#!/usr/bin/env bash
# Real .NET System.Net.Mail failures in an application log: DotnetMailScenarios.cs, compiled with
# Mono's mcs and run on Mono 6.8 (Debian 12's mono-mcs, mono-runtime), sends to the scripted
# loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only); the output becomes
# sample_logs/dotnet/app.log. The program is built in $WORK, outside the repository.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/dnw}"
mkdir -p "$WORK"
if [ -z "${LOGSCAN_SANDBOX:-}" ]; then
    command -v mcs >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mono-mcs mono-runtime libmono-system4.0-cil >/dev/null
    mcs -nowarn:618 -out:"$WORK/DotnetMailScenarios.exe" -r:System.dll "$HERE/DotnetMailScenarios.cs"
fi
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/dotnet"
mono "$WORK/DotnetMailScenarios.exe" > "$REPO/sample_logs/dotnet/app.log" 2>&1
echo "wrote $REPO/sample_logs/dotnet/app.log"
