"""End to end: `heard reply` and the daemon's reply pipeline, real binary.

The api path runs against the fake Open311 server (care-connect, the one
connector heard posts on), the handoff path against the fake Care Opinion,
and the refusal against rss. Each wait is on a condition, never a sleep.
"""

import os
import signal
import sqlite3
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_care_opinion import FakeCareOpinion  # noqa: E402
from fake_open311 import FakeOpen311  # noqa: E402
from feedserver import FeedServer, rss  # noqa: E402
from harness import Heard, wait_for  # noqa: E402

KEY = "s3cret-open311-key"
STOPPED = ("the daemon stopped while posting; check the channel before "
           "retrying")


class ReplyCase(unittest.TestCase):

    def setUp(self):
        self.h = Heard("[poll]\nbackoff_base = 1s\n")
        self.h.add_org()

    def tearDown(self):
        self.h.close()

    def replies(self, tid):
        return self.h.thread(tid)["replies"]

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                return con.execute(query, args).fetchall()
        finally:
            con.close()

    def refused(self, *args):
        """Runs heard, which must fail with one line on stderr."""
        p = self.h.run(*args, check=False)
        self.assertNotEqual(p.returncode, 0, args)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("heard: "), lines[0])
        return lines[0]


class RefusalTest(ReplyCase):
    """What `heard reply` refuses, and that a refusal stores nothing."""

    def setUp(self):
        super().setUp()
        self.srv = FeedServer()
        self.srv.put("/f.rss", rss("RJ1", [{"guid": "s1", "title": "Food",
                                           "body": "Cold food."}]))
        sid = self.h.add_source("RJ1", "rss", url=self.srv.url("/f.rss"))
        self.h.run("poll", str(sid))
        self.tid = self.h.threads()[0]["id"]
        self.ref = self.h.threads()[0]["reference"]

    def tearDown(self):
        self.srv.close()
        super().tearDown()

    def test_rss_cannot_relay_replies(self):
        line = self.refused("reply", self.ref, "--body", "Sorry.")
        self.assertIn("rss cannot relay replies", line)
        self.assertIn(self.ref, line)
        self.assertEqual(self.replies(self.tid), [])
        self.assertEqual(self.h.thread(self.tid)["tasks"], [])
        self.assertEqual(self.sql("SELECT count(*) FROM audit_log"), [(0,)])


