"""End to end: the real heard polls RSS/Atom from a local server into threads."""

import calendar
import os
import signal
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from feedserver import rss  # noqa: E402
from harness import Heard, HeardTestCase, wait_for  # noqa: E402

ITEMS = [
    {"guid": "story-1", "title": "Kind staff on ward 5",
     "body": "The nurses were kind and explained everything."},
    {"guid": "story-2", "title": "Long wait in A&amp;E",
     "body": "Five hours and nobody told us why."},
    {"guid": "story-3", "title": "Parking",
     "body": "&lt;p&gt;No spaces &lt;b&gt;at all&lt;/b&gt;&lt;/p&gt;"},
]


def iso_to_unix(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


class PollTest(HeardTestCase):

    def add_feed(self, path="/rj1.rss", items=ITEMS, **settings):
        self.srv.put(path, rss("RJ1 stories", items))
        return self.h.add_source("RJ1", "rss", url=self.srv.url(path),
                                 **settings)

    def test_new_items_become_threads_and_repoll_adds_nothing(self):
        sid = self.add_feed()
        self.h.run("poll", str(sid))
        threads = self.h.threads("RJ1")
        self.assertEqual(len(threads), 3)
        self.assertEqual({t["connector"] for t in threads}, {"rss"})
        self.assertEqual({t["org"] for t in threads}, {"RJ1"})
        self.assertTrue(all(t["status"] == "new" for t in threads))
        self.assertEqual(len({t["reference"] for t in threads}), 3)
        parking = [t for t in threads if t["subject"] == "Parking"][0]
        item = self.h.thread(parking["id"])["items"][0]
        self.assertEqual(item["external_id"], "story-3")
        self.assertEqual(item["direction"], "in")
        self.assertEqual(item["body"], "No spaces at all")  # HTML stripped

        # Second poll: a conditional GET, answered 304, adds nothing.
        self.h.run("poll", str(sid))
        route = self.srv.route("/rj1.rss")
        self.assertEqual(route.not_modified, 1)
        self.assertIn("If-None-Match", route.requests[-1][1])
        self.assertEqual(self.h.threads("RJ1"), threads)
        self.assertEqual(self.h.source(sid)["failures"], 0)

    def test_unconditional_repoll_adds_nothing(self):
        sid = self.add_feed()
        self.h.run("poll", str(sid))
        # Same items, new validators: a full 200 that must not duplicate.
        self.srv.put("/rj1.rss", rss("RJ1 stories, renamed", ITEMS))
        self.h.run("poll", str(sid))
        threads = self.h.threads("RJ1")
        self.assertEqual(len(threads), 3)
        self.assertTrue(all(t["messages"] == 1 for t in threads))

    def test_changed_item_is_updated_in_place(self):
        sid = self.add_feed()
        self.h.run("poll", str(sid))
        tid = [t for t in self.h.threads() if t["subject"] ==
               "Kind staff on ward 5"][0]["id"]
        before = self.h.thread(tid)["items"][0]
        edited = [dict(ITEMS[0], body="Edited: the nurses were wonderful.")]
        self.srv.put("/rj1.rss", rss("RJ1 stories", edited + ITEMS[1:]))
        self.h.run("poll", str(sid))
        after = self.h.thread(tid)
        self.assertEqual(len(after["items"]), 1)
        self.assertEqual(after["items"][0]["id"], before["id"])
        self.assertEqual(after["items"][0]["body"],
                         "Edited: the nurses were wonderful.")
        self.assertEqual(len(self.h.threads()), 3)

    def test_malformed_feed_records_error_and_loses_nothing(self):
        sid = self.add_feed()
        self.h.run("poll", str(sid))
        self.srv.put("/rj1.rss", b"<?xml version='1.0'?><rss><channel>"
                     b"<item><title>broken")
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("source %d" % sid, p.stderr)
        s = self.h.source(sid)
        self.assertEqual(s["failures"], 1)
        self.assertIn("malformed", s["last_error"])
        self.assertEqual(len(self.h.threads()), 3)

    def test_html_error_page_404_and_redirect_loop(self):
        sid = self.add_feed()
        self.h.run("poll", str(sid))
        cases = [
            (dict(kind="body", body=b"<!DOCTYPE html><html><head><title>"
                  b"Service Unavailable</title></head><body>down"
                  b"</body></html>"), "malformed"),
            (dict(kind="status", status=404, body=b"gone"), "not-found"),
            (dict(kind="redirect_loop"), "redirect"),
        ]
        for n, (fault, word) in enumerate(cases, 1):
            self.srv.fault("/rj1.rss", **fault)
            p = self.h.run("poll", str(sid), check=False)
            self.assertNotEqual(p.returncode, 0, fault)
            s = self.h.source(sid)
            self.assertEqual(s["failures"], n)
            self.assertIn(word, s["last_error"])
        self.assertEqual(len(self.h.threads()), 3)

    def test_truncated_body_is_an_error(self):
        sid = self.add_feed()
        self.srv.fault("/rj1.rss", kind="truncated",
                       body=rss("x", ITEMS)[:200])
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.h.source(sid)["failures"], 1)
        self.assertEqual(self.h.threads(), [])

    def test_back_off_grows_on_500_and_honours_retry_after(self):
        sid = self.add_feed()
        self.srv.fault("/rj1.rss", kind="status", status=500)
        waits = []
        for _ in range(3):
            before = time.time()
            self.h.run("poll", str(sid), check=False)
            s = self.h.source(sid)
            self.assertIn("transient", s["last_error"])
            waits.append(iso_to_unix(s["next_poll"]) - before)
        self.assertEqual(self.h.source(sid)["failures"], 3)
        # backoff_base 10s doubling: about 10, 20, 40 (jitter is 0).
        self.assertTrue(8 <= waits[0] <= 13, waits)
        self.assertTrue(waits[0] < waits[1] < waits[2], waits)

        self.srv.fault("/rj1.rss", kind="status", status=429,
                       retry_after=1800)
        before = time.time()
        self.h.run("poll", str(sid), check=False)
        s = self.h.source(sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertGreaterEqual(iso_to_unix(s["next_poll"]) - before, 1790)

        # A success clears the failures.
        self.srv.clear("/rj1.rss")
        self.h.run("poll", str(sid))
        s = self.h.source(sid)
        self.assertEqual(s["failures"], 0)
        self.assertIsNotNone(s["last_ok"])

    def test_time_out_is_transient(self):
        sid = self.add_feed()
        self.srv.fault("/rj1.rss", kind="stall", seconds=6)
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("transient", self.h.source(sid)["last_error"])

    def test_huge_body_is_refused(self):
        self.h.write_config("[poll]\nmax_body = 64K\n")
        big = [{"guid": "g%d" % i, "title": "t%d" % i, "body": "x" * 1000}
               for i in range(200)]
        sid = self.add_feed(items=big)
        p = self.h.run("poll", str(sid), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("larger", self.h.source(sid)["last_error"])
        self.assertEqual(self.h.threads(), [])


class DaemonTest(HeardTestCase):

    def test_daemon_polls_keeps_going_past_a_failing_source(self):
        self.srv.put("/good.rss", rss("good", ITEMS))
        self.srv.put("/bad.rss", b"")
        self.srv.fault("/bad.rss", kind="status", status=503)
        good = self.h.add_source("RJ1", "rss", url=self.srv.url("/good.rss"))
        bad = self.h.add_source("RJ1", "rss", url=self.srv.url("/bad.rss"))
        self.h.start()
        wait_for(lambda: len(self.h.threads()) == 3, what="3 threads")
        wait_for(lambda: self.h.source(bad)["failures"] >= 1,
                 what="bad source failing")
        self.assertEqual(self.h.source(good)["failures"], 0)
        self.assertIn("source %d" % bad, self.h.log_text())
        self.assertEqual(self.h.stop(), 0)

    def test_sighup_reload_is_all_or_nothing(self):
        self.srv.put("/a.rss", rss("a", ITEMS[:1]))
        self.h.add_source("RJ1", "rss", url=self.srv.url("/a.rss"))
        self.h.start()
        wait_for(lambda: len(self.h.threads()) == 1, what="1 thread")
        with open(self.h.conf, "a") as f:
            f.write("[poll]\nper_host = many\n")
        self.h.daemon.send_signal(signal.SIGHUP)
        self.h.wait_log("heard.conf:")
        self.assertIsNone(self.h.daemon.poll())  # still running
        # A source added while running is polled after a good reload.
        self.h.write_config()
        self.srv.put("/b.rss", rss("b", ITEMS[1:]))
        self.h.add_source("RJ1", "rss", url=self.srv.url("/b.rss"))
        self.h.daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: len(self.h.threads()) == 3, what="3 threads")
        self.assertEqual(self.h.stop(), 0)

    def test_source_added_while_running_is_polled_without_a_signal(self):
        self.h.write_config("[poll]\nresync = 1s\n")
        self.srv.put("/a.rss", rss("a", ITEMS[:1]))
        self.h.add_source("RJ1", "rss", url=self.srv.url("/a.rss"))
        self.h.start()
        wait_for(lambda: len(self.h.threads()) == 1, what="1 thread")
        self.srv.put("/b.rss", rss("b", ITEMS[1:]))
        self.h.add_source("RJ1", "rss", url=self.srv.url("/b.rss"))
        wait_for(lambda: len(self.h.threads()) == 3, what="3 threads")
        self.assertEqual(self.h.stop(), 0)

    def test_kill_9_during_ingest_stores_every_item_once(self):
        feeds = 12
        per_feed = 400
        for f in range(feeds):
            items = [{"guid": "f%d-i%d" % (f, i), "title": "t %d" % i,
                      "body": "story %d of feed %d " % (i, f) * 5}
                     for i in range(per_feed)]
            self.srv.put("/f%d.rss" % f, rss("feed %d" % f, items))
            self.h.add_source("RJ1", "rss", url=self.srv.url("/f%d.rss" % f))
        total = feeds * per_feed
        db = self.h.db

        def stored():
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                                      timeout=5)
                n = con.execute("SELECT count(*) FROM messages").fetchone()
                con.close()
                return n[0]
            except sqlite3.Error:
                return 0

        kills = 0
        for _ in range(3):
            self.h.start()
            before = stored()
            if before >= total:
                break
            try:
                wait_for(lambda: stored() > before, 30, "progress")
            except AssertionError:
                break
            self.h.stop(signal.SIGKILL)
            kills += 1
        self.assertGreater(kills, 0)
        if self.h.daemon is None:
            self.h.start()
        wait_for(lambda: stored() == total, 60, "every item stored")
        self.assertEqual(self.h.stop(), 0)
        con = sqlite3.connect(db)
        dup = con.execute("SELECT count(*) FROM (SELECT external_id FROM "
                          "messages GROUP BY external_id HAVING count(*) "
                          "> 1)").fetchone()[0]
        self.assertEqual(dup, 0)
        self.assertEqual(len(self.h.threads()), total)


