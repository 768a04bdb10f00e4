#!/usr/bin/env bash
# Real PHPMailer SMTP debug output: the real PHPMailer (Debian's libphp-phpmailer, run by php-cli)
# sends one message per scenario, through tools/samples/phpmailer_send.php, to the scripted
# loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only). What PHPMailer prints becomes
#   sample_logs/phpmailer/smtpdebug-level2.log            SMTPDebug=2, Debugoutput 'echo'
#   sample_logs/phpmailer/smtpdebug-level4.log            SMTPDebug=4, Debugoutput 'echo'
#   sample_logs/phpmailer/smtpdebug-level2-error_log.log  SMTPDebug=2, Debugoutput 'error_log'
#                                                         (PHP error_log file, WordPress debug.log style)
# and the other Debugoutput forms and WordPress SMTP plugin logs (sample_logs/phpmailer/README.md):
#   smtpdebug-level2-html.log, -closure-level.log, -docblock.log, -monolog.log, easy-wp-smtp-raw.log,
#   easy-wp-smtp.log, wp-mail-smtp-debug-events.txt, post-smtp-debug.log, php-uncaught-exception.log
#   bash tools/samples/make_phpmailer_samples.sh        (needs root for apt-get the first time)
#   FORMS=new bash tools/samples/make_phpmailer_samples.sh   (only the files of the other forms)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/pmw}"
OUT="$REPO/sample_logs/phpmailer"
mkdir -p "$WORK" "$OUT"
if ! command -v php >/dev/null || [ ! -f /usr/share/php/libphp-phpmailer/autoload.php ] \
        || [ ! -f /usr/share/php/Monolog/autoload.php ]; then
    apt-get install -y php-cli libphp-phpmailer php-monolog
fi
. "$HERE/sandbox.sh"
enter_sandbox "$@"  # from here on: loopback-only network, wrong host names get NXDOMAIN
. "$HERE/trouble_server.sh"
start_trouble_server "$WORK"

# name | phpmailer_send.php options (host is always 127.0.0.1)
SCENARIOS='
success        --port=2525 --secure=tls --verify=0 --to=sam@gmail-like.example
wrong_port     --port=2599 --secure= --autotls=0 --to=sam@gmail-like.example
ssl_on_starttls --port=2526 --secure=ssl --verify=0 --to=sam@outlook-like.example
tls_no_starttls --port=2533 --secure=tls --verify=0 --to=sam@notls.example.org
cert_verify    --port=2532 --secure=tls --verify=1 --to=sam@gmail-like.example
bad_auth       --port=2534 --secure= --autotls=0 --auth=1 --user=wordpress@authfail.example.org --pass=wrong-password --to=sam@gmail-like.example
rcpt_nouser    --port=2525 --secure=tls --verify=0 --to=nouser@gmail-like.example
rate_limit     --port=2525 --secure=tls --verify=0 --to=ratelimit@gmail-like.example
too_large      --port=2525 --secure=tls --verify=0 --big=2 --to=toolarge@gmail-like.example
greeting_timeout --port=2530 --secure= --timeout=3 --timelimit=3 --to=sam@gmail-like.example
greeting_421   --port=2529 --secure= --to=sam@yahoo-like.example
hangup         --port=2531 --secure= --timeout=3 --timelimit=3 --to=sam@gmail-like.example
wrong_port_noexc --port=2599 --secure= --autotls=0 --exceptions=0 --to=sam@gmail-like.example
greeting_timeout_noexc --port=2530 --secure= --timeout=3 --timelimit=3 --exceptions=0 --to=sam@gmail-like.example
app_password   --port=2535 --secure= --autotls=0 --auth=1 --user=wordpress@gmail-like.example --pass=account-password --to=sam@gmail-like.example
relay_denied   --port=2536 --secure= --autotls=0 --to=friend@elsewhere.example
send_as_denied --port=2537 --secure=tls --verify=0 --auth=1 --user=shop@contoso-like.example --pass=the-right-password --to=customer@elsewhere.example
starttls_on_implicit --port=2538 --secure=tls --verify=0 --timeout=3 --timelimit=3 --to=sam@gmail-like.example
starttls_on_465 --port=465 --secure=tls --verify=0 --timeout=3 --timelimit=3 --to=sam@gmail-like.example
wrong_host     --host=smtp.gmial-like.example --port=2525 --secure=tls --verify=0 --to=sam@gmail-like.example
'

