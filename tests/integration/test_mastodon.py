"""End to end: the real heard polls a fake Mastodon and replies on it."""

import calendar
import os
import signal
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from fake_mastodon import FakeMastodon  # noqa: E402
from harness import Heard, wait_for  # noqa: E402

TOKEN = "guys-token-0123"


def iso_to_unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


class MastodonCase(unittest.TestCase):
    """A fresh heard (with the trust list), a fake instance, a source."""

    def setUp(self):
        self.srv = FakeMastodon()
        self.srv.add_account("guystrust", "Guy's and St Thomas'", TOKEN)
        self.srv.add_account("kingstrust", "King's College Hospital")
        self.srv.add_account("pat", "Pat Jones")
        self.srv.add_account("sam@remote.example", "Sam")
        self.h = Heard("[poll]\nbackoff_base = 1s\n")
        self.h.add_org()
        self.sid = self.h.add_source("RJ1", "mastodon", url=self.srv.base,
                                     token=TOKEN, account="guystrust",
                                     orgs="kingstrust=RJZ")

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def poll(self, check=True):
        return self.h.run("poll", str(self.sid), check=check)

    def items(self, org="RJ1"):
        out = []
        for t in self.h.threads(org):
            for i in self.h.thread(t["id"])["items"]:
                out.append((t["id"], i))
        return out

    def notification_gets(self):
        return [q for p, q in self.srv.gets if p == "/api/v1/notifications"]

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                return con.execute(query, args).fetchall()
        finally:
            con.close()


class PollTest(MastodonCase):

    def test_mentions_threaded_and_a_second_poll_adds_nothing(self):
        first = self.srv.status("pat", "@guystrust Six hours in A&E <ok?>")
        self.srv.status("sam@remote.example", "@guystrust same for me",
                        in_reply_to=first["id"])
        self.srv.status("pat", "@guystrust private: my letter",
                        visibility="direct")
        self.poll()
        threads = self.h.threads("RJ1")
        self.assertEqual(sorted(t["messages"] for t in threads), [1, 2])
        both = [t for t in threads if t["messages"] == 2][0]
        items = self.h.thread(both["id"])["items"]
        self.assertEqual([i["external_id"] for i in items],
                         [first["id"], str(int(first["id"]) + 1)])
        self.assertEqual(items[0]["body"],
                         "@guystrust Six hours in A&E <ok?>")
        self.assertEqual(items[0]["author"], "Pat Jones")
        self.assertEqual(items[1]["author"], "Sam")
        self.assertTrue(all(i["direction"] == "in" for i in items))
        # A reply to a mention polled earlier joins its thread.
        self.srv.status("pat", "@guystrust still waiting",
                        in_reply_to=first["id"])
        self.poll()
        self.assertEqual(self.h.thread(both["id"])["messages"], 3)
        self.assertEqual(len(self.h.threads("RJ1")), 2)
        # Nothing new: the same min_id, nothing added.
        before = self.sql("SELECT count(*), max(id) FROM messages")
        self.poll()
        self.assertEqual(self.sql("SELECT count(*), max(id) FROM messages"),
                         before)
        mins = [q["min_id"][0] for q in self.notification_gets()]
        self.assertEqual(mins, ["0", "23", "24"])
        for q in self.notification_gets():
            self.assertEqual(q["types[]"], ["mention"])
            self.assertEqual(q["limit"], ["40"])

    def test_paging_across_pages_leaves_no_gap(self):
        made = [self.srv.status("pat", "@guystrust note %d" % i)
                for i in range(95)]
        self.poll()
        got = {i["external_id"] for _, i in self.items()}
        self.assertEqual(got, {s["id"] for s in made})
        # 40 + 40 + 15: the short page ends the run.
        mins = [q["min_id"][0] for q in self.notification_gets()]
        self.assertEqual(mins, ["0", "60", "100"])
        more = [self.srv.status("pat", "@guystrust late %d" % i)
                for i in range(3)]
        self.poll()
        got = {i["external_id"] for _, i in self.items()}
        self.assertEqual(got, {s["id"] for s in made + more})
        self.assertEqual(self.notification_gets()[-1]["min_id"], ["115"])

    def test_two_organisations_mentioned_file_in_both(self):
        s = self.srv.status("pat", "@guystrust @kingstrust the transfer "
                            "lost my notes")
        self.poll()
        for org in ("RJ1", "RJZ"):
            threads = self.h.threads(org)
            self.assertEqual(len(threads), 1, org)
            items = self.h.thread(threads[0]["id"])["items"]
            self.assertEqual([i["external_id"] for i in items], [s["id"]])
        self.assertNotEqual(self.h.threads("RJ1")[0]["id"],
                            self.h.threads("RJZ")[0]["id"])


