"""End to end: items on a fake channel become notification mails that a
real SMTP server (aiosmtpd, smtp_sink.py) receives from the real daemon."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from feedserver import rss  # noqa: E402
from harness import HeardTestCase, wait_for  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

LEAD = "lead@trust.nhs.uk"
DOMAIN = "reply.heard.nhs.uk"
BASE = "https://heard.trust.nhs.uk"
MSGID = re.compile(r"^<heard\.t(\d+)\.m(\d+)@%s>$" % re.escape(DOMAIN))
REPLY_TO = re.compile(r"^reply\+(\d+)\.(\d+)\.[0-9a-f]{32}@%s$" %
                      re.escape(DOMAIN))
# A patient's words with markup in them, as text: the feed escapes twice.
HOSTILE = "&amp;lt;/p&amp;gt;&amp;lt;script&amp;gt;alert(1)" \
          "&amp;lt;/script&amp;gt; Rude &amp;amp; slow"


def story(n, body=None, title=None):
    return {"guid": "story-%d" % n, "title": title or "Story %d" % n,
            "body": body or "Words of patient %d." % n}


class NotifyBase(HeardTestCase):
    """A daemon that mails through the sink, and one lead of RJ1."""

    per_hour = 12

    def setUp(self):
        super().setUp()
        self.sink = self.make_sink().start()
        secret = os.path.join(self.h.dir.name, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "wb") as f:
            f.write(os.urandom(32))
        self.h.write_config(
            "[http]\nbase_url = %s\n"
            "[mail]\nsmtp_url = %s\nfrom = heard <heard@trust.nhs.uk>\n"
            "reply_domain = %s\nsecret_file = %s\nper_hour = %d\n"
            "digest_hour = 0\n%s" % (BASE, self.sink.url, DOMAIN, secret,
                                     self.per_hour, self.mail_config()))
        self.h.run("users", "add", LEAD, "--role", "lead", "--name",
                   "Lee Lead", "--org", "RJ1", "--notify", "message")

    def make_sink(self):
        return SmtpSink(os.path.join(self.h.dir.name, "sink"))

    def mail_config(self):
        return ""

    def tearDown(self):
        self.sink.stop()
        super().tearDown()

    def db(self, sql, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def feed(self, items, path="/rj1.rss", **settings):
        self.srv.put(path, rss("RJ1 stories", items))
        if not hasattr(self, "sid"):
            self.sid = self.h.add_source("RJ1", "rss",
                                         url=self.srv.url(path), **settings)
        return self.sid

    def first_poll_done(self):
        wait_for(lambda: self.db("SELECT backfill_done_at FROM sources "
                                 "WHERE id = ?", self.sid)[0][0],
                 what="the source's first poll")

    def db_write(self, sql):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                con.execute(sql)
        finally:
            con.close()

    def all_sent(self):
        return wait_for(lambda: self.db(
            "SELECT count(*) FROM mails WHERE status = 'queued'")[0][0] == 0
            and self.db("SELECT count(*) FROM notification_outbox "
                        "WHERE state = 'pending' AND kind <> 'backfill'"
                        )[0][0] == 0, what="every mail sent")


class NotifyTest(NotifyBase):

    def test_new_item_mail_headers_and_thread_chain(self):
        self.feed([story(1)], thread="feed")
        self.h.start()
        self.first_poll_done()
        summary = self.sink.wait_for(1)
        self.assertIn("1 earlier story was imported",
                      summary[0][1]["Subject"])

        self.feed([story(1), story(2, body=HOSTILE, title="Ward 5")])
        self.h.run("poll", str(self.sid))
        env, msg = self.sink.wait_for(2)[1]
        self.assertEqual(env["rcpt_tos"], [LEAD])
        self.assertEqual(env["mail_from"], "heard@trust.nhs.uk")
        ref = self.h.threads("RJ1")[0]["reference"]
        self.assertEqual(msg["Subject"], "[%s] New message at GUY'S AND "
                         "ST THOMAS' NHS FOUNDATION TRUST: RSS or Atom feed"
                         % ref)
        first_id = msg["Message-ID"]
        m = MSGID.match(first_id)
        self.assertIsNotNone(m, first_id)
        tid = self.h.threads("RJ1")[0]["id"]
        self.assertEqual(int(m.group(1)), tid)
        rt = REPLY_TO.match(str(msg["Reply-To"]))
        self.assertIsNotNone(rt, msg["Reply-To"])
        self.assertEqual(int(rt.group(1)), tid)
        self.assertEqual(msg["Auto-Submitted"], "auto-generated")
        self.assertEqual(msg["X-Heard-Loop"], "yes")
        self.assertEqual(msg["List-Unsubscribe"], "<%s/#/settings>" % BASE)
        self.assertIsNone(msg["In-Reply-To"])
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        self.assertIn("> </p><script>alert(1)</script> Rude & slow", text)
        self.assertIn("&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt; "
                      "Rude &amp; slow", html)
        self.assertNotIn("<script>", html)
        self.assertIn("%s/#/threads/%d" % (BASE, tid), text)
        self.assertIn(b"\r\n", msg.raw)
        self.assertNotIn(b"\n", msg.raw.replace(b"\r\n", b""))

        # The next message of that conversation answers the last mail.
        self.feed([story(1), story(2, body=HOSTILE), story(3)])
        self.h.run("poll", str(self.sid))
        env, third = self.sink.wait_for(3)[2]
        self.assertEqual(third["In-Reply-To"], first_id)
        self.assertEqual(str(third["References"]).split(), [first_id])
        self.assertNotEqual(third["Message-ID"], first_id)
        self.feed([story(1), story(2), story(3), story(4)])
        self.h.run("poll", str(self.sid))
        fourth = self.sink.wait_for(4)[3][1]
        self.assertEqual(fourth["In-Reply-To"], third["Message-ID"])
        self.assertEqual(str(fourth["References"]).split(),
                         [first_id, third["Message-ID"]])
        self.all_sent()
        self.assertEqual(self.h.stop(), 0)

    def test_first_poll_of_30_old_items_is_one_summary(self):
        self.feed([story(n) for n in range(30)])
        self.h.start()
        self.first_poll_done()
        self.sink.wait_for(1)
        self.all_sent()
        self.assertEqual(self.db("SELECT count(*) FROM mails")[0][0], 1)
        msgs = self.sink.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][1]["Subject"],
                         "[heard] RJ1 RSS or Atom feed: 30 earlier stories "
                         "were imported; nothing was mailed for each")
        self.assertEqual(len(self.h.threads("RJ1")), 30)
        self.assertEqual(self.h.stop(), 0)

    def test_kill_after_smtp_took_it_sends_again(self):
        self.feed([story(1)])
        self.h.start()
        self.first_poll_done()
        self.sink.wait_for(1)
        self.all_sent()
        # The server takes the mail but holds its 250 back; heard dies.
        self.sink.hold()
        self.feed([story(1), story(2)])
        self.h.run("poll", str(self.sid))
        wait_for(self.sink.holding.is_set, what="the sink holding a mail")
        self.h.stop(signal.SIGKILL)
        self.sink.release()
        held = self.sink.messages()[1][1]
        self.assertEqual(self.db("SELECT status FROM mails WHERE "
                                 "message_id = ?",
                                 held["Message-ID"][1:-1]),
                         [("queued",)])
        # At the next start it goes again, the same mail: at least once.
        self.h.start()
        again = self.sink.wait_for(3)[2][1]
        self.assertEqual(again["Message-ID"], held["Message-ID"])
        self.assertEqual(again.raw, held.raw)
        self.all_sent()
        self.assertEqual(self.db("SELECT status, attempts FROM mails WHERE "
                                 "message_id = ?",
                                 held["Message-ID"][1:-1]), [("sent", 1)])
        self.assertEqual(self.db("SELECT count(*) FROM notification_outbox "
                                 "WHERE state <> 'mailed'")[0][0], 0)
        self.assertEqual(self.h.stop(), 0)

    def test_sigterm_lets_a_send_in_flight_finish(self):
        self.feed([story(1)])
        self.sink.hold()
        self.h.start()
        wait_for(self.sink.holding.is_set, what="the sink holding a mail")
        self.h.daemon.send_signal(signal.SIGTERM)
        self.h.wait_log("stopping")
        self.sink.release()
        # It leaves by itself once the send is recorded.
        self.assertEqual(self.h.daemon.wait(20), 0)
        self.h.daemon = None
        self.h.logf.close()
        self.assertEqual(self.db("SELECT status FROM mails"), [("sent",)])
        self.assertNotIn("still sending", self.h.log_text())

    def test_a_source_paused_on_auth_tells_the_admins_once(self):
        self.h.run("users", "add", "admin@trust.nhs.uk", "--role", "admin")
        self.feed([story(1)])
        self.srv.fault("/rj1.rss", kind="status", status=401)
        self.h.start()
        env, msg = self.sink.wait_for(1)[0]
        self.assertEqual(env["rcpt_tos"], ["admin@trust.nhs.uk"])
        self.assertRegex(msg["Subject"],
                         r"^\[heard\] source %d \(RJ1 rss\) is paused$"
                         % self.sid)
        self.assertIn("auth: HTTP 401", msg.get_content())
        self.all_sent()
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.sink.messages()), 1)
        self.assertEqual(self.db("SELECT count(*) FROM mails")[0][0], 1)

    def test_refused_recipient_is_retried_later_and_logged(self):
        self.feed([story(1)])
        self.sink.reject(550, "5.1.1 mailbox unavailable")
        self.h.start()
        self.first_poll_done()
        row = wait_for(lambda: self.db(
            "SELECT attempts, last_error, next_attempt_at - created_at,"
            " status FROM mails WHERE attempts > 0"), what="a failed send")
        attempts, error, wait, status = row[0]
        self.assertEqual((attempts, status), (1, "queued"))
        self.assertIn("SMTP 550", error)
        self.assertGreaterEqual(wait, 30)
        self.h.wait_log("attempt 1, next in")
        self.assertNotIn("earlier", self.h.log_text())  # never the body
        self.assertEqual(self.h.stop(), 0)


class MailConfigTest(HeardTestCase):
    """Mail settings that do not hold together stop the daemon at once."""

    def serve_fails(self, extra, why):
        self.h.write_config(extra)
        p = self.h.run("serve", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(why, p.stderr)

    def secret(self, data, mode):
        path = os.path.join(self.h.dir.name, "secret-%o-%d" % (mode,
                                                                len(data)))
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, mode), "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def test_bad_secrets_and_missing_from_are_refused(self):
        mail = "[mail]\nsmtp_url = smtp://127.0.0.1:1\nfrom = h@x.nhs.uk\n"
        self.serve_fails(mail + "secret_file = %s\n" %
                         self.secret(os.urandom(32), 0o644), "chmod 600")
        self.serve_fails(mail + "secret_file = %s\n" %
                         self.secret(b"short", 0o600), "shorter than 32")
        self.serve_fails(mail + "secret_file = /nonexistent/key\n",
                         "/nonexistent/key: No such file")
        self.serve_fails(mail, "secret_file is not")
        self.serve_fails("[mail]\nsmtp_url = smtp://127.0.0.1:1\n"
                         "secret_file = %s\n" %
                         self.secret(os.urandom(40), 0o600), "from is not")

    def test_check_config_finds_what_serve_would_refuse(self):
        key = self.secret(os.urandom(32), 0o600)
        mail = ("[mail]\nsmtp_url = smtp://127.0.0.1:1\nfrom = h@x.nhs.uk\n"
                "secret_file = %s\n" % key)
        for extra, why in [
                ("", None),
                ("smtp_password_file = /nonexistent/pw\n",
                 "smtp_password_file /nonexistent/pw: No such file"),
                ("imap_url = imap://127.0.0.1:1/INBOX\n",
                 "imap_url needs reply_domain"),
                ("reply_domain = r.x.nhs.uk\nimap_url = "
                 "imap://127.0.0.1:1/INBOX\nimap_password_file = "
                 "/nonexistent/imap\n", "/nonexistent/imap")]:
            self.h.write_config(mail + extra)
            p = self.h.run("check-config", check=False)
            if why is None:
                self.assertEqual(p.returncode, 0, p.stderr)
            else:
                self.assertEqual(p.returncode, 1, extra)
                self.assertIn(why, p.stderr)
        self.h.write_config("[mail]\nsmtp_url = smtp://127.0.0.1:1\n"
                            "secret_file = %s\n" % key)
        p = self.h.run("check-config", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("from is not", p.stderr)

    def test_no_smtp_url_runs_without_mail(self):
        self.h.start()
        self.h.wait_log("no [mail] smtp_url: no mail is sent")
        self.assertEqual(self.h.stop(), 0)


class TlsAuthTest(NotifyBase):
    """STARTTLS and AUTH as a real relay asks for them."""

    def make_sink(self):
        cert = os.path.join(self.h.dir.name, "cert.pem")
        key = os.path.join(self.h.dir.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days",
                        "1", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True,
                       capture_output=True)
        self.cert = cert
        return SmtpSink(os.path.join(self.h.dir.name, "sink"),
                        tls=(cert, key), auth=("heard", "s3cret pass"))

    def mail_config(self):
        pw = os.path.join(self.h.dir.name, "smtp-password")
        with open(pw, "w") as f:
            f.write("s3cret pass\n")
        return ("smtp_starttls = yes\nsmtp_user = heard\n"
                "smtp_password_file = %s\n[poll]\nca_file = %s\n"
                % (pw, self.cert))

    def test_starttls_and_auth(self):
        self.feed([story(1)])
        self.h.start()
        env, msg = self.sink.wait_for(1)[0]
        self.assertTrue(env["tls"])
        self.assertEqual(env["login"], "heard")
        self.all_sent()
        self.assertNotIn("s3cret", self.h.log_text())
        self.assertEqual(self.h.stop(), 0)


class PlainServerTest(NotifyBase):
    """smtp_starttls = yes and a server without STARTTLS: nothing sent."""

    def mail_config(self):
        return "smtp_starttls = yes\n"

    def test_no_starttls_means_no_send(self):
        self.feed([story(1)])
        self.h.start()
        row = wait_for(lambda: self.db("SELECT last_error FROM mails "
                                       "WHERE attempts > 0"),
                       what="a refused send")
        self.assertIn("STARTTLS", row[0][0])
        self.assertEqual(self.sink.files(), [])
        self.assertEqual(self.h.stop(), 0)


class CapTest(NotifyBase):

    per_hour = 2

    def test_past_the_hourly_cap_the_rest_wait_for_the_digest(self):
        self.feed([story(0)])
        self.h.start()
        self.first_poll_done()
        self.sink.wait_for(1)
        self.feed([story(n) for n in range(6)])
        self.h.run("poll", str(self.sid))
        wait_for(lambda: self.db("SELECT count(*) FROM notification_outbox"
                                 " WHERE state = 'digest'")[0][0] == 3,
                 what="three held for the digest")
        self.all_sent()
        subjects = [m["Subject"] for _, m in self.sink.messages()]
        self.assertEqual(len(subjects), 3)	# summary and two
        # A day on (the rows made a day earlier), the digest goes.
        self.db_write("UPDATE notification_outbox SET created_at = "
                      "created_at - 86400 WHERE state = 'digest'")
        digest = self.sink.wait_for(4)[3][1]
        self.assertEqual(digest["Subject"], "[heard] Digest: 3 messages")
        text = digest.get_body(("plain",)).get_content()
        for n in (3, 4, 5):
            self.assertIn("Words of patient %d." % n, text)
        self.assertEqual(self.db("SELECT count(*) FROM notification_outbox"
                                 " WHERE state = 'digest'")[0][0], 0)
        self.assertEqual(self.h.stop(), 0)

if __name__ == "__main__":
    unittest.main()
