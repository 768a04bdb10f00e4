# Real Ruby Net::SMTP failures as a Rails application logs them: ActionMailer (Rails 6.1, the
# mail gem over Net::SMTP) delivers one message per scenario to the scripted loopback server
# tools/samples/trouble_smtpd.py (127.0.0.1 only). Mail is sent the Rails way, deliver_later
# through ActiveJob (inline adapter), so a failure is logged by ActiveJob's log subscriber
# ("Error performing ActionMailer::MailDeliveryJob ... : Net::SMTPAuthenticationError (...):" and
# the backtrace); every third scenario is sent with deliver_now and the application logs the
# error itself ("could not send ...: #{e.class}: #{e.message}", or the exception object, which
# Logger writes as "<message> (<class>)" with the backtrace). The logger is Rails' production
# one: ActiveSupport::TaggedLogging over ActiveSupport::Logger with Logger::Formatter.
# Run by tools/samples/make_rubysmtp_samples.sh (inside sandbox.sh's loopback-only namespace).
require "action_mailer"
require "active_job"
require "logger"

HOST = "127.0.0.1" # never change: loopback only

# as Rails 6.1's production.rb: config.log_formatter = ::Logger::Formatter.new, log_level :info,
# the logger wrapped in ActiveSupport::TaggedLogging
base = ActiveSupport::Logger.new($stdout)
base.formatter = Logger::Formatter.new
base.level = :info
logger = ActiveSupport::TaggedLogging.new(base)
ActiveJob::Base.logger = logger
ActionMailer::Base.logger = logger
ActiveJob::Base.queue_adapter = :inline
ActionMailer::Base.delivery_job = ActionMailer::MailDeliveryJob # Rails 6.1's default for new apps
ActionMailer::Base.delivery_method = :smtp
ActionMailer::Base.raise_delivery_errors = true

class OrderMailer < ActionMailer::Base
  default from: "shop@example.com"

  def confirmation(rcpt, size, sender)
    mail(to: rcpt, from: sender || "shop@example.com", subject: "Your order",
         body: "Thank you for your order.\n" + "x" * size)
  end
end

def settings(port:, starttls: nil, tls: false, login: nil, timeout: 5, host: HOST, verify: false)
  raise "wrong-host scenario outside the sandbox" unless host == HOST || ENV["LOGSCAN_SANDBOX"]
  s = { address: host, port: port, open_timeout: timeout, read_timeout: timeout, tls: tls,
        enable_starttls_auto: false, openssl_verify_mode: verify ? "peer" : "none" }
  s[:enable_starttls] = true if starttls
  s.merge!(user_name: login[0], password: login[1], authentication: :plain) if login
  s
end

SCENARIOS = [
  ["order 1001 confirmation", "sam@gmail-like.example", { port: 2525, starttls: true }],
  ["order 1002 confirmation", "nouser@gmail-like.example", { port: 2525, starttls: true }],
  ["password reset", "relay@authfail.example.org", { port: 2534, login: ["shop@example.com", "wrong"] }],
  ["order 1003 confirmation", "x@refused.example.org", { port: 2599 }],
  ["order 1004 confirmation", "p@silent.example.org", { port: 2530, timeout: 3 }],
  ["newsletter", "p@hangup.example.org", { port: 2531 }],
  ["order 1005 confirmation", "y@outlook-like.example", { port: 2526, tls: true }],
  ["invoice 77", "p@selfsigned.example.org", { port: 2532, starttls: true, verify: true }],
  ["invoice 78", "p@notls.example.org", { port: 2533, starttls: true }],
  ["catalogue", "toolarge@gmail-like.example", { port: 2525, starttls: true }, 60_000],
  ["order 1006 confirmation", "relay@authfail.example.org", { port: 2534 }],
  ["order 1007 confirmation", "ratelimit@gmail-like.example", { port: 2525, starttls: true }],
  ["order 1008 confirmation", "relay@apppass.example.org", { port: 2535, login: ["shop@gmail-like.example", "account-password"] }],
  ["order 1009 confirmation", "friend@elsewhere.example", { port: 2536 }],
  ["order 1010 confirmation", "customer@elsewhere.example",
   { port: 2537, starttls: true, login: ["shop@contoso-like.example", "the-right-password"] }, 0, "noreply@contoso-like.example"],
  ["order 1011 confirmation", "sam@gmail-like.example", { port: 2538, starttls: true, timeout: 3 }],
  ["order 1012 confirmation", "sam@gmail-like.example", { port: 2525, host: "smtp.gmial-like.example" }],
].freeze

logger.info("worker started, #{SCENARIOS.size} jobs queued")
SCENARIOS.each_with_index do |(what, rcpt, opts, size, sender), n|
  ActionMailer::Base.smtp_settings = settings(**opts)
  logger.info("sending #{what} to #{rcpt} via #{opts[:host] || HOST}:#{opts[:port]}")
  if n % 3 == 2
    begin
      OrderMailer.confirmation(rcpt, size || 0, sender).deliver_now
    rescue StandardError, Timeout::Error => e
      if n % 6 == 5
        logger.error(e) # Logger's own exception format: "<message> (<class>)" and the backtrace
      else
        logger.error("could not send #{what}: #{e.class}: #{e.message}")
      end
    end
  else
    begin
      OrderMailer.confirmation(rcpt, size || 0, sender).deliver_later
    rescue StandardError, Timeout::Error
      nil # ActiveJob's log subscriber has logged it
    end
  end
end
logger.info("worker finished")
