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
if [ ! -f "$WORK/trouble-cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mx.trouble.example" \
        -keyout "$WORK/trouble-key.pem" -out "$WORK/trouble-cert.pem" 2>/dev/null
fi
python3 "$HERE/trouble_smtpd.py" --cert "$WORK/trouble-cert.pem" --key "$WORK/trouble-key.pem" \
    --greylist-delay 20 > "$WORK/trouble.out" 2>&1 &
TROUBLE=$!
trap 'kill $TROUBLE 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q ready "$WORK/trouble.out" 2>/dev/null && break; sleep 0.1; done
mkdir -p "$REPO/sample_logs/javamail"
java -cp "$CP:$WORK" JavaMailScenarios > "$REPO/sample_logs/javamail/app.log" 2>&1
echo "wrote $REPO/sample_logs/javamail/app.log"
