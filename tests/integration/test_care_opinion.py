"""End to end: the real heard polls a fake Care Opinion API v2."""

import calendar
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_care_opinion import FakeCareOpinion  # noqa: E402
from harness import HEARD, Heard  # noqa: E402

KEY = "co-subscription-key-1"
GUYS = {"nacs": "RJ1", "name": "Guy's and St Thomas'", "type": "trust"}
IMPERIAL = {"nacs": "RYJ", "name": "Imperial College Healthcare",
            "type": "trust"}
SURGERY = {"nacs": "Y99999", "name": "A surgery elsewhere",
           "type": "general practice"}


def has_reply_command():
    """Whether this heard has `heard reply` (the reply pipeline)."""
    p = subprocess.run([HEARD, "reply", "--help"], capture_output=True,
                       text=True)
    return p.returncode == 0


def iso_to_unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


class CareOpinionCase(unittest.TestCase):
    """A fresh heard (with the trust list) and a fresh fake API."""

    def setUp(self):
        self.srv = FakeCareOpinion(key=KEY)
        self.h = Heard()
        self.h.add_org()
        s = self.srv
        self.ward = s.add_story(
            "Kind staff on the ward",
            "The **nurses** were kind.\n\nThe ward was *cold* at night.",
            [GUYS, SURGERY], tags=[{"name": "nurses", "group": "Who",
                                    "polarity": 1}])
        self.parking = s.add_story("Parking", "No spaces at all.", [GUYS])
        self.ae = s.add_story("Long wait in A&E", "Six hours.", [IMPERIAL])
        self.clinic = s.add_story("Clinic letter lost", "Nobody knew.",
                                  [GUYS])
        self.xray = s.add_story("X-ray on time", "Quick and clear.",
                                [IMPERIAL])
        self.r_ward = s.add_response(self.ward, "Thank you, we have "
                                     "asked estates to check the heating.")
        self.r_ae = s.add_response(self.ae, "We are sorry about the wait.",
                                   change="change made", change_int=2)
        self.r_parking = s.add_response(self.parking, "More spaces soon.")

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def add_source(self, key=KEY, **extra):
        settings = dict(url=self.srv.base, subscription_key=key,
                        nacs="RJ1,RYJ", take="2")
        settings.update(extra)
        return self.h.add_source("RJ1", "care-opinion", **settings)

    def by_story(self, org):
        """Threads of org by story id, each with its items."""
        out = {}
        for t in self.h.threads(org):
            items = self.h.thread(t["id"])["items"]
            story = [i for i in items if i["external_id"].startswith("op:")]
            out[int(story[0]["external_id"][3:])] = dict(t, items=items)
        return out

    def assert_paced(self, reqs):
        """Never more than 5 requests a second: heard starts them 200 ms
        apart. Seen on arrival here, one request held up on a loaded
        machine (a slow connect) moves its own time, not the rest, so:
        every gap well above an unpaced one (a few ms), and the whole
        run as long as its gaps, less one such hold-up."""
        times = [r.at for r in reqs]
        for a, b in zip(times, times[1:]):
            self.assertGreaterEqual(b - a, 0.05, "requests unpaced")
        if len(times) > 1:
            self.assertGreaterEqual(times[-1] - times[0],
                                    0.2 * (len(times) - 1) - 0.15,
                                    "requests too close overall")


