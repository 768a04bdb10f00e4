#!/usr/bin/env bash
# Real Jakarta Mail failures in a Java application log: JavaMailScenarios.java (Debian's
# libjakarta-mail-java, OpenJDK) sends to the scripted loopback server tools/samples/trouble_smtpd.py
# (127.0.0.1 only) and logs with java.util.logging; the output becomes sample_logs/javamail/app.log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/jm}"
mkdir -p "$WORK"
[ -f /usr/share/java/jakarta-mail.jar ] || apt-get install -y libjakarta-mail-java
CP=/usr/share/java/jakarta-mail.jar:/usr/share/java/jakarta-activation.jar
cp "$HERE/JavaMailScenarios.java" "$WORK/"
javac -cp "$CP" -d "$WORK" "$WORK/JavaMailScenarios.java"
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/javamail"
java -cp "$CP:$WORK" JavaMailScenarios > "$REPO/sample_logs/javamail/app.log" 2>&1
echo "wrote $REPO/sample_logs/javamail/app.log"
