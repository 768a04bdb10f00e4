#!/usr/bin/env bash
# Real Symfony Mailer and SwiftMailer failures in Laravel-style logs: symfony_send.php and
# swiftmailer_send.php (Debian 12's php-cli 8.2, php-symfony-mailer 5.4, php-swiftmailer 6.3 and
# php-monolog 2.9) send to the scripted loopback server tools/samples/trouble_smtpd.py (127.0.0.1
# only); the output becomes sample_logs/symfony/laravel.log and laravel-swiftmailer.log.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/sfw}"
mkdir -p "$WORK"
if [ -z "${LOGSCAN_SANDBOX:-}" ] && { ! [ -f /usr/share/php/Symfony/Component/Mailer/autoload.php ] || ! [ -f /usr/share/php/Swift/swift_required.php ]; }; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php-cli php-symfony-mailer php-swiftmailer php-monolog >/dev/null
fi
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"
mkdir -p "$REPO/sample_logs/symfony"
php "$HERE/symfony_send.php" > "$REPO/sample_logs/symfony/laravel.log" 2>&1
php "$HERE/swiftmailer_send.php" > "$REPO/sample_logs/symfony/laravel-swiftmailer.log" 2>&1
echo "wrote $REPO/sample_logs/symfony/laravel.log and laravel-swiftmailer.log"
