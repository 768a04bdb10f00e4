// Real .NET System.Net.Mail failures in an application log: Mono's System.Net.Mail.SmtpClient sends
// one message per scenario to the scripted loopback server tools/samples/trouble_smtpd.py
// (127.0.0.1 only). The application writes one line per event, an ISO 8601 UTC stamp, the level
// and the logger's name, and for a failure the exception as .NET prints it (Exception.ToString():
// "System.Net.Mail.SmtpException: ... ---> <inner> ..." and the stack trace). Run by
// tools/samples/make_dotnet_samples.sh (inside sandbox.sh's loopback-only namespace).
// Left out: the silent server (2530) and the implicit-TLS port (2538): Mono's SmtpClient applies
// Timeout to neither the connection nor the greeting and waits for ever.
using System;
using System.Net;
using System.Net.Mail;
using System.Net.Security;

class DotnetMailScenarios
{
    const string Host = "127.0.0.1"; // never change: loopback only

    static void Log(string level, string text)
    {
        Console.WriteLine(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ") + " " + level + " Shop.Mailer: " + text);
    }

    static void Send(string host, int port, string rcpt, bool ssl, string user, string pass, int size, string from, int timeout)
    {
        if (host != Host && Environment.GetEnvironmentVariable("LOGSCAN_SANDBOX") == null)
            throw new InvalidOperationException("wrong-host scenario outside the sandbox");
        using (var client = new SmtpClient(host, port))
        {
            client.EnableSsl = ssl;
            client.Timeout = timeout;
            client.DeliveryMethod = SmtpDeliveryMethod.Network;
            if (user != null)
                client.Credentials = new NetworkCredential(user, pass);
            var msg = new MailMessage(from ?? "shop@example.com", rcpt, "Your order",
                                      "Thank you for your order.\n" + new string('x', size));
            client.Send(msg);
        }
    }

    static void Main()
    {
        bool verify = false;
        ServicePointManager.ServerCertificateValidationCallback =
            (sender, cert, chain, errors) => !verify || errors == SslPolicyErrors.None;
        var scenarios = new object[][] {
            // what, port, rcpt, EnableSsl, user, password, size, from, timeout ms, verify certificate, host
            new object[] { "order 1001 confirmation", 2525, "sam@gmail-like.example", false, null, null, 0, null, 5000, false, Host },
            new object[] { "order 1002 confirmation", 2525, "nouser@gmail-like.example", false, null, null, 0, null, 5000, false, Host },
            new object[] { "password reset", 2534, "relay@authfail.example.org", false, "shop@example.com", "wrong", 0, null, 5000, false, Host },
            new object[] { "order 1003 confirmation", 2599, "x@refused.example.org", false, null, null, 0, null, 5000, false, Host },
            new object[] { "newsletter", 2531, "p@hangup.example.org", false, null, null, 0, null, 5000, false, Host },
            new object[] { "invoice 77", 2532, "p@selfsigned.example.org", true, null, null, 0, null, 5000, true, Host },
            new object[] { "invoice 78", 2533, "p@notls.example.org", true, null, null, 0, null, 5000, false, Host },
            new object[] { "catalogue", 2525, "toolarge@gmail-like.example", false, null, null, 60000, null, 5000, false, Host },
            new object[] { "order 1006 confirmation", 2534, "relay@authfail.example.org", false, null, null, 0, null, 5000, false, Host },
            new object[] { "order 1007 confirmation", 2525, "ratelimit@gmail-like.example", false, null, null, 0, null, 5000, false, Host },
            new object[] { "order 1008 confirmation", 2535, "relay@apppass.example.org", false, "shop@gmail-like.example", "account-password", 0, null, 5000, false, Host },
            new object[] { "order 1009 confirmation", 2536, "friend@elsewhere.example", false, null, null, 0, null, 5000, false, Host },
            new object[] { "order 1010 confirmation", 2537, "customer@elsewhere.example", false, "shop@contoso-like.example", "the-right-password", 0, "noreply@contoso-like.example", 5000, false, Host },
            new object[] { "invoice 76", 2525, "sam@gmail-like.example", true, null, null, 0, null, 5000, false, Host },
            new object[] { "order 1012 confirmation", 2525, "sam@gmail-like.example", false, null, null, 0, null, 5000, false, "smtp.gmial-like.example" },
        };
        Log("INFO", "worker started, " + scenarios.Length + " jobs queued");
        foreach (var s in scenarios)
        {
            verify = (bool)s[9];
            Log("INFO", "sending " + s[0] + " to " + s[2] + " via " + s[10] + ":" + s[1]);
            try
            {
                Send((string)s[10], (int)s[1], (string)s[2], (bool)s[3], (string)s[4], (string)s[5], (int)s[6], (string)s[7], (int)s[8]);
                Log("INFO", "sent " + s[0]);
            }
            catch (Exception e)
            {
                Log("ERROR", "could not send " + s[0] + ": " + e);
            }
        }
        Log("INFO", "worker finished");
    }
}
