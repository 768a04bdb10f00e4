// Real Jakarta Mail (JavaMail) failures in a Java application log (sample_logs/javamail/app.log).
// Sends one message per scenario with Jakarta Mail 2.0 (Debian libjakarta-mail-java) to the
// scripted loopback server tools/samples/trouble_smtpd.py (127.0.0.1 only; see
// make_javamail_samples.sh) and logs like java.util.logging does, with the stack trace.
import jakarta.mail.*;
import jakarta.mail.internet.*;
import java.util.Properties;
import java.util.logging.*;

public class JavaMailScenarios {
    static final String HOST = "127.0.0.1"; // never change: loopback only
    static final Logger LOG = Logger.getLogger("shop.mailer");

    static void send(String what, String host, int port, String rcpt, boolean starttls, boolean requireTls,
                     boolean ssl, String user, String pass, int size, boolean trustAll, String from)
            throws Exception {
        // another host name only inside sandbox.sh's loopback-only network namespace
        if (!host.equals(HOST) && System.getenv("LOGSCAN_SANDBOX") == null)
            throw new IllegalStateException("wrong-host scenario outside the sandbox");
        Properties p = new Properties();
        p.put("mail.smtp.host", host);
        p.put("mail.smtp.port", String.valueOf(port));
        p.put("mail.smtp.connectiontimeout", "5000");
        p.put("mail.smtp.timeout", "3000");
        p.put("mail.smtp.starttls.enable", String.valueOf(starttls));
        p.put("mail.smtp.starttls.required", String.valueOf(requireTls));
        if (ssl) p.put("mail.smtp.ssl.enable", "true");
        if (trustAll) p.put("mail.smtp.ssl.trust", "*");
        Session session;
        if (user != null) {
            p.put("mail.smtp.auth", "true");
            session = Session.getInstance(p, new Authenticator() {
                protected PasswordAuthentication getPasswordAuthentication() {
                    return new PasswordAuthentication(user, pass);
                }
            });
        } else {
            session = Session.getInstance(p);
        }
        MimeMessage m = new MimeMessage(session);
        m.setFrom(new InternetAddress(from));
        m.setRecipients(Message.RecipientType.TO, rcpt);
        m.setSubject("Your order");
        m.setText("Thank you.\n" + "x".repeat(size));
        Transport.send(m);
    }

    public static void main(String[] args) {
        Object[][] s = {
            {"order 3001", 2525, "sam@gmail-like.example", true, false, false, null, null, 0, true},
            {"order 3002", 2525, "nouser@gmail-like.example", true, false, false, null, null, 0, true},
            {"password reset", 2534, "relay@authfail.example.org", false, false, false, "shop@example.com", "wrong", 0, false},
            {"order 3003", 2599, "x@refused.example.org", false, false, false, null, null, 0, false},
            {"order 3004", 2530, "p@silent.example.org", false, false, false, null, null, 0, false},
            {"order 3005", 2526, "y@outlook-like.example", false, false, true, null, null, 0, false},
            {"invoice 91", 2532, "p@selfsigned.example.org", true, true, false, null, null, 0, false},
            {"invoice 92", 2533, "p@notls.example.org", true, true, false, null, null, 0, false},
            {"catalogue", 2525, "toolarge@gmail-like.example", true, false, false, null, null, 60000, true},
            {"order 3006", 2534, "relay@authfail.example.org", false, false, false, null, null, 0, false},
            {"order 3007", 2535, "relay@apppass.example.org", false, false, false, "shop@gmail-like.example", "account-password", 0, false},
            {"order 3008", 2536, "friend@elsewhere.example", false, false, false, null, null, 0, false},
            {"order 3009", 2537, "customer@elsewhere.example", true, true, false, "shop@contoso-like.example", "the-right-password", 0, true, "noreply@contoso-like.example"},
            {"order 3010", 2538, "sam@gmail-like.example", true, false, false, null, null, 0, false},
            {"order 3011", 2525, "sam@gmail-like.example", true, false, false, null, null, 0, true, "shop@example.com", "smtp.gmial-like.example"},
        };
        LOG.info("mail worker started");
        for (Object[] c : s) {
            String what = (String) c[0];
            LOG.info("sending " + what + " to " + c[2]);
            try {
                send(what, c.length > 11 ? (String) c[11] : HOST, (Integer) c[1], (String) c[2], (Boolean) c[3], (Boolean) c[4], (Boolean) c[5],
                     (String) c[6], (String) c[7], (Integer) c[8], (Boolean) c[9],
                     c.length > 10 ? (String) c[10] : "shop@example.com");
                LOG.info("sent " + what);
            } catch (Exception e) {
                LOG.log(Level.SEVERE, "could not send " + what, e);
            }
        }
        LOG.info("mail worker finished");
    }
}
