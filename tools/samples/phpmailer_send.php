<?php
/*
 * phpmailer_send.php - send ONE message with the real PHPMailer (Debian's libphp-phpmailer)
 * and let PHPMailer write its SMTP debug output. Used by make_phpmailer_samples.sh against the
 * loopback server tools/samples/trouble_smtpd.py. Only ever point it at 127.0.0.1.
 *
 *   php phpmailer_send.php --port=2525 --secure=tls --verify=0 --to=sam@gmail-like.example \
 *       [--host=127.0.0.1] [--auth=1 --user=U --pass=P] [--autotls=0] [--big=KB] \
 *       [--debug=1..4] [--output=echo|error_log] [--errlog=FILE] [--timeout=S] [--timelimit=S]
 *       [--exceptions=0] [--report=plain|wpmailsmtp|postsmtp]
 *
 * --secure   ''  (plain, STARTTLS only if SMTPAutoTLS and the server offers it)
 *            tls (PHPMailer::ENCRYPTION_STARTTLS)   ssl (PHPMailer::ENCRYPTION_SMTPS, implicit TLS)
 * --verify   SMTPOptions ssl verify_peer / verify_peer_name (0 = also allow_self_signed)
 * --output   echo:      PHPMailer's own 'echo' Debugoutput ("Y-m-d H:i:s<TAB>message", UTC)
 *            error_log: PHPMailer's 'error_log' Debugoutput; with --errlog the PHP error_log
 *                       ini points at FILE, so PHP itself prefixes "[d-M-Y H:i:s UTC] " like a
 *                       WordPress wp-content/debug.log
 *            html:      PHPMailer's own 'html' Debugoutput (SMTP.php: "Y-m-d H:i:s " + htmlentities() +
 *                       "<br>\n"; PHPMailer.php's own messages without the date), to stdout
 *            level:     the closure of PHPMailer's Troubleshooting wiki, appending to --errlog FILE:
 *                       file_put_contents(FILE, gmdate('Y-m-d H:i:s') . "\t$level\t$str\n", FILE_APPEND)
 *            docblock:  the closure of PHPMailer's own docblock for $Debugoutput (src/PHPMailer.php):
 *                       echo "debug level $level; message: $str";  (no line break of its own)
 *            psr3:      a PSR-3 logger: Monolog 2 (Debian php-monolog), StreamHandler to --errlog FILE
 *                       with its default LineFormatter ("[%datetime%] %channel%.%level_name%: ...")
 *            raw:       Easy WP SMTP 1.3's closure (easy-wp-smtp.php init_smtp(): $this->log($str)),
 *                       appending $str as it is to --errlog FILE
 *            easywpsmtp: Easy WP SMTP's later debug logger (class-easywpsmtp-debug-logger.php
 *                       log_debug_string(): '[' . date('m/d/Y g:i:s A') . '] - ' . $str), to --errlog FILE
 * --report   how a failed send is reported (default plain: "Mailer Error: $mail->ErrorInfo"):
 *            wpmailsmtp: WP Mail SMTP's debug event text (src/MailCatcherTrait.php smtp_send():
 *                       "Mailer: Other SMTP\r\n" . ErrorInfo . "\r\nDebug Output:\r\n" . the debug
 *                       output of levels <= 3, each trim()med of CR/LF, joined by "\r\n"), to stdout
 *            postsmtp:  Post SMTP's PostmanLogger (Postman/PostmanWpMail.php, PostmanLogger.php):
 *                       error_log("ERROR PostmanWpMail: " . get_class($e) . " code=" . $e->getCode() .
 *                       " message=" . trim($e->getMessage())) into --errlog FILE (PHP's prefix)
 * On failure the script logs "Mailer Error: $mail->ErrorInfo" (the line WordPress SMTP plugins and
 * PHPMailer's own examples print) through the same channel, and exits 1.
 */
use PHPMailer\PHPMailer\PHPMailer;
use PHPMailer\PHPMailer\SMTP;
use PHPMailer\PHPMailer\Exception;

require '/usr/share/php/libphp-phpmailer/autoload.php';

date_default_timezone_set('UTC');
$o = getopt('', ['host:', 'port:', 'secure:', 'auth:', 'user:', 'pass:', 'autotls:', 'verify:',
    'to:', 'big:', 'debug:', 'output:', 'errlog:', 'timeout:', 'timelimit:', 'exceptions:', 'report:']);