class ApiTest(ReplyCase):
    """care-connect: heard posts the reply itself, through the loop."""

    def setUp(self):
        super().setUp()
        self.srv = FakeOpen311(api_key=KEY)
        self.srv.add_request(638344, "2010-04-14T06:37:38-08:00",
                             service_name="Outpatients",
                             description="Nobody called me back.")
        self.sid = self.h.add_source("RJ1", "care-connect",
                                     endpoint=self.srv.endpoint,
                                     api_key=KEY)
        self.h.run("poll", str(self.sid))
        self.tid = self.h.threads()[0]["id"]

    def tearDown(self):
        self.srv.close()
        super().tearDown()

    def test_bad_input(self):
        path = os.path.join(self.h.dir.name, "body.txt")
        cases = [
            (["reply", "H-ZZZZZZ", "--body", "x"], "no thread 'H-ZZZZZZ'"),
            (["reply", str(self.tid)], "--body TEXT or --body-file"),
            (["reply", str(self.tid), "--body", " \n "], "is empty"),
            (["reply", str(self.tid), "--body", "x", "--frob"],
             "unknown option '--frob'"),
            (["reply", str(self.tid), "--body"], "--body needs a value"),
            (["reply", "--retry", "7"], "no reply 7"),
            (["reply", "--cancel", "x1"], "'x1' is not a reply id"),
            (["reply", str(self.tid), "--body-file", path + ".none"],
             "No such file"),
        ]
        for args, want in cases:
            self.assertIn(want, self.refused(*args))
        for body, want in [(b"x" * 10001, "10001 bytes long"),
                           (b"caf\xe9", "not UTF-8"),
                           (b"a\x00b", "NUL byte")]:
            with open(path, "wb") as f:
                f.write(body)
            self.assertIn(want, self.refused("reply", str(self.tid),
                                             "--body-file", path))
        self.assertEqual(self.sql("SELECT count(*) FROM reply_outbox"),
                         [(0,)])

    def outbound(self):
        return [i for i in self.h.thread(self.tid)["items"]
                if i["direction"] == "out"]

    def status(self, rid):
        return [r for r in self.replies(self.tid) if r["id"] == rid][0]

    def wait_status(self, rid, want, timeout=20):
        return wait_for(lambda: self.status(rid)["status"] == want and
                        self.status(rid), timeout, "reply %d %s" % (rid, want))

    def hold_posts(self):
        """Makes the server sit on each POST until released."""
        release = threading.Event()
        real = self.srv.post_update

        def held(form, ext):
            release.wait(30)
            return real(form, ext)
        self.srv.post_update = held
        return release

    def test_stopped_mid_post_is_unknown_not_resent(self):
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "We will call you today.").stdout)
        release = self.hold_posts()
        self.h.start()
        wait_for(lambda: self.srv.posts, 20, "the POST")
        self.h.stop(signal.SIGKILL)
        release.set()
        self.assertEqual(self.status(rid)["status"], "posting")
        # Started again: not sent blindly, but left for a person.
        self.h.start()
        r = self.wait_status(rid, "unknown")
        self.assertEqual(r["error"], STOPPED)
        self.h.wait_log("reply %d on " % rid)
        text = self.h.run("thread", str(self.tid)).stdout
        self.assertIn("unknown: " + STOPPED, text)
        self.assertEqual(len(self.srv.posts), 1)
        # A person has looked: sent again, with the same key.
        self.h.run("reply", "--retry", str(rid))
        r = self.wait_status(rid, "posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 2)
        self.assertEqual(self.srv.posts[0]["form"]["update_id"],
                         self.srv.posts[1]["form"]["update_id"])
        self.assertEqual(self.sql("SELECT action FROM audit_log WHERE "
                                  "action LIKE 'reply.%' ORDER BY id"),
                         [("reply.queue",), ("reply.unknown",),
                          ("reply.retry",), ("reply.posted",)])

    def test_transient_failure_is_retried_and_posted_once(self):
        real = self.srv.post_update
        calls = []

        def flaky(form, ext):
            calls.append(form["update_id"])
            if len(calls) == 1:
                return 503, b"<errors><error><code>503</code><description>"\
                    b"busy</description></error></errors>"
            return real(form, ext)
        self.srv.post_update = flaky
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Thank you.").stdout)
        self.h.start()
        r = self.wait_status(rid, "posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[0], calls[1])
        self.assertEqual(r["attempts"], 2)
        self.assertEqual([i["external_id"] for i in self.outbound()],
                         [r["external_id"]])
        self.assertIn("transient", self.h.log_text())
        # The next poll meets the update on the channel: still one.
        self.h.run("poll", str(self.sid))
        self.assertEqual(len(self.outbound()), 1)
        self.assertIsNotNone(self.h.thread(self.tid)["first_response_at"])

    def test_cancelled_before_the_daemon_runs_is_never_sent(self):
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Draft").stdout)
        self.assertEqual(self.h.run("reply", "--cancel", str(rid)).stdout,
                         "%d\n" % rid)
        line = self.refused("reply", "--cancel", str(rid))
        self.assertIn("reply %d is cancelled" % rid, line)
        keep = int(self.h.run("reply", str(self.tid), "--body",
                              "Final").stdout)
        self.h.start()
        self.wait_status(keep, "posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual([p["form"]["description"] for p in self.srv.posts],
                         ["Final"])
        self.assertEqual(self.status(rid)["status"], "cancelled")

    def test_signed_by_a_lead_of_the_trust_only(self):
        self.sql("INSERT INTO users (email, name, role, created_at) VALUES "
                 "('pat@nhs.net', 'Pat Lead', 'lead', 0), "
                 "('rex@nhs.net', 'Rex', 'reviewer', 0)")
        self.sql("INSERT INTO memberships (user_id, org_id) SELECT u.id, "
                 "o.id FROM users u, organisations o WHERE o.code = 'RJ1'")
        line = self.refused("reply", str(self.tid), "--body", "Hi",
                            "--as", "rex@nhs.net")
        self.assertIn("read-only reviewer", line)
        rid = int(self.h.run("reply", str(self.tid), "--body", "Hi",
                             "--as", "PAT@nhs.net").stdout)
        self.assertEqual(self.status(rid)["author"], "Pat Lead")
        self.assertEqual(self.sql("SELECT u.email FROM audit_log a JOIN "
                                  "users u ON u.id = a.user_id"),
                         [("pat@nhs.net",)])
        self.h.start()
        self.wait_status(rid, "posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(self.outbound()[0]["author"], "Pat Lead")


class HandoffTest(ReplyCase):
    """care-opinion: no way to post, so a task, closed by a later poll."""

    def setUp(self):
        super().setUp()
        self.srv = FakeCareOpinion(key="co-key")
        self.story = self.srv.add_story(
            "Clinic letter lost", "Nobody knew where it went.",
            [{"nacs": "RJ1", "name": "Guy's and St Thomas'",
              "type": "trust"}])
        self.sid = self.h.add_source("RJ1", "care-opinion", url=self.srv.base,
                                     subscription_key="co-key", nacs="RJ1")
        self.h.run("poll", str(self.sid))
        t = self.h.threads()[0]
        self.tid, self.ref = t["id"], t["reference"]

    def tearDown(self):
        self.srv.close()
        super().tearDown()

    def test_task_printed_shown_and_closed(self):
        text = "We are sorry about your letter; please call 020 7188 7188."
        out = self.h.run("reply", self.ref, "--body", "\n" + text + "\n")
        rid = int(out.stdout.splitlines()[0])
        link = "%s/%d" % (self.srv.site, self.story)
        self.assertIn("\n  %s\n\n%s\n" % (link, text), out.stdout)
        self.assertEqual(self.status(rid), "handoff")
        shown = self.h.run("thread", self.ref).stdout
        self.assertIn("post this reply on the channel yourself\n    %s\n%s"
                      % (link, text), shown)
        # Staff post it on Care Opinion; the next poll closes the task.
        self.srv.add_response(self.story, text)
        self.h.run("poll", str(self.sid))
        task = self.h.thread(self.tid)["tasks"][0]
        self.assertIsNotNone(task["closed_at"])
        self.assertIsNotNone(task["closed_by"])
        shown = self.h.run("thread", self.ref).stdout
        self.assertNotIn("yourself", shown)
        self.assertIn("task %d done" % task["id"], shown)
        # The daemon never posts a handoff reply.
        self.h.start()
        self.h.wait_log("heard: serving")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(self.status(rid), "handoff")

    def status(self, rid):
        return [r for r in self.replies(self.tid)
                if r["id"] == rid][0]["status"]


if __name__ == "__main__":
    unittest.main(verbosity=2)
