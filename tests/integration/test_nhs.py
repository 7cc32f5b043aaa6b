"""End to end: the real heard polls fake NHS Choices and NHS.UK APIs."""

import calendar
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_nhs import FakeChoices, FakeWebsite  # noqa: E402
from harness import Heard  # noqa: E402

CHOICES_KEY = "choices-key-1"
WEBSITE_KEY = "website-key-1"
GUYS = "Guy's and St Thomas' NHS Foundation Trust"
DAY = 86400


def iso_to_unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def day_of(t):
    return time.strftime("%Y/%-m/%-d", time.gmtime(t))


class NHSCase(unittest.TestCase):
    """A fresh heard with the trust list; subclasses add their fake."""

    def setUp(self):
        self.now = time.time()
        self.h = Heard()
        self.h.add_org()

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def by_ext(self, org):
        """Threads of org by their first message's external id."""
        out = {}
        for t in self.h.threads(org):
            items = self.h.thread(t["id"])["items"]
            out[items[0]["external_id"]] = dict(t, items=items)
        return out


class ChoicesCase(NHSCase):
    """Three comments on two of Guy's and St Thomas' sites (RJ122,
    RJ121), one on another trust's (RYQ30), a reply: two pages. The
    links name sites, as NHS Choices' do; ingest files them under the
    trust (only trusts are imported)."""

    def setUp(self):
        super().setUp()
        s = self.srv = FakeChoices(CHOICES_KEY, page_size=3)
        now = self.now
        s.add_comment(91001, 40100, "RJ122", "Kind nurses on ward 5",
                      liked="The nurses were kind.",
                      improved="The ward was cold at night.",
                      ratings=[("Friends and Family", "Extremely likely",
                                "Option", 5)], when=now - 5 * DAY)
        s.add_comment(91002, 40101, "RJ121", "Long wait in A&E",
                      anything="Six hours and nobody told us why.",
                      when=now - 4 * DAY)
        s.add_comment(91003, 40100, "RJ122", "Parking",
                      anything="No spaces at all.", when=now - 3 * DAY)
        s.add_comment(91004, 43861, "RYQ30", "Another trust's ward",
                      anything="Not Guy's.", when=now - 2 * DAY)
        s.add_reply(91001, "Thank you, we've asked estates to check the "
                    "heating.", GUYS, when=now - DAY)

    def add_source(self, key=CHOICES_KEY):
        return self.h.add_source("RJ1", "nhs-choices",
                                 base_url=self.srv.origin, apikey=key,
                                 org_type="hospitals", ods_code="RJ1")