class PollTest(CareOpinionCase):

    def test_stories_filed_by_service_with_responses_and_paced(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        rj1, ryj = self.by_story("RJ1"), self.by_story("RYJ")
        self.assertEqual(set(rj1), {self.ward, self.parking, self.clinic})
        self.assertEqual(set(ryj), {self.ae, self.xray})
        ward = rj1[self.ward]
        self.assertEqual(ward["connector"], "care-opinion")
        self.assertEqual(ward["subject"], "Kind staff on the ward")
        self.assertEqual(ward["messages"], 2)
        story, reply = ward["items"]
        self.assertEqual(story["direction"], "in")
        self.assertEqual(story["body"], "The nurses were kind.\n\n"
                         "The ward was cold at night.")
        self.assertEqual(story["url"], "%s/%d" % (self.srv.site,
                                                  self.ward))
        self.assertEqual(reply["external_id"], "resp:%d" % self.r_ward)
        self.assertEqual(reply["direction"], "out")
        self.assertEqual([i["external_id"] for i in
                          ryj[self.ae]["items"]],
                         ["op:%d" % self.ae, "resp:%d" % self.r_ae])
        self.assertEqual(rj1[self.clinic]["messages"], 1)

        reqs = self.srv.api_requests()
        for r in reqs:
            self.assertEqual(r.headers.get("Authorization"),
                             "SUBSCRIPTION_KEY " + KEY)
        # Paged two at a time until an empty page.
        skips = [r.query["skip"][0] for r in reqs
                 if r.path == "/api/v2/opinions"]
        self.assertEqual(skips, ["0", "2", "4", "5"])
        self.assert_paced(reqs)
        self.assertEqual(self.h.source(sid)["failures"], 0)

    def test_second_poll_adds_nothing_and_asks_little(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        before = {o: self.by_story(o) for o in ("RJ1", "RYJ")}
        first = len(self.srv.api_requests())
        self.h.run("poll", str(sid))
        after = {o: self.by_story(o) for o in ("RJ1", "RYJ")}
        self.assertEqual(after, before)
        # Only the two listings, each filtered by date and empty.
        again = self.srv.api_requests()[first:]
        self.assertEqual([r.path for r in again],
                         ["/api/v2/opinions", "/api/v2/responses"])
        self.assertTrue(all("publishedafter" in r.query for r in again))

    def test_new_story_and_late_response_arrive_next_poll(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        first = len(self.srv.api_requests())
        late = self.srv.add_response(self.clinic, "We found your letter.",
                                     change="change made", change_int=2)
        new = self.srv.add_story("Thank you maternity", "Wonderful care.",
                                 [GUYS])
        self.h.run("poll", str(sid))
        rj1 = self.by_story("RJ1")
        self.assertEqual(rj1[new]["messages"], 1)
        self.assertEqual([i["external_id"] for i in
                          rj1[self.clinic]["items"]],
                         ["op:%d" % self.clinic, "resp:%d" % late])
        self.assertEqual(rj1[self.clinic]["items"][1]["direction"], "out")
        # Paced within each run of heard (the pace is per process).
        self.assert_paced(self.srv.api_requests()[first:])

    def test_rescan_catches_edits_when_due(self):
        sid = self.add_source(take="5")
        self.h.run("poll", str(sid))
        self.srv.edit_story(self.ward, body="Edited: the ward is warm now.")
        self.srv.edit_response(self.r_ward, body="Update: the heating "
                               "is fixed.", changeScore="change made",
                               changeInt=2)
        # Not due yet: an ordinary poll does not see the edit.
        self.h.run("poll", str(sid))
        items = self.by_story("RJ1")[self.ward]["items"]
        self.assertEqual(items[0]["body"], "The nurses were kind.\n\n"
                         "The ward was cold at night.")
        # Eight days on by the server's clock, the weekly re-scan runs.
        self.srv.advance(8)
        self.h.run("poll", str(sid))
        items = self.by_story("RJ1")[self.ward]["items"]
        self.assertEqual(len(items), 2)
        self.assertEqual(items[0]["body"], "Edited: the ward is warm now.")
        self.assertEqual(items[1]["body"], "Update: the heating is fixed.")
        unfiltered = [r for r in self.srv.api_requests()
                      if r.path == "/api/v2/opinions" and
                      "publishedafter" not in r.query]
        # The backfill's two pages and the re-scan's first.
        self.assertEqual(len(unfiltered), 3)


class FaultTest(CareOpinionCase):

    def test_bad_key_is_an_auth_error_that_pauses_the_source(self):
        sid = self.add_source(key="not-the-key")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        s = [x for x in self.h.json("sources", "list") if x["id"] == sid][0]
        self.assertIn("auth", s["last_error"])
        self.assertIn("subscription key refused (redirected to the login "
                      "page)", s["last_error"])
        self.assertTrue(s["paused"])
        self.assertIsNone(s["next_poll"])
        # The API sent heard to the sign-in page, which it followed.
        self.assertIn("/account/login",
                      [r.path for r in self.srv.requests])
        self.assertEqual(self.h.threads(), [])
        listed = self.h.run("sources", "list").stdout
        self.assertIn("subscription key refused", listed)
        self.assertNotIn("not-the-key", listed)

    def test_fault_mid_pass_keeps_pages_and_resumes_there(self):
        sid = self.add_source()
        # The first story is complete after four requests (its page, its
        # services, tags and responses); the sixth fails.
        self.srv.fault(503, after=5, retry_after=60)
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("rate-limited", self.h.source(sid)["last_error"])
        self.assertEqual(set(self.by_story("RJ1")), {self.ward})
        failed = self.srv.api_requests()[5]
        self.srv.clear()
        self.h.run("poll", str(sid))
        # The next poll asks again what failed, not the first page.
        resumed = self.srv.api_requests()[6]
        self.assertEqual((resumed.path, resumed.query),
                         (failed.path, failed.query))
        rj1 = self.by_story("RJ1")
        self.assertEqual(set(rj1), {self.ward, self.parking, self.clinic})
        self.assertEqual(rj1[self.ward]["messages"], 2)
        self.assertEqual(len(self.by_story("RYJ")), 2)

    def test_rate_limited_then_server_error_then_recovers(self):
        sid = self.add_source()
        self.srv.fault(429, times=1, retry_after=120)
        before = time.time()
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 110)
        self.srv.fault(500, times=1)
        self.h.run("poll", str(sid), check=False)
        s = self.h.source(sid)
        self.assertIn("transient", s["last_error"])
        self.assertEqual(s["failures"], 2)
        self.h.run("poll", str(sid))
        self.assertEqual(self.h.source(sid)["failures"], 0)
        self.assertEqual(len(self.by_story("RJ1")), 3)
        self.assertEqual(len(self.by_story("RYJ")), 2)


@unittest.skipUnless(has_reply_command(),
                     "this heard has no `heard reply` (the reply pipeline)")
class HandoffTest(CareOpinionCase):

    def test_reply_is_a_task_closed_when_the_response_appears(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        tid = self.by_story("RJ1")[self.clinic]["id"]
        text = "We are sorry about your letter; please call us."
        self.h.run("reply", str(tid), "--body", text)
        tasks = self.h.thread(tid)["tasks"]
        self.assertEqual(len(tasks), 1)
        self.assertEqual(tasks[0]["url"], "%s/%d" % (self.srv.site,
                                                     self.clinic))
        self.assertIn(text, tasks[0]["text"])
        self.assertIsNone(tasks[0]["closed_at"])
        # A poll that finds no response of theirs leaves it open.
        self.h.run("poll", str(sid))
        self.assertIsNone(self.h.thread(tid)["tasks"][0]["closed_at"])
        # The provider posts it on Care Opinion; the next poll sees it.
        rid = self.srv.add_response(self.clinic, text)
        self.h.run("poll", str(sid))
        t = self.h.thread(tid)
        self.assertIsNotNone(t["tasks"][0]["closed_at"])
        self.assertEqual([i["external_id"] for i in t["items"]
                          if i["direction"] == "out"], ["resp:%d" % rid])
        # heard never wrote to the channel: Care Opinion has no way to.
        self.assertTrue(all(r.method == "GET" for r in self.srv.requests))


if __name__ == "__main__":
    unittest.main(verbosity=2)
