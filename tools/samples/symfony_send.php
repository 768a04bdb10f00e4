<?php
// Real Symfony Mailer failures as a Laravel application logs them: Symfony Mailer 5.4 (Debian's
// php-symfony-mailer) sends one message per scenario to the scripted loopback server
// tools/samples/trouble_smtpd.py (127.0.0.1 only), and every TransportException is logged the way
// Laravel's exception handler reports it (Illuminate\Foundation\Exceptions\Handler::report():
// $logger->error($e->getMessage(), ['exception' => $e])) through Monolog 2 with the formatter
// Laravel's LogManager builds (LineFormatter(null, 'Y-m-d H:i:s', true, true) with
// includeStacktraces(), channel = the environment's name). Run by make_symfony_samples.sh.
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
require __DIR__ . '/laravel_log.php';

use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport;
use Symfony\Component\Mime\Email;

$log = laravel_logger();

$scenarios = [
    ['order 1001 confirmation', 'sam@gmail-like.example', 'smtp://127.0.0.1:2525?verify_peer=0'],
    ['order 1002 confirmation', 'nouser@gmail-like.example', 'smtp://127.0.0.1:2525?verify_peer=0'],
    ['password reset', 'relay@authfail.example.org', 'smtp://shop%40example.com:wrong@127.0.0.1:2534'],
    ['order 1003 confirmation', 'x@refused.example.org', 'smtp://127.0.0.1:2599'],
    ['order 1004 confirmation', 'p@silent.example.org', 'smtp://127.0.0.1:2530', 3],
    ['newsletter', 'p@hangup.example.org', 'smtp://127.0.0.1:2531'],
    ['order 1005 confirmation', 'y@outlook-like.example', 'smtps://127.0.0.1:2526?verify_peer=0'],
    ['invoice 77', 'p@selfsigned.example.org', 'smtp://127.0.0.1:2532'],
    ['catalogue', 'toolarge@gmail-like.example', 'smtp://127.0.0.1:2525?verify_peer=0', 5, 60000],
    ['order 1006 confirmation', 'relay@authfail.example.org', 'smtp://127.0.0.1:2534'],
    ['order 1007 confirmation', 'ratelimit@gmail-like.example', 'smtp://127.0.0.1:2525?verify_peer=0'],
    ['order 1008 confirmation', 'relay@apppass.example.org', 'smtp://shop%40gmail-like.example:account-password@127.0.0.1:2535'],
    ['order 1009 confirmation', 'friend@elsewhere.example', 'smtp://127.0.0.1:2536'],
    ['order 1010 confirmation', 'customer@elsewhere.example',
     'smtp://shop%40contoso-like.example:the-right-password@127.0.0.1:2537?verify_peer=0', 5, 0, 'noreply@contoso-like.example'],
    ['order 1011 confirmation', 'sam@gmail-like.example', 'smtp://127.0.0.1:2538', 3],
    ['order 1012 confirmation', 'sam@gmail-like.example', 'smtp://smtp.gmial-like.example:2525'],
];

$log->info('worker started, ' . count($scenarios) . ' jobs queued');
foreach ($scenarios as $s) {
    [$what, $rcpt, $dsn] = $s;
    $timeout = $s[3] ?? 5;
    $size = $s[4] ?? 0;
    $from = $s[5] ?? 'shop@example.com';
    $host = parse_url(str_replace('%40', '', $dsn), PHP_URL_HOST);
    if ($host !== HOST && !getenv('LOGSCAN_SANDBOX')) {
        throw new RuntimeException('wrong-host scenario outside the sandbox');
    }
    ini_set('default_socket_timeout', (string) $timeout);
    $log->info("sending $what to $rcpt via " . preg_replace('/\/\/[^@]*@/', '//', $dsn));
    $email = (new Email())->from($from)->to($rcpt)->subject('Your order')
        ->text("Thank you for your order.\n" . str_repeat('x', $size));
    try {
        (new Mailer(Transport::fromDsn($dsn)))->send($email);
        $log->info("sent $what");
    } catch (\Throwable $e) {
        $log->error($e->getMessage(), ['exception' => $e]);
    }
}
$log->info('worker finished');
