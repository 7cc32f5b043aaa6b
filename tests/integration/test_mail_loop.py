"""End to end: the mail loop with the real heard, a real SMTP server (the
sink), a real IMAP server (Dovecot) and the fake Open311 channel.

A new request on the channel is polled and the lead gets a notification;
replies made from genuine client mails (Gmail on Android, Apple Mail on
iOS, and an Outlook top-post), with only their To, From, Message-ID and
In-Reply-To changed, are put in the Dovecot mailbox and relayed once each;
refusals post nothing and are answered; `heard mail-in` takes a mail on
stdin; a daemon killed mid-post never posts twice. Every wait is on a
condition, never a bare sleep.
"""

import hashlib
import hmac
import os
import quopri
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from dovecot import Dovecot  # noqa: E402
from fake_open311 import FakeOpen311  # noqa: E402
from harness import HEARD, SOURCE_DIR, Heard, wait_for  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

KEY = "s3cret-open311-key"
DOMAIN = "reply.example.nhs.uk"
LEAD = "pat.lead@example.nhs.uk"
REVIEWER = "rex.review@example.nhs.uk"
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures", "email", "replies")


def fixture(*path):
    with open(os.path.join(FIXTURES, *path), "rb") as f:
        return f.read()


def readdress(raw, frm, to, msgid, in_reply_to):
    """raw with only To, From, Message-ID and In-Reply-To replaced."""
    m = re.search(rb"\r?\n\r?\n", raw)
    head, body = raw[:m.start()], raw[m.start():]
    eol = b"\r\n" if b"\r\n" in head else b"\n"
    drop = (b"to", b"from", b"message-id", b"in-reply-to")
    kept, skip = [], False
    for line in re.split(rb"\r?\n", head):
        if line[:1] not in (b" ", b"\t"):
            skip = line.split(b":", 1)[0].strip().lower() in drop
        if not skip:
            kept.append(line)
    new = [b"From: " + frm.encode(), b"To: " + to.encode(),
           b"Message-ID: <" + msgid.encode() + b">",
           b"In-Reply-To: <" + in_reply_to.encode() + b">"]
    return eol.join(new + kept) + body