$host = $o['host'] ?? '127.0.0.1';
// another host name only inside sandbox.sh's loopback-only network namespace
if ($host !== '127.0.0.1' && !getenv('LOGSCAN_SANDBOX')) {
    fwrite(STDERR, "refusing non-loopback host $host\n");
    exit(2);
}
$output = $o['output'] ?? 'echo';
$report = $o['report'] ?? 'plain';
$errlog = $o['errlog'] ?? '/dev/null';
if (($output === 'error_log' || $report === 'postsmtp') && isset($o['errlog'])) {
    ini_set('log_errors', '1');
    ini_set('error_log', $o['errlog']);
}
$buffer = [];  // --report=wpmailsmtp: the debug output, as WP Mail SMTP keeps it
$debugoutput = [
    'echo' => 'echo', 'error_log' => 'error_log', 'html' => 'html',
    'level' => function ($str, $level) use ($errlog) {
        file_put_contents($errlog, gmdate('Y-m-d H:i:s') . "\t$level\t$str\n", FILE_APPEND | LOCK_EX);
    },
    'docblock' => function ($str, $level) {
        echo "debug level $level; message: $str";
    },
    'raw' => function ($str, $level) use ($errlog) {
        file_put_contents($errlog, $str, FILE_APPEND);
    },
    'easywpsmtp' => function ($str, $level) use ($errlog) {
        file_put_contents($errlog, '[' . date('m/d/Y g:i:s A') . '] - ' . $str, FILE_APPEND);
    },
][$output] ?? null;
if ($output === 'psr3') {
    require_once '/usr/share/php/Psr/Log/autoload.php';
    require_once '/usr/share/php/Monolog/autoload.php';
    $logger = new \Monolog\Logger('mail');
    $logger->pushHandler(new \Monolog\Handler\StreamHandler($errlog, \Monolog\Logger::DEBUG));
    $debugoutput = $logger;
}
if ($report === 'wpmailsmtp') {
    $debugoutput = function ($str, $level) use (&$buffer) {
        if ($level <= 3) {
            $buffer[] = trim($str, "\r\n");
        }
    };
}
$say = function ($line) use ($output, $errlog, $debugoutput) {
    if ($output === 'psr3') {
        $debugoutput->error($line);  // the application logs the failure through the same logger
    } elseif (in_array($output, ['level', 'raw', 'easywpsmtp'], true)) {
        file_put_contents($errlog, "$line\n", FILE_APPEND);
    } elseif ($output === 'error_log') {
        error_log($line);
    } else {
        echo $line, "\n";
    }
};

// --exceptions=0: new PHPMailer(false), send() returns false instead of throwing; then a failed
// connect ends in ErrorInfo "SMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting"
// (WordPress's wp_mail() uses new PHPMailer(true): "SMTP Error: Could not connect to SMTP host.")
$exceptions = (bool)(int)($o['exceptions'] ?? 1);
$mail = new PHPMailer($exceptions);
try {
    $mail->isSMTP();
    $mail->SMTPDebug = (int)($o['debug'] ?? SMTP::DEBUG_SERVER);
    $mail->Debugoutput = $debugoutput;
    $mail->Host = $host;
    $mail->Port = (int)($o['port'] ?? 25);
    $mail->SMTPSecure = $o['secure'] ?? '';
    $mail->SMTPAutoTLS = (bool)(int)($o['autotls'] ?? 1);
    $mail->SMTPAuth = (bool)(int)($o['auth'] ?? 0);
    if ($mail->SMTPAuth) {
        $mail->Username = $o['user'] ?? 'wordpress@blog.example.org';
        $mail->Password = $o['pass'] ?? 'not-the-password';
    }
    $verify = (bool)(int)($o['verify'] ?? 1);
    $mail->SMTPOptions = ['ssl' => [
        'verify_peer' => $verify,
        'verify_peer_name' => $verify,
        'allow_self_signed' => !$verify,
    ]];
    if (isset($o['timeout'])) {
        $mail->Timeout = (int)$o['timeout'];
    }
    if (isset($o['timelimit'])) {
        // PHPMailer 6.6.3 waits for every reply (also the greeting) in stream_select() with
        // SMTP::$Timelimit (default 300 s); $mail->Timeout alone does not shorten that wait.
        $mail->getSMTPInstance()->Timelimit = (int)$o['timelimit'];
    }
    $mail->Hostname = 'blog.example.org';      // EHLO name; keeps the build host's name out
    $mail->setFrom('wordpress@blog.example.org', 'WordPress');
    $mail->addAddress($o['to'] ?? 'sam@gmail-like.example');
    $mail->Subject = 'Test message from logscan sample run';
    $body = "Hello,\nthis is a test message sent by PHPMailer " . PHPMailer::VERSION . ".\n";
    $kb = (int)($o['big'] ?? 0);
    if ($kb > 0) {
        // a "big" body: long lines PHPMailer wraps itself; kept modest because every body line
        // is echoed as CLIENT -> SERVER at SMTPDebug >= 1
        $body .= str_repeat(str_repeat('0123456789', 100) . "\n", $kb);
    }
    $mail->Body = $body;
    $failed = function ($e) use ($mail, $say, $report, &$buffer) {
        if ($report === 'wpmailsmtp') {
            echo "Mailer: Other SMTP\r\n" . $mail->ErrorInfo . "\r\nDebug Output:\r\n" . implode("\r\n", $buffer), "\n";
        } elseif ($report === 'postsmtp' && $e !== null) {
            error_log('ERROR PostmanWpMail: ' . get_class($e) . ' code=' . $e->getCode() . ' message=' . trim($e->getMessage()));
        } else {
            $say("Mailer Error: {$mail->ErrorInfo}");
        }
        exit(1);
    };
    if ($mail->send()) {
        $say('Message has been sent');
        exit(0);
    }
    $failed(null);
} catch (Exception $e) {
    $failed($e);
}
