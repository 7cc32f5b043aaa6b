"""End to end: the real heard polls a fake X API and replies on it."""

import calendar
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_twitter import FakeX, NOT_ENGAGED  # noqa: E402
from harness import Heard, wait_for  # noqa: E402

BEARER = "AAAA-app-bearer-0123"
CK, CS = "ck-guys-app", "cs-guys-app-secret"


def iso_to_unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


class TwitterCase(unittest.TestCase):
    """A fresh heard (with the trust list), a fake X, a source per trust."""

    def setUp(self):
        self.srv = FakeX(BEARER, CK, CS)
        self.guys = self.srv.add_user("guystrust", "Guy's and St Thomas'",
                                      "at-guys", "ats-guys-secret")
        self.kings = self.srv.add_user("kingstrust", "King's College",
                                       "at-kings", "ats-kings-secret")
        self.srv.add_user("pat", "Pat Jones")
        self.srv.add_user("sam", "Sam")
        self.h = Heard("[poll]\nbackoff_base = 1s\n")
        self.h.add_org()
        self.sid = self.add("RJ1", self.guys, "guystrust", "at-guys",
                            "ats-guys-secret")

    def add(self, org, uid, name, token, secret, bearer=BEARER):
        return self.h.add_source(
            org, "twitter", user_id=uid, username=name, bearer_token=bearer,
            consumer_key=CK, consumer_secret=CS, access_token=token,
            access_token_secret=secret, api_base=self.srv.base)

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def poll(self, sid=None, check=True):
        return self.h.run("poll", str(sid or self.sid), check=check)

    def items(self, org="RJ1"):
        return [i for t in self.h.threads(org)
                for i in self.h.thread(t["id"])["items"]]

    def mention_gets(self, uid=None):
        path = "/2/users/%s/mentions" % (uid or self.guys)
        return [q for p, q in self.srv.gets if p == path]


class PollTest(TwitterCase):

    def test_threaded_by_conversation_and_a_second_poll_adds_nothing(self):
        root = self.srv.post("pat", "@guystrust Six hours in A&E <ok?>")
        also = self.srv.post("sam", "@guystrust same for me",
                             in_reply_to=root["id"])
        other = self.srv.post("pat", "@guystrust and the parking")
        self.poll()
        threads = self.h.threads("RJ1")
        self.assertEqual(sorted(t["messages"] for t in threads), [1, 2])
        both = [t for t in threads if t["messages"] == 2][0]
        items = self.h.thread(both["id"])["items"]
        self.assertEqual([i["external_id"] for i in items],
                         [root["id"], also["id"]])
        # X escapes &, < and >; the patient's words come back whole.
        self.assertEqual(items[0]["body"], "@guystrust Six hours in A&E <ok?>")
        self.assertEqual([i["author"] for i in items], ["Pat Jones", "Sam"])
        self.assertTrue(all(i["direction"] == "in" for i in items))
        q = self.mention_gets()[0]
        self.assertNotIn("since_id", q)
        self.assertIn("conversation_id", q["tweet.fields"].split(","))
        self.assertEqual(q["expansions"], "author_id,referenced_tweets.id")
        # Nothing new: asked from the newest, nothing added.
        before = len(self.items())
        self.poll()
        self.assertEqual(len(self.items()), before)
        self.assertEqual(self.mention_gets()[-1]["since_id"], other["id"])
        # A later reply joins its conversation.
        late = self.srv.post("pat", "@guystrust still waiting",
                             in_reply_to=also["id"])
        self.poll()
        self.assertEqual(self.h.thread(both["id"])["messages"], 3)
        self.assertEqual(self.mention_gets()[-1]["since_id"],
                         self.mention_gets()[-2]["since_id"])
        self.assertIn(late["id"], [i["external_id"] for i in
                                   self.h.thread(both["id"])["items"]])

    def test_paging_moves_since_id_only_at_the_end(self):
        self.srv.page_max = 5
        made = [self.srv.post("pat", "@guystrust note %d" % i)
                for i in range(12)]
        self.poll()
        self.assertEqual({i["external_id"] for i in self.items()},
                         {t["id"] for t in made})
        gets = self.mention_gets()
        self.assertEqual([q.get("pagination_token") for q in gets],
                         [None, "p5", "p10"])
        more = [self.srv.post("pat", "@guystrust late %d" % i)
                for i in range(7)]
        # The second page fails: what the first gave is kept, the
        # cursor does not move, and the next poll skips nothing.
        real = self.srv.mentions

        def then_fail(uid, q):
            self.srv.mentions = real
            self.srv.fault(503, {"title": "Service Unavailable"})
            return real(uid, q)
        self.srv.mentions = then_fail
        p = self.poll(check=False)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("transient", self.h.source(self.sid)["last_error"])
        self.assertLess(len(self.items()), 19)
        self.poll()
        self.assertEqual({i["external_id"] for i in self.items()},
                         {t["id"] for t in made + more})
        # The run resumed at the page that failed, still from the old
        # since_id; only its end moved it.
        run = self.mention_gets()[3:]
        self.assertEqual([(q["since_id"], q.get("pagination_token"))
                          for q in run], [(made[-1]["id"], None),
                                          (made[-1]["id"], "p5"),
                                          (made[-1]["id"], "p5")])
        self.poll()
        self.assertEqual(self.mention_gets()[-1]["since_id"], more[-1]["id"])

    def test_one_mention_of_two_trusts_files_in_both(self):
        ksid = self.add("RJZ", self.kings, "kingstrust", "at-kings",
                        "ats-kings-secret")
        t = self.srv.post("pat", "@guystrust @kingstrust the transfer lost "
                          "my notes")
        self.poll()
        self.poll(ksid)
        for org in ("RJ1", "RJZ"):
            threads = self.h.threads(org)
            self.assertEqual(len(threads), 1, org)
            self.assertEqual([i["external_id"] for i in
                              self.h.thread(threads[0]["id"])["items"]],
                             [t["id"]])
        self.assertNotEqual(self.h.threads("RJ1")[0]["id"],
                            self.h.threads("RJZ")[0]["id"])
        self.assertEqual(len(self.mention_gets(self.kings)), 1)