def outlook(frm, to, msgid, in_reply_to, subject):
    """email_reply_parser's genuine Outlook body, in Outlook's headers."""
    body = quopri.encodestring(fixture("email_reply_parser",
                                       "email_2_1.txt")).replace(b"\n",
                                                                 b"\r\n")
    head = ["From: Pat Lead <%s>" % frm, "To: heard <%s>" % to,
            "Subject: RE: %s" % subject,
            "Thread-Topic: %s" % subject,
            "Thread-Index: AQHaDx2bq7nN0m5cS0uYb1G2fJ0bXw==",
            "Date: Fri, 1 May 2026 12:05:00 +0000",
            "Message-ID: <%s>" % msgid,
            "References: <%s>" % in_reply_to,
            "In-Reply-To: <%s>" % in_reply_to,
            "Accept-Language: en-GB, en-US",
            "Content-Language: en-GB",
            "X-MS-Has-Attach:", "X-MS-TNEF-Correlator:",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def visible(text):
    """Text as a reader sees it: no spaces at line ends (the iOS mail's
    quoted-printable keeps one, "=20", which Discourse's expected text
    does not)."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def expected(name):
    return visible(fixture("discourse", "expected", name).decode())


class MailLoopCase(unittest.TestCase):
    """A channel with one request, a lead and a reviewer of RJ1, a
    daemon with SMTP out and IMAP in, polled every second."""

    def setUp(self):
        self.srv = FakeOpen311(api_key=KEY)
        self.keydir = tempfile.TemporaryDirectory(prefix="heard-key-")
        self.sink = SmtpSink(os.path.join(self.keydir.name, "sink")).start()
        self.imap = Dovecot()
        self.secret = os.urandom(32)
        self.secret_file = os.path.join(self.keydir.name, "secret")
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, self.secret)
        os.close(fd)
        self.h = Heard(self.config())
        self.h.add_org()
        self.h.run("users", "add", LEAD, "--name", "Pat Lead", "--role",
                   "lead", "--org", "RJ1", "--notify", "conversation")
        self.h.run("users", "add", REVIEWER, "--name", "Rex Review",
                   "--role", "reviewer", "--org", "RJ1", "--notify",
                   "none")
        self.sid = self.h.add_source("RJ1", "care-connect",
                                     endpoint=self.srv.endpoint, api_key=KEY)
        # The first poll is history (one summary at most); then a new one.
        self.h.run("poll", str(self.sid))
        self.srv.add_request(638344, "2026-05-01T09:00:00Z",
                             service_name="Outpatients",
                             description="Nobody called me back.")
        self.h.run("poll", str(self.sid))
        t = self.h.threads()[0]
        self.tid, self.ref = t["id"], t["reference"]

    def config(self):
        return ("[poll]\nbackoff_base = 1s\n[http]\nbase_url = "
                "https://inbox.example.nhs.uk\n[mail]\nsmtp_url = %s\n"
                "smtp_starttls = no\nfrom = heard <heard@example.nhs.uk>\n"
                "reply_domain = %s\nsecret_file = %s\nimap_url = %s\n"
                "imap_user = %s\nimap_password_file = %s\n"
                "imap_interval = 1s\n" %
                (self.sink.url, DOMAIN, self.secret_file, self.imap.url,
                 self.imap.user, self.imap.password_file))

    def tearDown(self):
        self.h.close()
        self.imap.stop()
        self.sink.stop()
        self.keydir.cleanup()
        self.srv.close()

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                return con.execute(query, args).fetchall()
        finally:
            con.close()

    def user_id(self, mail):
        return self.sql("SELECT id FROM users WHERE email = ?", mail)[0][0]

    def token(self, tid, uid):
        mac = hmac.new(self.secret, b"heard-reply-v1:%d.%d" % (tid, uid),
                       hashlib.sha256).hexdigest()[:32]
        return "reply+%d.%d.%s@%s" % (tid, uid, mac, DOMAIN)

    def mails_to(self, rcpt):
        return [m for env, m in self.sink.messages()
                if rcpt.lower() in [r.lower() for r in env["rcpt_tos"]]]

    def notification(self):
        """The lead's mail about the new conversation."""
        return wait_for(lambda: [m for m in self.mails_to(LEAD)
                                 if self.ref in m["Subject"]
                                 and "Your reply" not in m["Subject"]],
                        20, "the notification")[0]

    def rounds(self):
        return self.h.log_text().count("imap: %s: round done" %
                                       self.imap.url)

    def wait_rounds(self, n=2):
        """n more IMAP rounds have ended: anything waiting was read."""
        start = self.rounds()
        wait_for(lambda: self.rounds() >= start + n, 20,
                 "%d IMAP rounds" % n)


class RelayTest(MailLoopCase):

    def test_notification_replies_relayed_once_and_confirmed(self):
        self.h.start()
        note = self.notification()
        reply_to = note["Reply-To"].addresses[0].addr_spec
        self.assertEqual(reply_to, self.token(self.tid, self.user_id(LEAD)))
        self.assertEqual(note["Auto-Submitted"], "auto-generated")
        self.assertIsNotNone(note["List-Unsubscribe"])
        self.assertIn(self.ref, note["Subject"])
        nid = note["Message-ID"].strip("<>")
        gmail = readdress(fixture("discourse", "android_gmail.eml"),
                          "Pat Lead <%s>" % LEAD, reply_to,
                          "gmail-1@mail.gmail.com", nid)
        ios = readdress(fixture("discourse", "ios_default.eml"),
                        "Pat Lead <%s>" % LEAD.upper(), reply_to,
                        "ios-1@icloud.com", nid)
        olk = outlook(LEAD, reply_to, "DB7PR01MB1@DB7PR01.outlook.com",
                      nid, note["Subject"])
        for m in (gmail, ios, olk):
            self.imap.deliver(m)
        wait_for(lambda: len(self.srv.posts) == 3, 30, "three POSTs")
        self.wait_rounds()
        self.assertEqual(len(self.srv.posts), 3)
        got = [p["form"]["description"] for p in self.srv.posts]
        self.assertEqual([visible(g) for g in got], [expected("android_gmail.txt"),
                               expected("ios_default.txt"),
                               "Outlook with a reply"])
        replies = wait_for(lambda: [r for r in self.h.thread(self.tid)
                                    ["replies"] if r["status"] == "posted"]
                           if len(self.h.thread(self.tid)["replies"]) == 3
                           and all(r["status"] == "posted" for r in
                                   self.h.thread(self.tid)["replies"])
                           else None, 20, "three posted replies")
        self.assertEqual([r["body"] for r in replies], got)
        self.assertEqual({r["via"] for r in replies}, {"email"})
        text = self.h.run("thread", str(self.tid)).stdout
        self.assertIn("Outlook with a reply", text)
        self.assertNotIn("Google Apps Sync", text)
        # The sender hears of each: three confirmations at the sink.
        confirmations = wait_for(
            lambda: [m for m in self.mails_to(LEAD)
                     if "Your reply: posted" in m["Subject"]]
            if len([m for m in self.mails_to(LEAD)
                    if "Your reply: posted" in m["Subject"]]) == 3
            else None, 30, "three confirmations")
        self.assertEqual(len(confirmations), 3)
        self.assertEqual(self.sql("SELECT outcome, via, count(*) FROM "
                                  "mail_in GROUP BY 1, 2"),
                         [("accepted", "imap", 3)])
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 3)