class FaultTest(MastodonCase):

    def test_429_is_honoured(self):
        self.srv.status("pat", "@guystrust hello")
        self.srv.set_window(0, 120)
        before = time.time()
        p = self.poll(check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(self.sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertIn("Too many requests", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 110)
        self.assertEqual(self.h.threads(), [])
        self.srv.set_window(300, 300)
        self.poll()
        self.assertEqual(len(self.h.threads("RJ1")), 1)

    def test_low_remaining_stops_the_run_before_a_429(self):
        made = [self.srv.status("pat", "@guystrust n%d" % i)
                for i in range(90)]
        # Three requests left in a window that ends in 200 s.
        self.srv.set_window(3, 200)
        before = time.time()
        self.poll()
        s = self.h.source(self.sid)
        self.assertEqual(len(self.notification_gets()), 1)
        self.assertEqual(len(self.items()), 40)
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 190)
        # The window over, the run resumes where it stood: no gap.
        self.srv.set_window(300, 300)
        self.poll()
        self.assertEqual({i["external_id"] for _, i in self.items()},
                         {m["id"] for m in made})
        self.assertEqual(self.notification_gets()[1]["min_id"], ["60"])

    def test_401_pauses_the_source(self):
        sid = self.h.add_source("RJ1", "mastodon", url=self.srv.base,
                                token="revoked-token-9", account="guystrust")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(sid)
        self.assertIn("auth", s["last_error"])
        self.assertIn("The access token is invalid", s["last_error"])
        self.assertTrue(s["paused"])
        self.assertIsNone(s["next_poll"])
        listed = self.h.run("sources", "list").stdout
        self.assertNotIn("revoked-token-9", listed)

    def test_malformed_page_keeps_what_was_stored(self):
        self.srv.status("pat", "@guystrust one")
        self.poll()
        self.srv.status("pat", "@guystrust two")
        self.srv.fault(200, "<html>", times=1)
        p = self.poll(check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("malformed", self.h.source(self.sid)["last_error"])
        self.assertEqual(len(self.items()), 1)
        self.poll()
        self.assertEqual(len(self.items()), 2)


class ReplyTest(MastodonCase):

    def reply_row(self, rid):
        return [r for r in self.h.thread(self.tid)["replies"]
                if r["id"] == rid][0]

    def test_direct_mention_answered_once_in_kind(self):
        first = self.srv.status("pat", "@guystrust my results, privately",
                                visibility="direct")
        later = self.srv.status("pat", "@guystrust also the letter",
                                in_reply_to=first["id"], visibility="direct")
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Please call us on 0207 188 7188.").stdout)
        key = self.sql("SELECT idempotency_key FROM reply_outbox "
                       "WHERE id = ?", rid)[0][0]
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["status"] == "posted", 20,
                 "reply posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 1)
        post = self.srv.posts[0]
        self.assertEqual(post["form"], {
            "status": "@pat Please call us on 0207 188 7188.",
            "in_reply_to_id": later["id"], "visibility": "direct"})
        self.assertEqual(post["key"], key)
        self.assertEqual(post["type"], "application/x-www-form-urlencoded")
        mine = self.srv.made_by("guystrust")
        self.assertEqual(len(mine), 1)
        self.assertEqual(self.reply_row(rid)["external_id"], mine[0]["id"])
        out = [i for i in self.h.thread(self.tid)["items"]
               if i["direction"] == "out"]
        self.assertEqual([i["external_id"] for i in out], [mine[0]["id"]])
        # The same key again (a resend after a crash) posts nothing new.
        self.assertEqual(self.srv.post_form("guystrust", post["form"],
                                            key)[1]["id"], mine[0]["id"])
        self.assertEqual(len(self.srv.made_by("guystrust")), 1)
        # A re-poll does not take the reply for a patient's post.
        self.poll()
        items = self.h.thread(self.tid)["items"]
        self.assertEqual([i["direction"] for i in items],
                         ["in", "in", "out"])
        self.assertEqual(len(self.items()), 3)

    def test_an_answer_to_our_reply_joins_the_thread(self):
        first = self.srv.status("pat", "@guystrust the ward was cold")
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Sorry, which ward?").stdout)
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["status"] == "posted", 20,
                 "reply posted")
        self.assertEqual(self.h.stop(), 0)
        ours = self.srv.made_by("guystrust")[0]
        self.assertEqual(ours["in_reply_to_id"], first["id"])
        # Pat answers our reply; its parent is no thread's root.
        answer = self.srv.status("pat", "@guystrust ward 5, at night",
                                 in_reply_to=ours["id"])
        self.poll()
        self.assertEqual(len(self.h.threads("RJ1")), 1)
        items = self.h.thread(self.tid)["items"]
        self.assertEqual([(i["external_id"], i["direction"]) for i in items],
                         [(first["id"], "in"), (ours["id"], "out"),
                          (answer["id"], "in")])
        self.assertIn("/api/v1/statuses/%s/context" % answer["id"],
                      [p for p, _ in self.srv.gets])
        # A reply to a thread's root needs no lookup: the root is known.
        looked = len(self.srv.gets)
        more = self.srv.status("pat", "@guystrust and the heating",
                               in_reply_to=first["id"])
        self.poll()
        self.assertEqual(self.h.thread(self.tid)["messages"], 4)
        self.assertEqual([p for p, _ in self.srv.gets[looked:]],
                         ["/api/v1/notifications"])
        self.assertIn(more["id"], [i["external_id"] for i in
                                   self.h.thread(self.tid)["items"]])

    def test_killed_mid_post_is_resent_with_its_key_and_posted_once(self):
        s = self.srv.status("pat", "@guystrust lost property?",
                            visibility="direct")
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "Ask at the front desk.").stdout)
        release, real = threading.Event(), self.srv.post_form

        def held(acct, form, key):
            release.wait(30)
            return real(acct, form, key)
        self.srv.post_form = held
        self.h.start()
        wait_for(lambda: self.srv.posts, 20, "the POST")
        self.h.stop(signal.SIGKILL)
        release.set()
        # The instance made the status; heard never heard back.
        wait_for(lambda: self.srv.made_by("guystrust"), 20, "the status")
        self.assertEqual(self.reply_row(rid)["status"], "posting")
        # Mastodon drops a repeated key, so heard sends it again itself.
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["status"] == "posted", 20,
                 "reply posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 2)
        self.assertEqual(self.srv.posts[0]["key"], self.srv.posts[1]["key"])
        self.assertEqual(self.srv.posts[1]["form"]["in_reply_to_id"], s["id"])
        mine = self.srv.made_by("guystrust")
        self.assertEqual(len(mine), 1)
        self.assertEqual(self.reply_row(rid)["external_id"], mine[0]["id"])
        self.assertEqual([i["direction"] for i in
                          self.h.thread(self.tid)["items"]], ["in", "out"])

    def test_public_mention_answered_unlisted(self):
        s = self.srv.status("pat", "@guystrust thanks to ward 5")
        self.poll()
        self.tid = self.h.threads("RJ1")[0]["id"]
        rid = int(self.h.run("reply", str(self.tid), "--body",
                             "@pat thank you, we told them.").stdout)
        self.h.start()
        wait_for(lambda: self.reply_row(rid)["status"] == "posted", 20,
                 "reply posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual([p["form"] for p in self.srv.posts], [{
            "status": "@pat thank you, we told them.",
            "in_reply_to_id": s["id"], "visibility": "unlisted"}])


if __name__ == "__main__":
    unittest.main()
