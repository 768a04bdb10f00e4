// go_smtp_scenarios: a small Go service that sends one message per scenario with the standard
// library's net/smtp to the scripted loopback server tools/samples/trouble_smtpd.py (127.0.0.1
// only) and logs what happened with the standard library's log package (the default
// "2006/01/02 15:04:05 " prefix) and, for some scenarios, log/slog's text handler, as Go
// services do. Run by tools/samples/make_gosmtp_samples.sh inside sandbox.sh's loopback-only
// network namespace (the wrong-host scenario gets NXDOMAIN from its stub DNS).
package main

import (
	"crypto/tls"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"
)

const host = "127.0.0.1" // never change: loopback only

type scenario struct {
	what, rcpt string
	port       int
	dialHost   string // another name only inside the sandbox
	starttls   *tls.Config
	implicit   bool
	auth       bool   // PLAIN with the given user and password
	serverName string // the name given to NewClient and PlainAuth (default: the dial host)
	user, pass string
	size       int
	timeout    time.Duration
	sender     string
	slog       bool // log the failure with log/slog's text handler instead of log
	slogJSON   bool // ... or with its JSON handler
	sendMail   bool // use smtp.SendMail (it picks STARTTLS and checks the AUTH extension itself)
}

func insecure() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

func send(s scenario) error {
	if s.sendMail {
		return smtp.SendMail(net.JoinHostPort(host, fmt.Sprint(s.port)), smtp.PlainAuth("", s.user, s.pass, host),
			"shop@example.com", []string{s.rcpt}, []byte("Subject: Your order\r\n\r\nThank you for your order.\r\n"))
	}
	dialHost := host
	if s.dialHost != "" {
		if os.Getenv("LOGSCAN_SANDBOX") == "" {
			return fmt.Errorf("wrong-host scenario outside the sandbox")
		}
		dialHost = s.dialHost
	}
	addr := net.JoinHostPort(dialHost, fmt.Sprint(s.port))
	timeout := s.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	var conn net.Conn
	var err error
	if s.implicit {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, &tls.Config{ServerName: "smtp.example.com"})
	} else {
		conn, err = net.DialTimeout("tcp", addr, timeout)
	}
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	name := s.serverName
	if name == "" {
		name = dialHost
	}
	c, err := smtp.NewClient(conn, name)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.starttls != nil {
		if err := c.StartTLS(s.starttls); err != nil {
			return err
		}
	}
	if s.auth {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, name)); err != nil {
			return err
		}
	}
	sender := s.sender
	if sender == "" {
		sender = "shop@example.com"
	}
	if err := c.Mail(sender); err != nil {
		return err
	}
	if err := c.Rcpt(s.rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: Your order\r\n\r\nThank you for your order.\r\n%s\r\n",
		sender, s.rcpt, strings.Repeat("x", s.size))
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func main() {
	log.SetOutput(os.Stdout)
	logger := slog.New(slog.NewTextHandler(os.Stdout, nil))
	jsonLogger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	scenarios := []scenario{
		{what: "order 1001 confirmation", port: 2525, rcpt: "sam@gmail-like.example", starttls: insecure()},
		{what: "order 1002 confirmation", port: 2525, rcpt: "nouser@gmail-like.example", starttls: insecure()},
		{what: "password reset", port: 2534, rcpt: "relay@authfail.example.org", auth: true, user: "shop@example.com", pass: "wrong"},
		{what: "order 1003 confirmation", port: 2599, rcpt: "x@refused.example.org"},
		{what: "order 1004 confirmation", port: 2530, rcpt: "p@silent.example.org", timeout: 3 * time.Second, slog: true},
		{what: "newsletter", port: 2531, rcpt: "p@hangup.example.org", slogJSON: true},
		{what: "order 1005 confirmation", port: 2526, rcpt: "y@outlook-like.example", implicit: true},
		{what: "invoice 77", port: 2532, rcpt: "p@selfsigned.example.org", starttls: &tls.Config{ServerName: "smtp.example.com"}},
		{what: "invoice 78", port: 2533, rcpt: "p@notls.example.org", starttls: insecure(), slog: true},
		{what: "catalogue", port: 2525, rcpt: "toolarge@gmail-like.example", starttls: insecure(), size: 60000},
		{what: "order 1006 confirmation", port: 2534, rcpt: "relay@authfail.example.org"},
		{what: "order 1007 confirmation", port: 2525, rcpt: "ratelimit@gmail-like.example", starttls: insecure()},
		{what: "order 1008 confirmation", port: 2535, rcpt: "relay@apppass.example.org", auth: true,
			user: "shop@gmail-like.example", pass: "account-password", slog: true},
		{what: "order 1009 confirmation", port: 2536, rcpt: "friend@elsewhere.example", slogJSON: true},
		{what: "order 1010 confirmation", port: 2537, rcpt: "customer@elsewhere.example", starttls: insecure(), auth: true,
			user: "shop@contoso-like.example", pass: "the-right-password", sender: "noreply@contoso-like.example"},
		{what: "order 1011 confirmation", port: 2538, rcpt: "sam@gmail-like.example", timeout: 3 * time.Second},
		{what: "order 1012 confirmation", port: 2525, rcpt: "sam@gmail-like.example", dialHost: "smtp.gmial-like.example"},
		// PlainAuth refuses to send a password in clear to a server that is not localhost
		{what: "order 1013 confirmation", port: 2534, rcpt: "relay@authfail.example.org", auth: true,
			serverName: "smtp.authfail.example.org", user: "shop@example.com", pass: "secret"},
		// AUTH asked of a server that offers none: Client.Auth sends it anyway, SendMail checks first
		{what: "order 1014 confirmation", port: 2533, rcpt: "p@notls.example.org", auth: true, user: "shop@example.com", pass: "secret"},
		{what: "order 1015 confirmation", port: 2533, rcpt: "p@notls.example.org", sendMail: true, user: "shop@example.com", pass: "secret"},
	}
	log.Printf("mailer: worker started, %d jobs queued", len(scenarios))
	for _, s := range scenarios {
		via := host
		if s.dialHost != "" {
			via = s.dialHost
		}
		log.Printf("mailer: sending %s to %s via %s:%d", s.what, s.rcpt, via, s.port)
		if err := send(s); err != nil {
			if s.slogJSON {
				jsonLogger.Error("mailer: could not send", "what", s.what, "rcpt", s.rcpt, "err", err)
			} else if s.slog {
				logger.Error("mailer: could not send", "what", s.what, "rcpt", s.rcpt, "err", err)
			} else {
				log.Printf("mailer: could not send %s to %s: %v", s.what, s.rcpt, err)
			}
			continue
		}
		log.Printf("mailer: sent %s", s.what)
	}
	log.Printf("mailer: worker finished")
}
