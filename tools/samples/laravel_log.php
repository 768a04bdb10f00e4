<?php
// The logger of tools/samples/symfony_send.php and swiftmailer_send.php: Monolog 2 (Debian's
// php-monolog) with the formatter Laravel's LogManager builds (LineFormatter(null, 'Y-m-d H:i:s',
// true, true) with includeStacktraces()), channel = the environment's name, to stdout. A failure
// is logged the way Laravel's exception handler reports it (Handler::report():
// $logger->error($e->getMessage(), ['exception' => $e])).
require '/usr/share/php/Monolog/autoload.php';

use Monolog\Formatter\LineFormatter;
use Monolog\Handler\StreamHandler;
use Monolog\Logger;

const HOST = '127.0.0.1'; // never change: loopback only

function laravel_logger(): Logger
{
    $handler = new StreamHandler('php://stdout');
    $formatter = new LineFormatter(null, 'Y-m-d H:i:s', true, true);
    $formatter->includeStacktraces();
    $handler->setFormatter($formatter);
    return new Logger('production', [$handler]);
}