class ChoicesPollTest(ChoicesCase):

    def test_threads_under_the_trust_with_replies_out(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        rj1 = self.by_ext("RJ1")
        self.assertEqual(set(rj1), {"91001", "91002", "91003"})
        self.assertEqual(self.h.threads("RYQ"), [])
        ward = rj1["91001"]
        self.assertEqual(ward["connector"], "nhs-choices")
        comment, reply = ward["items"]
        self.assertEqual(comment["direction"], "in")
        self.assertEqual(comment["body"], "What I liked:\nThe nurses were "
                         "kind.\n\nWhat could be improved:\nThe ward was "
                         "cold at night.")
        self.assertEqual(comment["rating"], 5)
        self.assertEqual(comment["url"], "http://www.nhs.uk/Services/"
                         "hospitals/ReviewsAndRatings/DefaultView.aspx"
                         "?id=RJ122")
        self.assertEqual(reply["external_id"], "91001R")
        self.assertEqual(reply["direction"], "out")
        self.assertEqual(reply["author"], GUYS)
        self.assertEqual(reply["body"], "Thank you, we've asked estates "
                         "to check the heating.")
        self.assertEqual(rj1["91002"]["subject"], "Long wait in A&E")
        # Two pages by the next link, each with the key; no more.
        reqs = self.srv.requests
        self.assertEqual([(r.path, r.query.get("page")) for r in reqs],
                         [("/organisations/hospitals/comments.atom", None),
                          ("/organisations/hospitals/comments.atom",
                           ["2"])])
        self.assertTrue(all(r.query["apikey"] == [CHOICES_KEY]
                            for r in reqs))
        self.assertEqual(self.h.source(sid)["failures"], 0)

    def test_second_poll_asks_commentssince_and_adds_nothing(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        before = self.by_ext("RJ1")
        first = len(self.srv.requests)
        self.h.run("poll", str(sid))
        self.assertEqual(self.by_ext("RJ1"), before)
        again = self.srv.requests[first:]
        # From the newest entry's day, less a day of overlap.
        self.assertEqual([r.path for r in again],
                         ["/organisations/hospitals/commentssince/%s.atom" %
                          day_of(self.now - 2 * DAY)])
        self.assertEqual(self.h.source(sid)["failures"], 0)

    def test_new_comment_and_late_reply_arrive_next_poll(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        self.srv.add_comment(91005, 40101, "RJ121", "Thank you maternity",
                             liked="Wonderful care.")
        self.srv.add_reply(91003, "More spaces open in May.", GUYS)
        self.h.run("poll", str(sid))
        rj1 = self.by_ext("RJ1")
        self.assertEqual(rj1["91005"]["messages"], 1)
        self.assertEqual([(i["external_id"], i["direction"])
                          for i in rj1["91003"]["items"]],
                         [("91003", "in"), ("91003R", "out")])

    def test_takedown_hides_the_message_and_keeps_it(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        tid = self.by_ext("RJ1")["91003"]["id"]
        self.srv.delete(91003)
        self.h.run("poll", str(sid))
        item = self.h.thread(tid)["items"][0]
        self.assertEqual(item["external_id"], "91003")
        self.assertTrue(item["hidden"])
        self.assertIsNotNone(item["removed_at_source"])
        self.assertEqual(item["body"], "Anything else:\nNo spaces at all.")

    def test_empty_result_404_is_no_items_not_an_error(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        # Nothing changed for days: the API's HTML 404 page.
        for e in self.srv.entries:
            e["updated"] -= 30 * DAY
        self.h.run("poll", str(sid))
        self.assertEqual(self.h.source(sid)["failures"], 0)
        self.assertEqual(len(self.by_ext("RJ1")), 3)


class ChoicesKeyTest(ChoicesCase):

    def test_bad_key_pauses_the_source_and_is_never_shown(self):
        sid = self.add_source(key="not-the-key")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        s = [x for x in self.h.json("sources", "list") if x["id"] == sid][0]
        self.assertIn("auth", s["last_error"])
        self.assertTrue(s["paused"])
        self.assertNotIn("not-the-key", self.h.run("sources",
                                                   "list").stdout)
        self.assertNotIn("not-the-key", p.stderr)
        self.assertEqual(self.h.threads(), [])
        self.assertEqual([r.query["apikey"] for r in self.srv.requests],
                         [["not-the-key"]])


class ChoicesFaultTest(ChoicesCase):

    def test_429_500_and_truncation_lose_nothing(self):
        sid = self.add_source()
        self.srv.fault(429, retry_after=600)
        before = time.time()
        self.h.run("poll", str(sid), check=False)
        s = self.h.source(sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 590)
        self.srv.fault(500)
        self.h.run("poll", str(sid), check=False)
        self.assertIn("transient", self.h.source(sid)["last_error"])
        self.srv.fault(kind="truncated")
        self.h.run("poll", str(sid), check=False)
        s = self.h.source(sid)
        self.assertEqual(s["failures"], 3)
        self.assertEqual(self.h.threads(), [])
        self.h.run("poll", str(sid))
        self.assertEqual(self.h.source(sid)["failures"], 0)
        self.assertEqual(len(self.by_ext("RJ1")), 3)

    def test_fault_on_page_two_keeps_page_one_and_resumes_there(self):
        sid = self.add_source()
        self.srv.fault(503, after=1, retry_after=60)
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("rate-limited", self.h.source(sid)["last_error"])
        # Page one (newest first): 91001R, 91004 (not RJ1's), 91003.
        self.assertEqual(set(self.by_ext("RJ1")), {"91001R", "91003"})
        self.h.run("poll", str(sid))
        resumed = self.srv.requests[2]
        self.assertEqual((resumed.path, resumed.query.get("page")),
                         ("/organisations/hospitals/comments.atom", ["2"]))
        rj1 = self.by_ext("RJ1")
        self.assertEqual(set(rj1), {"91001", "91002", "91003"})
        self.assertEqual([i["external_id"] for i in rj1["91001"]["items"]],
                         ["91001", "91001R"])


class ChoicesHandoffTest(ChoicesCase):

    def test_reply_is_a_task_closed_when_the_reply_appears(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        tid = self.by_ext("RJ1")["91002"]["id"]
        text = "We are sorry about the wait; please call PALS."
        self.h.run("reply", str(tid), "--body", text)
        tasks = self.h.thread(tid)["tasks"]
        self.assertEqual(len(tasks), 1)
        self.assertEqual(tasks[0]["url"], "http://www.nhs.uk/Services/"
                         "hospitals/ReviewsAndRatings/DefaultView.aspx"
                         "?id=RJ1")
        self.assertIn(text, tasks[0]["text"])
        self.assertIsNone(tasks[0]["closed_at"])
        # A poll that finds no reply of theirs leaves it open.
        self.h.run("poll", str(sid))
        self.assertIsNone(self.h.thread(tid)["tasks"][0]["closed_at"])
        # The trust posts it on NHS Choices; the next poll sees it.
        self.srv.add_reply(91002, text, GUYS)
        self.h.run("poll", str(sid))
        t = self.h.thread(tid)
        self.assertIsNotNone(t["tasks"][0]["closed_at"])
        self.assertEqual([i["external_id"] for i in t["items"]
                          if i["direction"] == "out"], ["91002R"])
        self.assertTrue(all(r.method == "GET" for r in self.srv.requests))


class WebsiteCase(NHSCase):
    """Comments about Guy's and St Thomas' (RJ1) on the NHS website."""

    def setUp(self):
        super().setUp()
        s = self.srv = FakeWebsite(WEBSITE_KEY)
        now = self.now
        self.c1 = s.add_comment("RJ1", "Friendly staff on the ward",
                                "The nurses explained everything.",
                                rating=5, when=now - 5 * DAY)
        self.c2 = s.add_comment("RJ1", "Lost letter", "Nobody knew.",
                                rating=2, when=now - 4 * DAY)
        self.c3 = s.add_comment("RJ1", "Parking", "No spaces.",
                                when=now - 3 * DAY)
        s.add_comment("RYQ", "Elsewhere", "Not Guy's.", when=now - DAY)
        s.add_response(self.c1, "Thank you for your kind words.",
                       when=now - 2 * DAY)

    def add_source(self, key=WEBSITE_KEY):
        return self.h.add_source("RJ1", "nhs-website",
                                 base_url=self.srv.base,
                                 subscription_key=key, ods_code="RJ1",
                                 limit="2")


class WebsitePollTest(WebsiteCase):

    def test_threads_with_responses_paged_by_offset(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        rj1 = self.by_ext("RJ1")
        self.assertEqual(set(rj1), {self.c1, self.c2, self.c3})
        comment, response = rj1[self.c1]["items"]
        self.assertEqual(comment["rating"], 5)
        self.assertEqual(response["external_id"], self.c1 + "R")
        self.assertEqual(response["direction"], "out")
        self.assertEqual(response["body"], "Thank you for your kind words.")
        reqs = self.srv.requests
        self.assertEqual([r.query["offset"] for r in reqs],
                         [["0"], ["2"]])
        self.assertTrue(all(r.headers.get("subscription-key") ==
                            WEBSITE_KEY for r in reqs))
        self.assertTrue(all("fromDate" not in r.query for r in reqs))

    def test_second_poll_uses_fromdate_and_adds_nothing(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        before = self.by_ext("RJ1")
        first = len(self.srv.requests)
        self.h.run("poll", str(sid))
        self.assertEqual(self.by_ext("RJ1"), before)
        # From the newest update's day (the response), less a day: two
        # comments, a full page of two, then an empty one.
        again = self.srv.requests[first:]
        day = time.strftime("%Y-%m-%d", time.gmtime(self.now - 3 * DAY))
        self.assertEqual([(r.query["offset"], r.query.get("fromDate"))
                          for r in again],
                         [(["0"], [day]), (["2"], [day])])

    def test_removed_comment_is_hidden(self):
        sid = self.add_source()
        self.h.run("poll", str(sid))
        tid = self.by_ext("RJ1")[self.c3]["id"]
        self.srv.remove(self.c3)
        self.h.run("poll", str(sid))
        item = self.h.thread(tid)["items"][0]
        self.assertTrue(item["hidden"])
        self.assertEqual(item["body"], "No spaces.")

    def test_bad_key_pauses_the_source(self):
        sid = self.add_source(key="not-the-key")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        s = [x for x in self.h.json("sources", "list") if x["id"] == sid][0]
        self.assertIn("auth", s["last_error"])
        self.assertTrue(s["paused"])
        self.assertNotIn("not-the-key", self.h.run("sources",
                                                   "list").stdout)

    def test_reply_is_a_task_closed_when_the_response_appears(self):
        sid = self.h.add_source(
            "RJ1", "nhs-website", base_url=self.srv.base,
            subscription_key=WEBSITE_KEY, ods_code="RJ1",
            reviews_url="https://www.nhs.uk/services/trust/RJ1/"
            "ratings-and-reviews")
        self.h.run("poll", str(sid))
        tid = self.by_ext("RJ1")[self.c2]["id"]
        text = "We are sorry; please call us about your letter."
        self.h.run("reply", str(tid), "--body", text)
        task = self.h.thread(tid)["tasks"][0]
        self.assertEqual(task["url"], "https://www.nhs.uk/services/trust/"
                         "RJ1/ratings-and-reviews")
        self.assertIsNone(task["closed_at"])
        self.srv.add_response(self.c2, text)
        self.h.run("poll", str(sid))
        t = self.h.thread(tid)
        self.assertIsNotNone(t["tasks"][0]["closed_at"])
        self.assertEqual([i["external_id"] for i in t["items"]
                          if i["direction"] == "out"], [self.c2 + "R"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
