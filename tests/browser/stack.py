"""Starts a real heard for the browser tests and says how to reach it.

It makes a temporary database with the NHS trust list, three staff
accounts (admin, a lead and a reviewer of RJ1), and sources for RJ1 on
local fake channels: a feed with an ordinary post and a hostile one
(script and onerror markup, a javascript: link), a Care Connect
(Open311) server heard posts replies to, and a Care Opinion API whose
replies become tasks. Everything is polled once, then `heard serve`
runs on a free port of 127.0.0.1 with the shipped web/ as its web root,
mailing through a real SMTP server on 127.0.0.1 (smtp_sink.py).

It prints one JSON line (base URL, accounts, thread ids, the sign-up
feed) and then answers commands on stdin, one a line, with one JSON
line each:
    open311_posts   the reply posts the fake Open311 server received
    log             the daemon's log so far
    invite EMAIL    the invitation link mailed to EMAIL (waits for it)
EOF at stdin (or SIGTERM) stops the daemon and removes everything.
"""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from fake_care_opinion import FakeCareOpinion  # noqa: E402
from fake_open311 import FakeOpen311  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from harness import HEARD, SOURCE_DIR, Heard, wait_for  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402
from xml.sax.saxutils import escape  # noqa: E402

PASSWORD = "browser-tests-are-long-enough-1"
MANY = 55
O311_KEY = "browser-open311-key"
CO_KEY = "browser-care-opinion-key"
USERS = {
    "admin": ("admin@example.nhs.uk", "Ada Admin", "admin", None),
    "lead": ("lead@example.nhs.uk", "Lee Lead", "lead", "RJ1"),
    "reviewer": ("reviewer@example.nhs.uk", "Rita Reviewer", "reviewer",
                 "RJ1"),
}
# What a patient typed into a feedback form, as the site showed it: the
# HTML page escaped it, and the feed escaped the HTML once more.
HOSTILE_TEXT = ("<script>alert(1)</script> The ward was dirty "
                "<img src=x onerror=alert(1)> and nobody came.")
HOSTILE_TITLE = "<img src=x onerror=alert(1)> Dirty ward"


