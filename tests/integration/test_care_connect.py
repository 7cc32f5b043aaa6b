"""End to end: the real heard polls, and replies through, a fake Open311."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_open311 import FakeOpen311  # noqa: E402
from harness import Heard, wait_for  # noqa: E402

KEY = "s3cret-open311-key"


class CareConnectCase(unittest.TestCase):
    """A fresh heard (with the trust list) and a fresh fake server."""

    server_args = {}
    settings = {}

    def setUp(self):
        self.srv = FakeOpen311(api_key=KEY, **self.server_args)
        self.h = Heard()
        self.h.add_org()
        # The genuine sample's three requests (FixMyStreet's
        # getservicerequests.t), one with the extended 'investigating'.
        self.srv.add_request(638344, "2010-04-14T06:37:38-08:00",
                             service_name="Sidewalk and Curb Issues",
                             description="This is a sidewalk problem")
        self.srv.add_request(638345, "2010-04-15T06:37:38-08:00",
                             status="investigating",
                             service_name="Not Sidewalk and Curb Issues",
                             description="This is a problem")
        self.srv.add_request(638346, "2010-04-14T06:37:38-08:00",
                             service_name="Sidewalk and Curb Issues")
        self.srv.add_update(638344, "2010-04-16T09:00:00Z",
                            "action_scheduled",
                            "The ward manager will call you.")

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def add_source(self, org="RJ1", **extra):
        settings = dict(endpoint=self.srv.endpoint, api_key=KEY)
        settings.update(self.settings)
        settings.update(extra)
        return self.h.add_source(org, "care-connect", **settings)

    def by_key(self, org="RJ1", status=None):
        """Threads by service request id (the first message's)."""
        out = {}
        args = ["threads", "--org", org] + (["--status", status]
                                            if status else [])
        for t in self.h.json(*args):
            items = self.h.thread(t["id"])["items"]
            req = [i for i in items if i["external_id"].startswith("req:")]
            key = (req[0]["external_id"][4:] if req else
                   items[0]["external_id"])
            out[key] = dict(t, items=items)
        return out


class PollTest(CareConnectCase):

    def test_threads_under_rj1_and_second_poll_adds_nothing(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        threads = self.by_key()
        self.assertEqual(set(threads), {"638344", "638345", "638346"})
        self.assertEqual({t["org"] for t in threads.values()}, {"RJ1"})
        self.assertEqual({t["connector"] for t in threads.values()},
                         {"care-connect"})
        t = threads["638344"]
        self.assertEqual([(i["external_id"], i["direction"])
                          for i in t["items"]],
                         [("req:638344", "in"), ("upd:5000", "out")])
        self.assertEqual(t["items"][0]["body"], "This is a sidewalk problem")
        self.assertEqual(t["items"][1]["body"],
                         "The ward manager will call you.")
        self.assertEqual(t["items"][0]["created_at"], "2010-04-14T14:37:38Z")
        self.assertEqual(t["subject"], "Sidewalk and Curb Issues")
        # The service request id stays the public reference: shown on the
        # thread, and enough for `heard thread` to find it.
        self.assertEqual(t["channel_reference"], "638344")
        self.assertEqual(self.h.thread("638344")["id"], t["id"])
        # One poll: the requests, then the updates, chained.
        self.assertEqual([g[0] for g in self.srv.gets],
                         ["requests", "servicerequestupdates"])
        self.assertTrue(all("api_key" not in q for _, q in self.srv.gets))

        before = self.h.threads("RJ1")
        self.h.run("poll", str(sid))
        self.assertEqual(self.h.threads("RJ1"), before)
        self.assertEqual(self.h.source(sid)["failures"], 0)
        # Incremental: both lists asked from an hour before the newest.
        req_q, upd_q = self.srv.gets[2][1], self.srv.gets[3][1]
        self.assertEqual(req_q["start_date"], "2010-04-15T13:37:38Z")
        self.assertEqual(upd_q["start_date"], "2010-04-16T08:00:00Z")

    def test_new_update_and_request_arrive_on_the_next_poll(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        self.srv.add_update(638345, "2010-04-17T10:00:00Z", "fixed",
                            "The clinic has new chairs.")
        self.srv.add_request(638400, "2010-04-17T11:00:00Z",
                             service_name="Parking",
                             description="No spaces at all")
        self.h.run("poll", str(sid))
        threads = self.by_key()
        self.assertEqual(len(threads), 4)
        self.assertEqual([i["external_id"] for i in
                          threads["638345"]["items"]],
                         ["req:638345", "upd:5001"])
        self.assertEqual(threads["638400"]["items"][0]["body"],
                         "No spaces at all")

    def test_status_mapping_reflected_on_the_thread(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        threads = self.by_key()
        self.assertEqual(threads["638345"]["status"], "in_progress")
        self.assertEqual(threads["638344"]["status"], "in_progress")
        self.assertEqual(threads["638346"]["status"], "open")
        self.srv.add_update(638344, "2010-04-18T09:00:00Z", "FIXED",
                            "Kerb repaired.")
        self.srv.add_update(638346, "2010-04-18T10:00:00Z",
                            "not_councils_responsibility",
                            "This is for the council.")
        self.h.run("poll", str(sid))
        threads = self.by_key()
        self.assertEqual(threads["638344"]["status"], "resolved")
        self.assertEqual(threads["638346"]["status"], "closed")

    def test_hidden_request_hides_the_thread(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        # FixMyStreet hides a report moderated as abusive.
        self.srv.add_update(638346, "2010-04-18T09:00:00Z", "hidden",
                            "Hidden by a moderator.")
        self.h.run("poll", str(sid))
        # Hidden threads leave the default list; asking for them shows it.
        self.assertEqual(set(self.by_key()), {"638344", "638345"})
        hidden = self.by_key(status="hidden")
        self.assertEqual(set(hidden), {"638346"})
        self.assertEqual([i["external_id"] for i in
                          hidden["638346"]["items"]],
                         ["req:638346", "upd:5001"])

    def test_service_code_and_jurisdiction_filters(self):
        self.srv.jurisdiction = "rj1"
        self.srv.add_request(638401, "2010-04-15T08:00:00Z",
                             service_code="PARK", service_name="Parking")
        sid = self.add_source(jurisdiction_id="rj1", service_code="PARK")
        self.h.run("poll", str(sid))
        self.assertEqual(self.srv.gets[0][1]["service_code"], "PARK")
        self.assertTrue(all(q["jurisdiction_id"] == "rj1"
                            for _, q in self.srv.gets))
        requests = [i["external_id"] for t in self.by_key().values()
                    for i in t["items"] if i["direction"] == "in"]
        self.assertEqual(requests, ["req:638401"])
        # The updates list has no service filter in the extension: an
        # update to another service's request still comes, on its own.
        self.assertEqual(len(self.h.threads("RJ1")), 2)

    def test_wrong_jurisdiction_is_a_settings_error(self):
        self.srv.jurisdiction = "rj1"
        sid = self.add_source(jurisdiction_id="rjz")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(self.h.source(sid)["last_error"],
                         "config.*jurisdiction_id is required")
        self.assertEqual(self.h.threads("RJ1"), [])

    def test_faults_are_classified_and_lose_nothing(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        cases = [
            (dict(kind="status", status=500), "transient"),
            (dict(kind="status", status=429, retry_after=600),
             "rate-limited"),
            (dict(kind="html"), "malformed"),
            (dict(kind="truncated", body=b'<?xml version="1.0"?>'
                  b'<service_requests><request><service_request_id>1'),
             "transient|malformed"),
            (dict(kind="status", status=400, type="text/xml",
                  body=b'<?xml version="1.0" encoding="utf-8"?><errors>'
                  b'<error><code>400</code><description>jurisdiction_id '
                  b'unknown</description></error></errors>'),
             "config.*jurisdiction_id unknown"),
            (dict(kind="status", status=403), "auth"),
        ]
        for n, (fault, word) in enumerate(cases, 1):
            self.srv.fault("requests", **fault)
            p = self.h.run("poll", str(sid), check=False)
            self.assertNotEqual(p.returncode, 0, fault)
            s = self.h.source(sid)
            self.assertEqual(s["failures"], n, fault)
            self.assertRegex(s["last_error"], word)
            self.assertNotIn(KEY, s["last_error"])
            self.assertNotIn(KEY, p.stderr)
        self.assertEqual(len(self.h.threads("RJ1")), 3)
        self.srv.clear("requests")
        self.h.run("poll", str(sid))
        self.assertEqual(self.h.source(sid)["failures"], 0)
        self.assertEqual(len(self.h.threads("RJ1")), 3)

    def test_failed_updates_step_resumes_next_poll(self):
        sid = self.add_source()
        self.srv.fault("servicerequestupdates", kind="status", status=503)
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(len(self.h.threads("RJ1")), 3)  # requests kept
        self.srv.clear("servicerequestupdates")
        self.h.run("poll", str(sid))
        self.assertEqual(self.srv.gets[-1][0], "servicerequestupdates")
        items = self.by_key()["638344"]["items"]
        self.assertEqual(len(items), 2)


class JsonBareTest(PollTest):
    """The same, in JSON as the spec and open311-adapter write it."""
    settings = {"format": "json"}


class JsonFmsTest(CareConnectCase):
    """FixMyStreet's JSON, wrapped as {"service_requests": [...]}."""
    server_args = {"fms_json": True}
    settings = {"format": "json"}

    def test_wrapped_lists(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        threads = self.by_key()
        self.assertEqual(set(threads), {"638344", "638345", "638346"})
        self.assertEqual(len(threads["638344"]["items"]), 2)


class PagingTest(CareConnectCase):
    """A server that stops at two answers, newest first."""
    server_args = {"page_size": 2}

    def test_full_pages_are_followed_into_the_older_rest(self):
        for i in range(5):
            self.srv.add_request(700 + i, "2010-05-0%dT10:00:00Z" % (i + 1),
                                 description="story %d" % i)
        sid = self.add_source(page_size="2")
        self.h.run("poll", str(sid))
        self.assertEqual(len(self.h.threads("RJ1")), 8)
        # Each page ends a second after the last one's oldest answer, so
        # one answer repeats per page; the last page cannot go older.
        gets = self.srv.gets
        self.assertNotIn("end_date", gets[0][1])
        self.assertEqual(gets[1][1]["end_date"], "2010-05-04T10:00:01Z")
        last = [q for name, q in gets if name == "requests"][-1]
        self.assertEqual(last["end_date"], "2010-04-14T14:37:39Z")
        self.assertEqual(gets[-1][0], "servicerequestupdates")
        self.h.run("poll", str(sid))
        self.assertEqual(len(self.h.threads("RJ1")), 8)


class ReplyTest(CareConnectCase):
    """heard reply, relayed by heard serve through the reply outbox."""

    def serve_until(self, cond, what):
        """Runs the daemon until cond holds, judged on its new log."""
        done = len(self.h.log_text()) if os.path.exists(self.h.log) else 0
        self.h.start()
        try:
            return wait_for(lambda: cond(self.h.log_text()[done:]), 30,
                            what)
        finally:
            self.assertEqual(self.h.stop(), 0)

    def test_reply_posted_once_and_shown_outbound(self):
        sid = self.add_source(reply_status="in_progress")
        self.h.run("poll", str(sid))
        tid = self.by_key()["638345"]["id"]
        self.h.run("reply", str(tid), "--body",
                   "Thank you: we have asked the clinic to call you.")
        self.serve_until(lambda log: "posted as upd:5001" in log,
                         "the reply posted")
        self.assertEqual(len(self.srv.posts), 1)
        post = self.srv.posts[0]
        self.assertEqual(post["type"], "application/x-www-form-urlencoded")
        form = post["form"]
        self.assertEqual(form["api_key"], KEY)
        self.assertEqual(form["service_request_id"], "638345")
        self.assertEqual(form["status"], "IN_PROGRESS")
        self.assertEqual(form["description"],
                         "Thank you: we have asked the clinic to call you.")
        self.assertTrue(form["update_id"])
        self.assertRegex(form["updated_datetime"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertTrue(post["raw"].startswith("api_key="))
        thread = self.h.thread(tid)
        out = [i for i in thread["items"] if i["direction"] == "out"]
        self.assertEqual([i["external_id"] for i in out], ["upd:5001"])
        self.assertEqual(out[0]["body"],
                         "Thank you: we have asked the clinic to call you.")
        self.assertEqual([(r["status"], r["external_id"])
                          for r in thread["replies"]],
                         [("posted", "upd:5001")])
        # The next poll sees the same update: one message, not two.
        self.h.run("poll", str(sid))
        out = [i for i in self.h.thread(tid)["items"]
               if i["direction"] == "out"]
        self.assertEqual(len(out), 1)
        self.assertNotIn(KEY, self.h.log_text())
        # Serving again posts nothing more: the outbox knows it is done.
        self.serve_until(lambda log: "heard: serving" in log,
                         "the daemon serving")
        self.assertEqual(len(self.srv.posts), 1)
        self.assertNotIn("queued", self.h.run("thread", str(tid)).stdout)

    def test_refused_reply_stays_visible_as_failed(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        tid = self.by_key()["638344"]["id"]
        self.srv.refusal = "service request 638344 is closed to updates"
        self.h.run("reply", str(tid), "--body", "We are sorry.")
        self.serve_until(lambda log: "closed to updates" in log,
                         "the refusal logged")
        replies = self.h.thread(tid)["replies"]
        self.assertEqual([(r["status"], r["error"]) for r in replies],
                         [("failed", "refused: HTTP 400: service request "
                           "638344 is closed to updates")])
        self.assertIn("closed to updates",
                      self.h.run("thread", str(tid)).stdout)
        self.assertEqual(len(self.srv.posts), 1)
        self.assertFalse([i for i in self.h.thread(tid)["items"]
                          if i["direction"] == "out" and
                          i["body"] == "We are sorry."])


if __name__ == "__main__":
    unittest.main()