run_all() {  # $1 = debug level, $2 = echo | error_log, $3 = output file
    local level="$1" mode="$2" file="$3" name opts
    : > "$file"
    while read -r name opts; do
        [ -n "$name" ] || continue
        # shellcheck disable=SC2086
        if [ "$mode" = echo ]; then
            php "$HERE/phpmailer_send.php" $opts --debug="$level" --output=echo >> "$file" 2>&1 \
                || echo "  [$name level $level: php exit $?]" >&2
        else
            php "$HERE/phpmailer_send.php" $opts --debug="$level" --output=error_log \
                --errlog="$file" 2>> "$WORK/php-stderr.txt" \
                || echo "  [$name level $level error_log: php exit $?]" >&2
        fi
    done <<< "$SCENARIOS"
    echo "wrote $file ($(wc -l < "$file") lines)"
}

# The other forms: $1 = debug level, $2 = --output, $3 = --report, $4 = output file. Output that
# goes to a file (--errlog) and output echoed to stdout both end up in $4. The plugin forms skip
# the new PHPMailer(false) scenarios (WordPress's wp_mail() uses exceptions).
run_form() {
    local level="$1" mode="$2" report="$3" file="$4" name opts
    : > "$file"
    while read -r name opts; do
        [ -n "$name" ] || continue
        case "$report:$name" in plain:*) ;; *_noexc) continue ;; esac
        # shellcheck disable=SC2086
        php "$HERE/phpmailer_send.php" $opts --debug="$level" --output="$mode" --report="$report" \
            --errlog="$file" >> "$file" 2>> "$WORK/php-stderr.txt" \
            || echo "  [$name $mode/$report: php exit $?]" >&2
    done <<< "$SCENARIOS"
    echo "wrote $file ($(wc -l < "$file") lines)"
}

: > "$WORK/php-stderr.txt"
if [ "${FORMS:-all}" = all ]; then
    run_all 2 echo "$OUT/smtpdebug-level2.log"
    run_all 4 echo "$OUT/smtpdebug-level4.log"
    run_all 2 error_log "$OUT/smtpdebug-level2-error_log.log"
fi
run_form 2 html plain "$OUT/smtpdebug-level2-html.log"
run_form 2 level plain "$OUT/smtpdebug-level2-closure-level.log"
run_form 2 docblock plain "$OUT/smtpdebug-level2-docblock.log"
run_form 2 psr3 plain "$OUT/smtpdebug-level2-monolog.log"
run_form 1 raw plain "$OUT/easy-wp-smtp-raw.log"
run_form 1 easywpsmtp plain "$OUT/easy-wp-smtp.log"
run_form 3 echo wpmailsmtp "$OUT/wp-mail-smtp-debug-events.txt"
run_form 0 error_log postsmtp "$OUT/post-smtp-debug.log"
# an exception nobody catches (new PHPMailer(true), no try/catch): PHP writes it to its error log
rm -f "$OUT/php-uncaught-exception.log"
php -d log_errors=1 -d display_errors=0 -d error_log="$OUT/php-uncaught-exception.log" -r '
    require "/usr/share/php/libphp-phpmailer/autoload.php"; date_default_timezone_set("UTC");
    $m = new PHPMailer\PHPMailer\PHPMailer(true); $m->isSMTP(); $m->Host = "127.0.0.1"; $m->Port = 2599;
    $m->SMTPAutoTLS = false; $m->setFrom("wordpress@blog.example.org"); $m->addAddress("sam@gmail-like.example");
    $m->Body = "x"; $m->send();' || true
echo "wrote $OUT/php-uncaught-exception.log"
