#!/bin/bash
# make_postfix_samples.sh - produce REAL Postfix log samples for logscan.
#
# Installs and configures Postfix (+ rsyslog, dovecot for smtpd SASL, swaks),
# starts tools/samples/trouble_smtpd.py (fake providers on 127.0.0.1 ports),
# submits mail with sendmail and swaks, lets Postfix retry / expire it, and
# collects the syslog output into sample_logs/postfix/.
#
# Runs as root on a throw-away Debian 12 machine (no systemd needed).
# NETWORK: everything stays on 127.0.0.0/8. Every test domain is routed by
# transport_maps to [127.0.0.1]:port (brackets = no MX lookup), Postfix's SMTP
# client has DNS disabled and is bound to 127.0.0.1, default_transport and
# relay_transport are "error:" so an unlisted domain bounces instead of leaving
# the machine, smtpd does no reverse lookups.
#
# Usage:  sudo tools/samples/make_postfix_samples.sh [main|rfc3339|clean|all]
# Re-runnable; stops every daemon it started when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/sample_logs/postfix
WORK=/var/tmp/logscan-samples
LOGHOST=mx1                      # hostname written into the syslog lines
RUNS=${1:-all}
PY=${PYTHON:-python3}

mkdir -p "$WORK" "$OUT" "$OUT/rfc3339" "$OUT/clean"

# ----------------------------------------------------------------- install
install_packages() {
    local need; need=$(missing_packages postfix swaks rsyslog dovecot-core libsasl2-modules openssl)
    if [ -n "$need" ]; then
        say "installing:$need"
        export DEBIAN_FRONTEND=noninteractive
        echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
        echo "postfix postfix/mailname string mx1.example.com" | debconf-set-selections
        apt-get update -q
        apt-get install -y -q $need
    fi
}