def feed(title, items):
    """RSS 2.0; items: (guid, title, html description, link, date)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">'
           '<channel><title>%s</title><link>https://example.org/</link>'
           '<description>patient feedback</description>' % escape(title)]
    for guid, t, html, link, date in items:
        out.append("<item><title>%s</title><link>%s</link>"
                   "<guid isPermaLink=\"false\">%s</guid><pubDate>%s"
                   "</pubDate><description>%s</description></item>" %
                   (escape(t), escape(link), escape(guid), date,
                    escape(html)))
    out.append("</channel></rss>\n")
    return "".join(out).encode("utf-8")


class Stack:
    def __init__(self):
        self.feeds = FeedServer()
        self.o311 = FakeOpen311(api_key=O311_KEY)
        self.co = FakeCareOpinion(key=CO_KEY)
        web = os.path.join(SOURCE_DIR, "web")
        self.h = Heard()
        self.sink = SmtpSink(os.path.join(self.h.dir.name, "sink")).start()
        secret = os.path.join(self.h.dir.name, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "wb") as f:
            f.write(os.urandom(32))
        self.h.write_config(
            "[http]\nweb_root = %s\nbase_url = %s\n"
            "[mail]\nsmtp_url = %s\nfrom = heard <heard@example.nhs.uk>\n"
            "reply_domain = reply.example.nhs.uk\nsecret_file = %s\n" %
            (web, self.h.url, self.sink.url, secret))
        self.h.add_org()

    def users(self):
        out = {}
        for key, (email, name, role, org) in USERS.items():
            args = ["users", "add", email, "--name", name, "--role", role,
                    "--password-stdin"] + (["--org", org] if org else [])
            p = subprocess.run([HEARD, "-c", self.h.conf] + args,
                               input=PASSWORD + "\n", capture_output=True,
                               text=True, timeout=60)
            if p.returncode != 0:
                raise SystemExit("stack: heard users add %s: %s" %
                                 (email, p.stderr.strip()))
            out[key] = {"email": email, "name": name, "password": PASSWORD}
        return out

    def sources(self):
        self.feeds.put("/rj1.rss", feed("Guy's patient stories", [
            ("rj1-kind", "Kind nurses on ward 7",
             "<p>The nurses on ward 7 were <b>kind</b> and quick.</p>",
             "https://example.org/stories/kind", "Mon, 16 Nov 2026 "
             "09:00:00 +0000"),
            ("rj1-hostile", escape(HOSTILE_TITLE), escape(HOSTILE_TEXT),
             "javascript:alert(1)", "Tue, 17 Nov 2026 09:00:00 +0000"),
        ]))
        self.feeds.put("/rjz.rss", feed("King's patient stories", [
            ("rjz-parking", "Parking at Denmark Hill",
             "<p>Forty minutes to find a space.</p>",
             "https://example.org/stories/parking", "Wed, 18 Nov 2026 "
             "09:00:00 +0000"),
        ]))
        # Enough for more than one page of the inbox (50 a page).
        self.feeds.put("/ryj.rss", feed("Imperial patient stories", [
            ("ryj-%02d" % n, "Outpatients visit %02d" % n,
             "<p>Visit number %d went well.</p>" % n,
             "https://example.org/stories/ryj-%d" % n,
             "Sun, %02d Nov 2026 %02d:00:00 +0000" % (1 + n // 24, n % 24))
            for n in range(MANY)]))
        self.o311.add_request(880001, "2026-11-18T10:00:00Z",
                              service_name="Waiting times",
                              description="Waited four hours for a "
                              "wheelchair at outpatients.")
        guys = {"nacs": "RJ1", "name": "Guy's and St Thomas'",
                "type": "trust"}
        self.co.add_story("Lost appointment letter",
                          "Nobody could tell me when my scan was.", [guys])
        good = [
            self.h.add_source("RJ1", "rss", url=self.feeds.url("/rj1.rss")),
            self.h.add_source("RYJ", "rss", url=self.feeds.url("/ryj.rss")),
        ]
        good.append(self.h.add_source(
            "RJ1", "care-connect", endpoint=self.o311.endpoint,
            api_key=O311_KEY))
        good.append(self.h.add_source(
            "RJ1", "care-opinion", url=self.co.base,
            subscription_key=CO_KEY, nacs="RJ1"))
        for sid in good:
            self.h.run("poll", str(sid))
        # A source that fails, for the health page.
        self.feeds.put("/gone.rss", b"")
        self.feeds.fault("/gone.rss", kind="status", status=503,
                         body=b"Service Unavailable")
        bad = self.h.add_source("RYJ", "rss", url=self.feeds.url("/gone.rss"))
        if self.h.run("poll", str(bad), check=False).returncode == 0:
            raise SystemExit("stack: the 503 feed polled without an error")

    def threads(self):
        """Thread ids by what the tests need, and the hostile one's text
        as stored (it must still be hostile once stored)."""
        out = {}
        for t in self.h.threads("RJ1"):
            out.setdefault(t["connector"], []).append(t)
        rss = {t["subject"]: t for t in out.get("rss", [])}
        hostile = next(t for s, t in rss.items() if "Dirty ward" in s)
        body = self.h.thread(hostile["id"])["items"][0]["body"]
        for needle, text in (("<script>alert(1)</script>", body),
                             ("onerror=alert(1)", body),
                             ("<img src=x onerror=alert(1)>",
                              hostile["subject"])):
            if needle not in text:
                raise SystemExit("stack: the hostile post was stored as "
                                 "%r, without %r" % (text, needle))
        return {
            "kind": rss["Kind nurses on ward 7"]["id"],
            "hostile": hostile["id"],
            "hostile_subject": hostile["subject"],
            "hostile_body": body,
            "api": out["care-connect"][0]["id"],
            "handoff": out["care-opinion"][0]["id"],
            # a conversation of another trust, for guessing its id
            "other": self.h.threads("RYJ")[0]["id"],
        }

    def serve(self):
        self.h.start()

        def up():
            try:
                with urllib.request.urlopen(self.h.url + "/healthz",
                                            timeout=2) as r:
                    return r.status == 200
            except OSError:
                if self.h.daemon.poll() is not None:
                    raise SystemExit("stack: heard serve exited:\n" +
                                     self.h.log_text()[-3000:])
                return False
        wait_for(up, 60, "heard serve to answer /healthz")

    def invite(self, email):
        """The #/invite/ link in the last mail to email."""
        def find():
            for env, msg in reversed(self.sink.messages()):
                if email not in env["rcpt_tos"]:
                    continue
                body = msg.get_body(("plain", "html"))
                m = re.search(r"https?://[^\s\"<>]*#/invite/[A-Za-z0-9_.~-]+",
                              body.get_content() if body else "")
                if m:
                    return m.group(0)
            return None
        return {"link": wait_for(find, 30, "an invitation to " + email)}

    def command(self, line):
        if line.startswith("invite "):
            return self.invite(line[len("invite "):])
        if line == "open311_posts":
            with self.o311.lock:
                return {"posts": [p["form"] for p in self.o311.posts]}
        if line == "log":
            return {"log": self.h.log_text()}
        return {"error": "unknown command %r" % line}

    def close(self):
        """Stops everything; the daemon's exit status (None: killed)."""
        try:
            rc = self.h.stop()
        except Exception:
            rc = None
        self.sink.stop()
        self.h.close()
        for s in (self.feeds, self.o311, self.co):
            s.close()
        return rc


def main():
    st = Stack()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    rc = None
    try:
        users = st.users()
        st.sources()
        threads = st.threads()
        st.serve()
        print(json.dumps({
            "base": st.h.url,
            "users": users,
            "threads": threads,
            "many": {"org": "RYJ", "count": MANY},
            "signup": {"org": "RJZ", "query": "king's college",
                       "lead": "pals.kings@example.nhs.uk",
                       "feed": st.feeds.url("/rjz.rss"),
                       "subject": "Parking at Denmark Hill"},
        }), flush=True)
        for line in sys.stdin:
            line = line.strip()
            if line:
                try:
                    answer = st.command(line)
                except AssertionError as e:
                    answer = {"error": str(e)}
                print(json.dumps(answer), flush=True)
    finally:
        log = st.h.log_text() if st.h.daemon is not None else ""
        rc = st.close()
    # A daemon that did not stop cleanly on SIGTERM (a sanitizer's
    # report, say) fails the run.
    if rc != 0:
        sys.stderr.write("stack: heard serve exited with %s\n%s" %
                         (rc, log[-3000:]))
        sys.exit(2)


if __name__ == "__main__":
    main()