class RefusalTest(MailLoopCase):

    def test_refused_and_dropped_post_nothing(self):
        self.h.start()
        note = self.notification()
        nid = note["Message-ID"].strip("<>")
        mine = self.token(self.tid, self.user_id(LEAD))
        at = mine.index("@")
        forged = mine[:at - 1] + ("0" if mine[at - 1] != "0" else "1") + \
            mine[at:]
        body = fixture("discourse", "android_gmail.eml")
        cases = [
            ("forged@x", LEAD, forged,
             "its signature does not verify"),
            ("stranger@x", "someone@example.com", mine,
             "not the staff member this reply address was made for"),
            ("theirs@x", LEAD, self.token(self.tid,
                                          self.user_id(REVIEWER)),
             "not the staff member this reply address was made for"),
            ("reviewer@x", REVIEWER, self.token(self.tid,
                                                self.user_id(REVIEWER)),
             "may not reply for RJ1 (a read-only reviewer)"),
        ]
        for msgid, frm, to, _ in cases:
            self.imap.deliver(readdress(body, frm, to, msgid, nid))
        self.imap.deliver(readdress(fixture("discourse", "auto_reply.eml"),
                                    LEAD, mine, "auto@x", nid))
        wait_for(lambda: self.sql("SELECT count(*) FROM mail_in")[0][0] == 5,
                 30, "five mails settled")
        self.wait_rounds()
        log = self.h.log_text().splitlines()
        for msgid, frm, _, why in cases:
            head = "mail-in: %s from %s refused: " % (msgid, frm.lower())
            line = [x for x in log if head in x]
            self.assertEqual(len(line), 1, head)
            self.assertIn(why, line[0])
        log = "\n".join(log)
        self.assertIn("mail-in: auto@x from %s dropped: machine-made "
                      "(auto-submitted)" % LEAD, log)
        self.assertEqual(self.sql("SELECT message_id, outcome FROM mail_in "
                                  "ORDER BY id"),
                         [(c[0], "refused") for c in cases] +
                         [("auto@x", "dropped")])
        self.assertEqual(self.srv.posts, [])
        self.assertEqual(self.h.thread(self.tid)["replies"], [])
        # One explanation to each sender (one an hour to one address).
        for rcpt in (LEAD, "someone@example.com", REVIEWER):
            wait_for(lambda: [m for m in self.mails_to(rcpt)
                              if m["Subject"].startswith("Re: ")], 20,
                     "the refusal to %s" % rcpt)
        self.assertEqual(self.sql("SELECT count(*) FROM mails WHERE "
                                  "kind = 'refusal'"), [(3,)])
        self.assertEqual(self.h.stop(), 0)


