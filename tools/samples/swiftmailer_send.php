<?php
// Real SwiftMailer failures as a Laravel (up to 8) application logs them: SwiftMailer 6.3 (Debian's
// php-swiftmailer) sends one message per scenario to the scripted loopback server
// tools/samples/trouble_smtpd.py (127.0.0.1 only), and every Swift_TransportException is logged the way
// Laravel's exception handler reports it (Illuminate\Foundation\Exceptions\Handler::report():
// $logger->error($e->getMessage(), ['exception' => $e])) through Monolog 2 with the formatter
// Laravel's LogManager builds (LineFormatter(null, 'Y-m-d H:i:s', true, true) with
// includeStacktraces(), channel = the environment's name). Run by make_symfony_samples.sh.
// (The Symfony Mailer twin of this script is symfony_send.php.)
require '/usr/share/php/Swift/swift_required.php';
require '/usr/share/php/Egulias/EmailValidator/autoload.php'; // SwiftMailer's address validator
require __DIR__ . '/laravel_log.php';


$log = laravel_logger();

$scenarios = [
    // what, rcpt, port, encryption (null, 'tls' = STARTTLS, 'ssl' = implicit), user, password, timeout, size, from, host
    ['order 1001 confirmation', 'sam@gmail-like.example', 2525, 'tls'],
    ['order 1002 confirmation', 'nouser@gmail-like.example', 2525, 'tls'],
    ['password reset', 'relay@authfail.example.org', 2534, null, 'shop@example.com', 'wrong'],
    ['order 1003 confirmation', 'x@refused.example.org', 2599],
    ['order 1004 confirmation', 'p@silent.example.org', 2530, null, null, null, 3],
    ['newsletter', 'p@hangup.example.org', 2531],
    ['order 1005 confirmation', 'y@outlook-like.example', 2526, 'ssl'],
    ['invoice 77', 'p@selfsigned.example.org', 2532, 'tls', null, null, 5, 0, null, HOST, true],
    ['invoice 78', 'p@notls.example.org', 2533, 'tls'],
    ['catalogue', 'toolarge@gmail-like.example', 2525, 'tls', null, null, 5, 60000],
    ['order 1006 confirmation', 'relay@authfail.example.org', 2534],
    ['order 1007 confirmation', 'ratelimit@gmail-like.example', 2525, 'tls'],
    ['order 1008 confirmation', 'relay@apppass.example.org', 2535, null, 'shop@gmail-like.example', 'account-password'],
    ['order 1009 confirmation', 'friend@elsewhere.example', 2536],
    ['order 1010 confirmation', 'customer@elsewhere.example', 2537, 'tls', 'shop@contoso-like.example', 'the-right-password', 5, 0,
     'noreply@contoso-like.example'],
    ['order 1011 confirmation', 'sam@gmail-like.example', 2538, 'tls', null, null, 3],
    ['order 1012 confirmation', 'sam@gmail-like.example', 2525, null, null, null, 5, 0, null, 'smtp.gmial-like.example'],
];

$log->info('worker started, ' . count($scenarios) . ' jobs queued');
foreach ($scenarios as $s) {
    [$what, $rcpt, $port] = $s;
    $enc = $s[3] ?? null;
    $timeout = $s[6] ?? 5;
    $size = $s[7] ?? 0;
    $from = $s[8] ?? 'shop@example.com';
    $host = $s[9] ?? HOST;
    $verify = $s[10] ?? false;
    if ($host !== HOST && !getenv('LOGSCAN_SANDBOX')) {
        throw new RuntimeException('wrong-host scenario outside the sandbox');
    }
    $log->info("sending $what to $rcpt via $host:$port");
    $transport = (new Swift_SmtpTransport($host, $port, $enc))->setTimeout($timeout);
    if (!$verify) {
        $transport->setStreamOptions(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false, 'allow_self_signed' => true]]);
    }
    if (isset($s[4])) {
        $transport->setUsername($s[4])->setPassword($s[5]);
    }
    $message = (new Swift_Message('Your order'))->setFrom($from)->setTo($rcpt)
        ->setBody("Thank you for your order.\n" . str_repeat('x', $size));
    try {
        (new Swift_Mailer($transport))->send($message);
        $log->info("sent $what");
    } catch (\Throwable $e) {
        $log->error($e->getMessage(), ['exception' => $e]);
    }
}
$log->info('worker finished');