class FaultTest(TwitterCase):

    def test_429_is_honoured_and_limits_before_they_are_hit(self):
        self.srv.post("pat", "@guystrust hello")
        self.srv.set_window(0, 120)
        before = time.time()
        p = self.poll(check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(self.sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertIn("Too Many Requests", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 110)
        self.assertEqual(self.h.threads(), [])
        # The last request of a window: one page, then wait for the reset.
        self.srv.page_max = 5
        for i in range(9):
            self.srv.post("pat", "@guystrust n%d" % i)
        self.srv.set_window(1, 200)
        before = time.time()
        self.poll()
        s = self.h.source(self.sid)
        self.assertEqual(len(self.items()), 5)
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 190)
        self.srv.set_window(450, 900)
        self.poll()
        self.assertEqual(len(self.items()), 10)
        self.assertEqual(self.mention_gets()[-1]["pagination_token"], "p5")
        # The v1.1 body X also sends on 429 reads the same way.
        self.srv.v1_429 = True
        self.srv.set_window(0, 300)
        before = time.time()
        self.poll(check=False)
        s = self.h.source(self.sid)
        self.assertIn("Rate limit exceeded (code 88)", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 290)

    def test_401_pauses_the_source_and_keeps_the_token_quiet(self):
        sid = self.add("RJ1", self.guys, "guystrust", "at-guys",
                       "ats-guys-secret", bearer="revoked-bearer-9")
        p = self.poll(sid, check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(sid)
        self.assertIn("auth", s["last_error"])
        self.assertTrue(s["paused"])
        listed = self.h.run("sources", "list").stdout
        for secret in ("revoked-bearer-9", CS, "ats-guys-secret"):
            self.assertNotIn(secret, listed)
            self.assertNotIn(secret, s["last_error"])


class ReplyTest(TwitterCase):

    def reply_row(self, rid):
        return [r for r in self.h.thread(self.tid)["replies"]
                if r["id"] == rid][0]

    def send(self, body):
        rid = int(self.h.run("reply", str(self.tid), "--body", body).stdout)
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["status"] in
                 ("posted", "failed"), 20, "reply settled")
        self.assertEqual(self.h.stop(), 0)
        return rid

    def test_reply_signed_posted_once_and_threaded(self):
        root = self.srv.post("pat", "@guystrust the ward was cold")
        later = self.srv.post("pat", "@guystrust ward 5", root["id"])
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = self.send("Sorry, we have told ward 5 & the estates team.")
        self.assertEqual(self.reply_row(rid)["status"], "posted")
        self.assertEqual(len(self.srv.posts), 1)
        post = self.srv.posts[0]
        self.assertTrue(post["auth"].startswith("OAuth "))
        self.assertEqual(post["type"], "application/json")
        self.assertEqual(json.loads(post["raw"]), {
            "text": "Sorry, we have told ward 5 & the estates team.",
            "reply": {"in_reply_to_tweet_id": later["id"]}})
        mine = self.srv.made_by("guystrust")
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["conversation_id"], root["id"])
        self.assertEqual(self.reply_row(rid)["external_id"], mine[0]["id"])
        items = self.h.thread(self.tid)["items"]
        self.assertEqual([(i["external_id"], i["direction"]) for i in items],
                         [(root["id"], "in"), (later["id"], "in"),
                          (mine[0]["id"], "out")])
        # Pat answers; it joins the same thread, the reply is not re-read.
        answer = self.srv.post("pat", "@guystrust thank you", mine[0]["id"])
        self.poll()
        self.assertEqual(len(self.h.threads("RJ1")), 1)
        self.assertEqual([i["external_id"] for i in
                          self.h.thread(self.tid)["items"]][-1], answer["id"])
        self.assertEqual(len(self.srv.made_by("guystrust")), 1)

    def test_a_bad_signature_is_refused_by_x(self):
        # The fake checks every signature: a wrong secret is a 401.
        ksid = self.add("RJZ", self.kings, "kingstrust", "at-kings",
                        "not-the-secret")
        self.srv.post("pat", "@kingstrust hello")
        self.poll(ksid)
        self.tid = self.h.threads("RJZ")[0]["id"]
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Hello Pat").stdout)
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["error"], 20, "reply error")
        self.h.stop()
        self.assertIn("HTTP 401", self.reply_row(rid)["error"])
        self.assertNotEqual(self.reply_row(rid)["status"], "posted")
        self.assertEqual(self.srv.made_by("kingstrust"), [])
        self.assertTrue(self.srv.posts[0]["auth"].startswith("OAuth "))

    def test_refused_reply_shows_why(self):
        # Sam's post lets only those it mentions reply; Pat brings the
        # trust in, but X will not let the trust answer there.
        root = self.srv.post("sam", "@pat how was it?",
                             reply_settings="mentionedUsers")
        pat = self.srv.post("pat", "@guystrust awful, see above", root["id"])
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = self.send("Please DM us.")
        row = self.reply_row(rid)
        self.assertEqual(row["status"], "failed")
        self.assertIn(NOT_ENGAGED, row["error"])
        self.assertEqual(self.srv.made_by("guystrust"), [])
        self.assertEqual(json.loads(self.srv.posts[0]["raw"])["reply"],
                         {"in_reply_to_tweet_id": pat["id"]})


if __name__ == "__main__":
    unittest.main()