class PipeTest(MailLoopCase):

    def pipe(self, data, *args):
        return subprocess.run([HEARD, "-c", self.h.conf] + list(args) +
                              ["mail-in"], input=data, capture_output=True,
                              timeout=60)

    def test_mail_in_on_stdin(self):
        mine = self.token(self.tid, self.user_id(LEAD))
        m = readdress(fixture("discourse", "ios_default.eml"), LEAD, mine,
                      "pipe-1@icloud.com", "n@x")
        p = self.pipe(m)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.decode(),
                         r"^accepted: pipe-1@icloud.com is reply \d+ on "
                         r"thread %d\n$" % self.tid)
        p = self.pipe(m)
        self.assertEqual((p.returncode, p.stdout.decode()),
                         (0, "duplicate: pipe-1@icloud.com was seen "
                          "before; nothing done\n"))
        # A refusal is handled too: the MTA must not bounce it.
        p = self.pipe(readdress(m, "someone@example.com", mine,
                                "pipe-2@x", "n@x"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.decode().startswith("refused: pipe-2@x: "))
        self.assertEqual(self.pipe(b"").returncode, 65)
        self.assertEqual(self.pipe(b"x" * (8 * 1024 * 1024 + 1)).returncode,
                         65)
        # The store cannot be written: the MTA is to try again later.
        p = self.pipe(m.replace(b"pipe-1", b"pipe-3"), "--db",
                      os.path.join(self.h.dir.name, "none", "x.db"))
        self.assertEqual(p.returncode, 75, p.stderr)
        # So is a config that does not load: the mail is kept, not bounced.
        bad = os.path.join(self.h.dir.name, "bad.conf")
        with open(bad, "w") as f:
            f.write("[mail]\nper_hour = many\n")
        p = subprocess.run([HEARD, "-c", bad, "mail-in"], input=m,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertIn(b"bad.conf:2", p.stderr)
        self.assertEqual(self.sql("SELECT via, outcome FROM mail_in "
                                  "ORDER BY id"),
                         [("pipe", "accepted"), ("pipe", "refused")])
        # The running daemon relays it, once.
        self.h.start()
        wait_for(lambda: self.srv.posts, 20, "the POST")
        self.assertEqual([visible(p["form"]["description"])
                          for p in self.srv.posts],
                         [expected("ios_default.txt")])
        self.wait_rounds()
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 1)


class KillTest(MailLoopCase):

    def test_killed_mid_post_never_posts_twice(self):
        release = threading.Event()
        real = self.srv.post_update

        def held(form, ext):
            release.wait(30)
            return real(form, ext)
        self.srv.post_update = held
        self.h.start()
        note = self.notification()
        m = readdress(fixture("discourse", "android_gmail.eml"), LEAD,
                      note["Reply-To"].addresses[0].addr_spec,
                      "kill-1@mail.gmail.com", note["Message-ID"][1:-1])
        self.imap.deliver(m)
        wait_for(lambda: self.srv.posts, 30, "the POST")
        self.h.stop(signal.SIGKILL)
        release.set()
        # Even if the mailbox were read again from the start...
        self.sql("DELETE FROM imap_state")
        self.h.start()
        self.wait_rounds()
        r = wait_for(lambda: [x for x in self.h.thread(self.tid)["replies"]
                              if x["status"] == "unknown"], 20,
                     "the reply marked unknown")
        self.assertEqual(len(r), 1)
        self.assertIn("mail-in: kill-1@mail.gmail.com seen before; "
                      "skipped", self.h.log_text())
        # ...and the MTA delivered it as well: still one.
        p = subprocess.run([HEARD, "-c", self.h.conf, "mail-in"], input=m,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"duplicate", p.stdout)
        self.wait_rounds()
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 1)
        self.assertEqual(self.sql("SELECT count(*) FROM reply_outbox"),
                         [(1,)])
        self.assertEqual(self.sql("SELECT count(*) FROM mail_in"), [(1,)])


class ImapTest(MailLoopCase):

    def reply(self, msgid):
        return readdress(fixture("discourse", "android_gmail.eml"), LEAD,
                         self.token(self.tid, self.user_id(LEAD)), msgid,
                         "n@x")

    def test_refused_login_backs_off_logged_once_then_recovers(self):
        with open(self.imap.password_file, "w") as f:
            f.write("not-the-password\n")
        self.imap.deliver(self.reply("late@x"))
        self.h.start()
        self.h.wait_log("(failure 2 in a row)")
        warned = [x for x in self.h.log_text().splitlines()
                  if "imap: %s: " % self.imap.url in x and "warning" in x]
        self.assertEqual(len(warned), 1, warned)
        self.assertIn("trying again in 1s", warned[0])
        self.assertEqual(self.srv.posts, [])
        # The password file is read at each round: no restart needed.
        with open(self.imap.password_file, "w") as f:
            f.write(self.imap.password + "\n")
        self.h.wait_log("imap: %s: working again after" % self.imap.url)
        wait_for(lambda: self.srv.posts, 20, "the POST")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len([x for x in self.h.log_text().splitlines()
                              if "imap: %s: " % self.imap.url in x and
                              "warning" in x]), 1)

    def test_new_uidvalidity_reads_again_posts_once(self):
        self.h.start()
        self.imap.deliver(self.reply("uv@x"))
        wait_for(lambda: self.srv.posts, 20, "the POST")
        self.wait_rounds(1)
        (validity,), = self.sql("SELECT uidvalidity FROM imap_state")
        # As if the mailbox were rebuilt: heard reads it from UID 1.
        self.sql("UPDATE imap_state SET uidvalidity = 7")
        self.h.wait_log("UIDVALIDITY is %d, was 7: reading it again from "
                        "UID 1" % validity)
        self.h.wait_log("mail-in: uv@x seen before; skipped")
        self.wait_rounds(2)
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 1)
        self.assertEqual(self.sql("SELECT uidvalidity, last_uid FROM "
                                  "imap_state"), [(validity, 1)])


if __name__ == "__main__":
    unittest.main()
