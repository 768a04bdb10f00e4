// Real Nodemailer errors in an application log (sample_logs/nodemailer/app.log).
// Sends one message per scenario with nodemailer (npm) to the scripted loopback server
// tools/samples/trouble_smtpd.py (127.0.0.1 only; see make_nodemailer_samples.sh) and logs the
// outcome the way Node applications usually do: console.error(err) (util.inspect of the Error,
// with code/response/responseCode/command) and, for every third scenario, one JSON line as
// JSON loggers (pino, winston) write it.
const nodemailer = require("nodemailer");
const HOST = "127.0.0.1"; // never change: loopback only

const scenarios = [
  ["order 2001", { port: 2525, secure: false, tls: { rejectUnauthorized: false } }, "sam@gmail-like.example"],
  ["order 2002", { port: 2525, secure: false, tls: { rejectUnauthorized: false } }, "nouser@gmail-like.example"],
  ["password reset", { port: 2534, secure: false, auth: { user: "shop@example.com", pass: "wrong" } }, "relay@authfail.example.org"],
  ["order 2003", { port: 2599, secure: false }, "x@refused.example.org"],
  ["order 2004", { port: 2530, secure: false, greetingTimeout: 3000 }, "p@silent.example.org"],
  ["newsletter", { port: 2531, secure: false }, "p@hangup.example.org"],
  ["order 2005", { port: 2526, secure: true }, "y@outlook-like.example"],
  ["invoice 88", { port: 2532, secure: false }, "p@selfsigned.example.org"],
  ["invoice 89", { port: 2533, secure: false, requireTLS: true }, "p@notls.example.org"],
  ["catalogue", { port: 2525, secure: false, tls: { rejectUnauthorized: false } }, "toolarge@gmail-like.example", 60000],
  ["order 2006", { port: 2534, secure: false }, "relay@authfail.example.org"],
  ["order 2007", { port: 2525, secure: false, tls: { rejectUnauthorized: false } }, "ratelimit@gmail-like.example"],
  ["order 2008", { port: 2535, secure: false, auth: { user: "shop@gmail-like.example", pass: "account-password" } }, "relay@apppass.example.org"],
  ["order 2009", { port: 2536, secure: false }, "friend@elsewhere.example"],
  ["order 2010", { port: 2537, secure: false, tls: { rejectUnauthorized: false },
                   auth: { user: "shop@contoso-like.example", pass: "the-right-password" } },
   "customer@elsewhere.example", 0, "noreply@contoso-like.example"],
  ["order 2011", { port: 2538, secure: false, greetingTimeout: 3000 }, "sam@gmail-like.example"],
  // a mistyped server name: only inside sandbox.sh's loopback-only network namespace
  ["order 2012", { host: "smtp.gmial-like.example", port: 2525, secure: false }, "sam@gmail-like.example"],
];

function stamp() { return new Date().toISOString(); }

async function main() {
  console.log(`${stamp()} info: mail worker started`);
  for (let i = 0; i < scenarios.length; i++) {
    const [what, opts, rcpt, size, from] = scenarios[i];
    if (opts.host && !process.env.LOGSCAN_SANDBOX) throw new Error("wrong-host scenario outside the sandbox");
    const transport = nodemailer.createTransport({ host: HOST, connectionTimeout: 5000, ...opts });
    console.log(`${stamp()} info: sending ${what} to ${rcpt} via ${opts.host || HOST}:${opts.port}`);
    try {
      await transport.sendMail({ from: from || "shop@example.com", to: rcpt, subject: "Your order",
                                 text: "Thank you.\n" + "x".repeat(size || 0) });
      console.log(`${stamp()} info: sent ${what}`);
    } catch (err) {
      if (i % 3 === 2) {
        console.log(JSON.stringify({ level: 50, time: Date.now(), msg: `could not send ${what}`,
          err: { type: err.name, message: err.message, code: err.code, command: err.command,
                 response: err.response, responseCode: err.responseCode } }));
      } else {
        console.error(`${stamp()} error: could not send ${what}`);
        console.error(err);
      }
    }
    transport.close();
  }
  console.log(`${stamp()} info: mail worker finished`);
  process.exit(0); // a socket the silent server left half-open would keep Node alive
}
main();