class CommandLineTest(unittest.TestCase):

    def setUp(self):
        self.h = Heard()

    def tearDown(self):
        self.h.close()

    def test_bad_config_line_names_file_and_line(self):
        with open(self.h.conf, "a") as f:
            f.write("[poll]\ninterval = soon\n")
        p = self.h.run("check-config", check=False)
        self.assertNotEqual(p.returncode, 0)
        with open(self.h.conf) as f:
            lines = f.read().splitlines()
        line = lines.index("interval = soon") + 1
        self.assertIn("%s:%d:" % (self.h.conf, line), p.stderr)

    def test_sources_add_refuses_bad_settings(self):
        self.h.add_org()
        p = self.h.run("sources", "add", "RJ1", "rss", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("url", p.stderr)
        p = self.h.run("sources", "add", "NOPE1", "rss",
                       "url=http://127.0.0.1/", check=False)
        self.assertIn("NOPE1", p.stderr)
        p = self.h.run("sources", "add", "RJ1", "rss", "url=gopher://x/",
                       check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_demo_shows_threads_within_seconds(self):
        self.h.start("--demo")
        wait_for(lambda: len(self.h.threads("RJ1")) == 7, 30, "demo threads")
        refs = {t["subject"] for t in self.h.threads("RJ1")}
        self.assertIn("Kind nurses on the stroke unit", refs)
        self.assertIn("Pharmacy queue after discharge", refs)
        self.assertEqual(self.h.stop(), 0)
        # Seeding again is idempotent: still three sources.
        self.h.start("--demo")
        wait_for(lambda: self.h.log_text().count("heard: serving") >= 2, 20,
                 "second daemon serving")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.h.json("sources", "list")), 3)

    def test_orgs_search_finds_the_trust(self):
        self.h.add_org()
        found = self.h.json("orgs", "search", "guy's and st")
        self.assertEqual(found[0]["code"], "RJ1")
        self.assertEqual(self.h.json("orgs", "search", "RJ1")[0]["name"],
                         "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST")


if __name__ == "__main__":
    unittest.main(verbosity=2)