# ----------------------------------------------------------------- daemons
stop_postfix() {  # (no "postfix status": it would write an extra log line)
    local pid; pid=$(cat /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' ' || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then postfix stop >/dev/null 2>&1 || true; sleep 1; fi
}
. "$HERE/daemon_common.sh"
stop_dovecot() { [ -f "$WORK/dovecot.conf" ] && doveadm -c "$WORK/dovecot.conf" stop >/dev/null 2>&1 || true; sleep 0.5; }
cleanup() { stop_postfix; stop_dovecot; stop_trouble; stop_syslog; }
trap cleanup EXIT

start_dovecot() {
    stop_dovecot
    dovecot -c "$WORK/dovecot.conf"
    for _ in $(seq 1 50); do [ -S /var/spool/postfix/private/auth ] && break; sleep 0.1; done
}

# ----------------------------------------------------------------- setup
setup_users_and_certs() {
    for u in alice bob carol; do
        id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$u"
    done
    if [ ! -s "$WORK/trouble-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout "$WORK/trouble-key.pem" -out "$WORK/trouble-cert.pem" \
            -subj "/CN=mx.selfsigned.example.org" 2>/dev/null
    fi
    if [ ! -s "$WORK/smtpd-cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
            -keyout "$WORK/smtpd-key.pem" -out "$WORK/smtpd-cert.pem" \
            -subj "/CN=mx1.example.com" 2>/dev/null
        chmod 600 "$WORK/smtpd-key.pem"
    fi
}

setup_dovecot() {
    # dovecot only provides the SASL auth socket for Postfix's smtpd
    printf 'alice@example.com:{PLAIN}correct-horse\nbob@example.com:{PLAIN}battery-staple\n' > "$WORK/dovecot.passwd"
    chmod 644 "$WORK/dovecot.passwd"
    cat > "$WORK/dovecot.conf" <<EOF
protocols = none
listen = 127.0.0.1
base_dir = $WORK/dovecot-run
log_path = $WORK/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/dovecot.passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

setup_postfix() {
    # start every run from Debian's pristine config
    [ -f /etc/postfix/main.cf.logscan-orig ] || cp /etc/postfix/main.cf /etc/postfix/main.cf.logscan-orig
    [ -f /etc/postfix/master.cf.logscan-orig ] || cp /etc/postfix/master.cf /etc/postfix/master.cf.logscan-orig
    cp /etc/postfix/main.cf.logscan-orig /etc/postfix/main.cf
    cp /etc/postfix/master.cf.logscan-orig /etc/postfix/master.cf

    postconf -e \
        "myhostname = mx1.example.com" \
        "mydomain = example.com" \
        "myorigin = example.com" \
        "mydestination = example.com, mx1.example.com, localhost" \
        "inet_interfaces = 127.0.0.1" \
        "inet_protocols = ipv4" \
        "mynetworks = 127.0.0.1/32" \
        "relayhost =" \
        "default_transport = error:5.7.0 outbound mail disabled on this sample host" \
        "relay_transport = error:5.7.0 outbound mail disabled on this sample host" \
        "transport_maps = hash:/etc/postfix/transport" \
        "smtp_host_lookup = native" \
        "smtp_dns_support_level = disabled" \
        "smtp_bind_address = 127.0.0.1" \
        "smtpd_peername_lookup = no" \
        "smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)" \
        "smtp_tls_security_level = may" \
        "smtp_tls_loglevel = 1" \
        "smtpd_tls_cert_file = $WORK/smtpd-cert.pem" \
        "smtpd_tls_key_file = $WORK/smtpd-key.pem" \
        "smtpd_tls_security_level = may" \
        "smtpd_tls_loglevel = 1" \
        "smtpd_tls_auth_only = no" \
        "smtpd_sasl_type = dovecot" \
        "smtpd_sasl_path = private/auth" \
        "smtpd_sasl_auth_enable = yes" \
        "smtpd_helo_required = yes" \
        "smtpd_helo_restrictions = reject_invalid_helo_hostname" \
        "smtpd_client_restrictions = check_client_access hash:/etc/postfix/client_access" \
        "smtpd_sender_restrictions = reject_non_fqdn_sender" \
        "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination" \
        "message_size_limit = 40960" \
        "mailbox_size_limit = 0" \
        "queue_run_delay = 10s" \
        "minimal_backoff_time = 10s" \
        "maximal_backoff_time = 20s" \
        "maximal_queue_lifetime = ${QUEUE_LIFETIME:-1m}" \
        "bounce_queue_lifetime = ${QUEUE_LIFETIME:-1m}" \
        "delay_warning_time = ${DELAY_WARNING:-0}" \
        "smtp_sasl_auth_enable = no" \
        "smtp-fast_initial_destination_concurrency = 1"
    # delay-notice template in minutes: with minute-sized lifetimes the stock
    # "$delay_warning_time_hours hour(s)" template makes bounce(8) log 5 warnings per notice
    postconf -t 2>/dev/null | sed -e 's/\$delay_warning_time_hours hour(s)/$delay_warning_time_seconds second(s)/' \
        -e 's/\$maximal_queue_lifetime_days day(s)/$maximal_queue_lifetime_minutes minute(s)/' > /etc/postfix/bounce.cf
    postconf -e "bounce_template_file = /etc/postfix/bounce.cf"
    # no chroot, so every daemon logs straight to /dev/log
    postconf -F '*/*/chroot = n'
    # submission port with SASL (logs as postfix/submission/smtpd)
    postconf -M submission/inet="submission inet n - n - - smtpd"
    postconf -P "submission/inet/syslog_name=postfix/submission" \
        "submission/inet/smtpd_client_restrictions=" \
        "submission/inet/smtpd_relay_restrictions=permit_sasl_authenticated,reject"
    # extra smtp client transports
    postconf -M smtp-fast/unix="smtp-fast unix - - n - - smtp"
    postconf -P "smtp-fast/unix/smtp_helo_timeout=6s" "smtp-fast/unix/smtp_connect_timeout=6s" \
        "smtp-fast/unix/smtp_rcpt_timeout=6s" "smtp-fast/unix/smtp_data_done_timeout=8s"
    # same short timeouts, default concurrency: its own queue, so the drops and
    # timeouts there do not throttle ("temporarily suspend") example.net
    postconf -M smtp-flaky/unix="smtp-flaky unix - - n - - smtp"
    postconf -P "smtp-flaky/unix/smtp_rcpt_timeout=6s" "smtp-flaky/unix/smtp_data_done_timeout=8s"
    postconf -M smtp-verify/unix="smtp-verify unix - - n - - smtp"
    postconf -P "smtp-verify/unix/smtp_tls_security_level=verify" \
        "smtp-verify/unix/smtp_tls_CAfile=/etc/ssl/certs/ca-certificates.crt"
    postconf -M smtp-encrypt/unix="smtp-encrypt unix - - n - - smtp"
    postconf -P "smtp-encrypt/unix/smtp_tls_security_level=encrypt"
    postconf -M smtp-auth/unix="smtp-auth unix - - n - - smtp"
    postconf -P "smtp-auth/unix/smtp_sasl_auth_enable=yes" \
        "smtp-auth/unix/smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd" \
        "smtp-auth/unix/smtp_sasl_security_options=noanonymous"
    postconf -M smtp-authnomech/unix="smtp-authnomech unix - - n - - smtp"
    postconf -P "smtp-authnomech/unix/smtp_sasl_auth_enable=yes" \
        "smtp-authnomech/unix/smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd"

    cat > /etc/postfix/transport <<'EOF'
# logscan sample run: every remote test domain goes to trouble_smtpd.py on loopback
gmail-like.example       smtp:[127.0.0.1]:2525
outlook-like.example     smtp:[127.0.0.1]:2526
yahoo-like.example       smtp:[127.0.0.1]:2527
example.net              smtp:[127.0.0.1]:2528
flaky.example.net        smtp-flaky:[127.0.0.1]:2528
ymail-like.example       smtp:[127.0.0.1]:2529
silent.example.org       smtp-fast:[127.0.0.1]:2530
hangup.example.org       smtp:[127.0.0.1]:2531
selfsigned.example.org   smtp-verify:[127.0.0.1]:2532
notls.example.org        smtp-encrypt:[127.0.0.1]:2533
legacy.example.org       smtp:[127.0.0.1]:2533
authfail.example.org     smtp-auth:[127.0.0.1]:2534
authnomech.example.org   smtp-authnomech:[127.0.0.1]:2534
refused.example.org      smtp-fast:[127.0.0.1]:2599
smtps.example.org        smtp-fast:[127.0.0.1]:465
retired.example.org      error:5.1.2 this domain no longer accepts mail
maintenance.example.org  retry:4.3.2 mail server for this domain is under maintenance
EOF
    printf '127.0.0.3 REJECT Access denied\n' > /etc/postfix/client_access
    printf '[127.0.0.1]:2534 relayuser@authfail.example.org:WrongPassw0rd\n' > /etc/postfix/sasl_passwd
    chmod 600 /etc/postfix/sasl_passwd
    postmap /etc/postfix/transport /etc/postfix/client_access /etc/postfix/sasl_passwd
    grep -q '^postmaster:' /etc/aliases || echo 'postmaster: root' >> /etc/aliases
    grep -q '^root:' /etc/aliases || echo 'root: alice' >> /etc/aliases
    newaliases
    postfix check
}

# fresh queue and mailboxes before each run
reset_state() {
    stop_postfix
    postsuper -d ALL >/dev/null 2>&1 || true
    rm -f /var/mail/alice /var/mail/bob /var/mail/carol /var/mail/root
}

# ----------------------------------------------------------------- helpers
N=0
# sm FROM SUBJECT RCPT... : submit with Postfix's sendmail (pickup path)
sm() {
    local from=$1 subj=$2; shift 2
    N=$((N+1))
    printf 'From: %s\nTo: %s\nSubject: %s\n\nlogscan sample message %d.\n' \
        "$from" "$(IFS=,; echo "$*")" "$subj" "$N" | /usr/sbin/sendmail -f "$from" "$@" || true
}
# sm_big FROM SIZE RCPT : message with SIZE bytes of body
sm_big() {
    local from=$1 size=$2 rcpt=$3
    { printf 'From: %s\nTo: %s\nSubject: large attachment\n\n' "$from" "$rcpt"
      head -c "$size" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } | /usr/sbin/sendmail -f "$from" "$rcpt" || true
}
queue_empty() { [ "$(postqueue -j 2>/dev/null | wc -l)" -eq 0 ]; }
# flush the queue every $1 seconds until empty or $2 seconds passed
drain() {
    local every=$1 max=$2 t=0
    while [ "$t" -lt "$max" ]; do
        sleep "$every"; t=$((t+every))
        queue_empty && { say "queue empty after ${t}s"; return 0; }
        postqueue -f || true
    done
    say "queue not empty after ${max}s:"; postqueue -p | tail -3 >&2 || true
}

begin_run() {  # begin_run TEMPLATE LOGFILE
    reset_state
    start_syslog "$1" "$2"
    start_trouble
    start_dovecot
    postfix start >/dev/null 2>&1
    sleep 2
}
end_run() {
    stop_postfix
    sleep 1
    stop_dovecot
    stop_trouble
    stop_syslog
}

# ----------------------------------------------------------------- runs
run_main() {
    say "main run (mixed failures and successes)"
    QUEUE_LIFETIME=1m DELAY_WARNING=30s setup_postfix
    begin_run RSYSLOG_TraditionalFileFormat "$WORK/raw-main.log"

    send_successes

    send_provider_refusals
    # --- self-hosted MX refusals
    for r in greylist relay nouser rbl full lookupfail policydefer toolarge virus tempfail; do
        sm bob@example.com "example.net $r" "$r@example.net"
    done
    for r in drop slowdata dropdata; do
        sm bob@example.com "flaky $r" "$r@flaky.example.net"
    done
    sm_big carol@example.com 30000 archive@example.net        # > SIZE 20480 of that server
    # --- transport level trouble
    sm alice@example.com "silent"      postmaster@silent.example.org
    sm alice@example.com "hangup"      postmaster@hangup.example.org
    sm alice@example.com "selfsigned"  postmaster@selfsigned.example.org
    sm alice@example.com "notls"       postmaster@notls.example.org
    sm alice@example.com "authfail"    relay@authfail.example.org
    sm alice@example.com "authnomech"  relay@authnomech.example.org
    sm alice@example.com "refused"     postmaster@refused.example.org
    sm alice@example.com "refused 2"   info@refused.example.org
    # a relay on port 465 without smtp_tls_wrappermode: Postfix waits for a clear-text greeting
    sm alice@example.com "smtps"       postmaster@smtps.example.org
    # several messages to one dead destination -> "delivery temporarily suspended"
    for i in 1 2 3; do
        sm bob@example.com "silent $i"  "user$i@silent.example.org"
        sm bob@example.com "refused $i" "user$i@refused.example.org"
    done
    sm alice@example.com "retired"     old@retired.example.org
    sm alice@example.com "maintenance" ops@maintenance.example.org
    # --- local delivery failure
    sm bob@example.com "typo" nosuchuser@example.com
    sm_big bob@example.com 50000 alice@example.com            # > message_size_limit (sendmail path)

    # --- Postfix smtpd rejects
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to other@outlook-like.example
    sw --server 127.0.0.1:25 --from carol@example.com --to ghost@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.3 --from spammer@example.org --to alice@example.com
    sw --server 127.0.0.1:25 --helo 'bad..helo' --from carol@example.com --to alice@example.com
    sw --server 127.0.0.1:25 --from carol --to alice@example.com
    sw --server 127.0.0.1:25 --from carol@example.com --to alice@example.com \
       --attach-type application/octet-stream --attach @<(head -c 60000 /dev/urandom)
    # --- SASL failures against Postfix's smtpd (dovecot backend)
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user alice@example.com --auth-password wrong-password \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --auth PLAIN --auth-user mallory@example.com --auth-password guess123 \
       --from mallory@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --auth LOGIN --auth-user admin@example.com --auth-password admin \
       --from admin@example.com --to x@outlook-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --auth PLAIN --auth-user bob@example.com --auth-password 123456 \
       --from bob@example.com --to x@outlook-like.example
    # unauthenticated relay attempt on submission
    sw --server 127.0.0.1:587 --from alice@example.com --to x@gmail-like.example

    # let Postfix retry: greylist passes, the rest defers and finally expires
    drain 15 200
    end_run
}

run_rfc3339() {
    say "rfc3339 run (smaller, mixed)"
    QUEUE_LIFETIME=1m DELAY_WARNING=0 setup_postfix
    begin_run RSYSLOG_FileFormat "$WORK/raw-rfc3339.log"
    sm alice@example.com "hi"       kim@gmail-like.example
    sm bob@example.com   "status"   lee@outlook-like.example
    sm alice@example.com "local"    carol@example.com
    sm alice@example.com "bounce"   nouser@gmail-like.example
    sm bob@example.com   "blocked"  spamhaus@outlook-like.example
    sm carol@example.com "grey"     greylist@example.net
    sm carol@example.com "quota"    overquota@gmail-like.example
    sm alice@example.com "refused"  postmaster@refused.example.org
    sm alice@example.com "tls"      postmaster@notls.example.org
    sm alice@example.com "tss04"    someone@ymail-like.example
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from someone@example.org --to victim@gmail-like.example
    sw --server 127.0.0.1:587 --auth LOGIN --auth-user alice@example.com --auth-password nope \
       --from alice@example.com --to x@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to pat@yahoo-like.example
    drain 15 150
    end_run
}

run_clean() {
    say "clean run (successful deliveries only)"
    QUEUE_LIFETIME=5d DELAY_WARNING=0 setup_postfix
    begin_run RSYSLOG_TraditionalFileFormat "$WORK/raw-clean.log"
    sm alice@example.com "weekly report"  jane.doe@gmail-like.example
    sm alice@example.com "re: weekly"     j.smith@outlook-like.example pat@gmail-like.example
    sm bob@example.com   "photos"         friend@yahoo-like.example
    sm carol@example.com "invoice 1042"   billing@example.net
    sm bob@example.com   "order"          orders@legacy.example.org
    sm carol@example.com "team lunch"     alice@example.com bob@example.com
    sw --server 127.0.0.1:25 --from alice@example.com --to bob@example.com
    sw --server 127.0.0.1:25 --local-interface 127.0.0.2 --from news@example.org --to carol@example.com
    sw --server 127.0.0.1:587 --tls --auth PLAIN --auth-user alice@example.com --auth-password correct-horse \
       --from alice@example.com --to kim@gmail-like.example
    sw --server 127.0.0.1:587 --tls --auth LOGIN --auth-user bob@example.com --auth-password battery-staple \
       --from bob@example.com --to lee@outlook-like.example,friend@yahoo-like.example
    drain 5 60
    end_run
}

# ----------------------------------------------------------------- outputs
# neutral hostname: rsyslog already writes $LOGHOST; this sed only guards
# against the build machine's name sneaking into the syslog host field.
neutralize() {
    local h; h=$(hostname)
    sed -E "s/^([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}|[0-9T:.+-]{25,32}) $h /\1 $LOGHOST /"
}

publish() {
    if [ -s "$WORK/raw-main.log" ]; then
        neutralize < "$WORK/raw-main.log" > "$WORK/main.log"
        rotate_in_thirds "$WORK/main.log" "$OUT" mail.log 15
    fi
    [ -s "$WORK/raw-rfc3339.log" ] && neutralize < "$WORK/raw-rfc3339.log" > "$OUT/rfc3339/mail.log"
    [ -s "$WORK/raw-clean.log" ] && neutralize < "$WORK/raw-clean.log" > "$OUT/clean/mail.log"
    if [ -s "$OUT/clean/mail.log" ] && grep -Eiq 'warning|reject|deferred|bounced|expired|error|fatal|panic' "$OUT/clean/mail.log"; then
        say "WARNING: clean log contains failure lines:"; grep -Ei 'warning|reject|deferred|bounced|expired|error|fatal|panic' "$OUT/clean/mail.log" >&2
    fi
    postconf mail_version > "$WORK/postfix-version.txt"
    say "done: $(cat "$WORK/postfix-version.txt")"
}

install_packages
setup_users_and_certs
setup_dovecot
cleanup
case "$RUNS" in
    main) run_main ;;
    rfc3339) run_rfc3339 ;;
    clean) run_clean ;;
    all) run_main; run_rfc3339; run_clean ;;
    publish) ;;
    *) echo "usage: $0 [main|rfc3339|clean|all|publish]" >&2; exit 2 ;;
esac
publish
