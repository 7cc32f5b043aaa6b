"""A source paused through the API is not polled, and un-pausing polls it at
once: the real daemon, a local feed server, and a second source whose own
polls are the clock (every wait is on a condition, never a sleep)."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from api_client import ApiClient  # noqa: E402
from feedserver import FeedServer, rss  # noqa: E402
from harness import HEARD, Heard, wait_for  # noqa: E402

PW = "correct horse battery staple"


class PauseTest(unittest.TestCase):

    def setUp(self):
        self.h = Heard()
        self.h.add_org()
        self.feeds = FeedServer()
        p = subprocess.run([HEARD, "-c", self.h.conf, "users", "add",
                            "admin@heard.test", "--role", "admin",
                            "--password-stdin"], input=PW + "\n",
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.h.start()
        wait_for(self.healthy, 20, "the HTTP server")
        self.a = ApiClient(self.h.url)
        self.a.login("admin@heard.test", PW)

    def healthy(self):
        try:
            return ApiClient(self.h.url).get("/healthz")[0] == 200
        except OSError:
            return False

    def tearDown(self):
        rc = self.h.stop()
        log = self.h.log_text()
        self.h.close()
        self.feeds.close()
        if rc != 0 or "Sanitizer" in log:
            raise AssertionError("daemon ended %s:\n%s" % (rc, log[-3000:]))

    def gets(self, path):
        return len(self.feeds.routes[path].requests)

    def add(self, path):
        self.feeds.put(path, rss("RJ1", [{"guid": path, "title": "Story",
                                          "body": "Kind staff."}]))
        st, _, s = self.a.post("/api/v1/sources", {
            "org": "RJ1", "connector": "rss",
            "settings": {"url": self.feeds.url(path), "interval": "10s"}})
        self.assertEqual(st, 201, s)
        wait_for(lambda: self.gets(path) >= 1, 20, "the first poll of " +
                 path)
        return s["id"]

    def test_paused_is_not_polled_and_unpausing_polls_at_once(self):
        a = self.add("/a.rss")
        st, _, s = self.a.patch("/api/v1/sources/%d" % a, {"paused": True})
        self.assertEqual(st, 200, s)
        self.assertEqual(s["health"], "paused")
        b = self.add("/b.rss")
        seen = self.gets("/a.rss")
        # b was added after a, both every 10 s: by b's second poll a
        # would have been due too.
        wait_for(lambda: self.gets("/b.rss") >= 2, 40, "b polled again")
        self.assertEqual(self.gets("/a.rss"), seen)
        st, _, s = self.a.patch("/api/v1/sources/%d" % a, {"paused": False})
        self.assertEqual(st, 200, s)
        self.assertNotEqual(s["health"], "paused")
        wait_for(lambda: self.gets("/a.rss") > seen, 20,
                 "a polled once un-paused")
        self.assertNotEqual(a, b)


if __name__ == "__main__":
    unittest.main()
