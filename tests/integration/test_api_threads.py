"""The JSON API's conversations with the real daemon: the list and its
filters, pages, one thread, read receipts, replies and staff actions, and
the access rules: a reviewer writes nothing, a lead of one trust cannot
see or touch another's threads (by the list or by guessing ids), writes
need the CSRF token, every write is audited, and a hostile post comes
back as the very text the patient wrote."""

import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from api_client import ApiClient  # noqa: E402
from fake_open311 import FakeOpen311  # noqa: E402
from feedserver import FeedServer, rss  # noqa: E402
from harness import HEARD, SOURCE_DIR, Heard, wait_for  # noqa: E402

import subprocess  # noqa: E402

PW = "correct horse battery staple"
KEY = "open311-key-for-tests"
HOSTILE = ('<script>alert("x")</script> and <img src=x '
           'onerror="alert(1)"> & so on')


def add_user(h, email, role, orgs=(), name=None):
    args = [HEARD, "-c", h.conf, "users", "add", email, "--role", role,
            "--password-stdin"]
    for o in orgs:
        args += ["--org", o]
    if name:
        args += ["--name", name]
    p = subprocess.run(args, input=PW + "\n", capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("users add %s: %s" % (email, p.stderr))
    return int(p.stdout.strip())


class ThreadsApi(unittest.TestCase):
    """One daemon for the class: RJ1 (care-connect and rss) and RTD (rss)."""

    @classmethod
    def setUpClass(cls):
        cls.h = h = Heard()
        h.run("orgs", "import",
              os.path.join(SOURCE_DIR, "data", "ods", "etr.csv"),
              os.path.join(SOURCE_DIR, "data", "ods",
                           "icb_names_codes_dec_2024.csv"))
        cls.o311 = FakeOpen311(api_key=KEY)
        cls.o311.add_request(638344, "2026-05-01T09:00:00Z",
                             service_name="Outpatients",
                             description=HOSTILE)
        cls.feeds = FeedServer()
        cls.feeds.put("/rj1.rss", rss("RJ1", [
            {"guid": "a1", "title": "Parking", "body": "No spaces at all."},
            {"guid": "a2", "title": "Kind nurses",
             "body": "The nurses on ward 5 were kind."},
            {"guid": "a3", "title": "Food", "body": "Cold food twice."}]))
        cls.feeds.put("/rtd.rss", rss("RTD", [
            {"guid": "b1", "title": "Newcastle parking",
             "body": "Parking was fine."},
            {"guid": "b2", "title": "Clinic", "body": "Quick clinic."}]))
        s1 = h.add_source("RJ1", "care-connect", endpoint=cls.o311.endpoint,
                          api_key=KEY)
        s2 = h.add_source("RJ1", "rss", url=cls.feeds.url("/rj1.rss"))
        s3 = h.add_source("RTD", "rss", url=cls.feeds.url("/rtd.rss"))
        for s in (s1, s2, s3):
            h.run("poll", str(s))
        cls.ids = {"admin": add_user(h, "admin@heard.test", "admin",
                                     name="Ada Admin"),
                   "lead": add_user(h, "lead.rj1@heard.test", "lead",
                                    ["RJ1"], "Lee Lead"),
                   "other": add_user(h, "lead.rtd@heard.test", "lead",
                                     ["RTD"], "Olu Other"),
                   "rev": add_user(h, "rev.qkk@heard.test", "reviewer",
                                   ["QKK"], "Rae Reviewer")}
        h.start()
        wait_for(lambda: cls.healthy(), 20, "the HTTP server")
        cls.c = {}
        for who, email in (("admin", "admin@heard.test"),
                           ("lead", "lead.rj1@heard.test"),
                           ("other", "lead.rtd@heard.test"),
                           ("rev", "rev.qkk@heard.test")):
            cls.c[who] = ApiClient(h.url)
            cls.c[who].login(email, PW)
        by = {t["subject"]: t["id"] for t in h.threads()}
        cls.t311 = by["Outpatients"]
        cls.tpark = by["Parking"]
        cls.trtd = by["Clinic"]

    @classmethod
    def healthy(cls):
        try:
            return ApiClient(cls.h.url).get("/healthz")[0] == 200
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        # A clean stop: under the sanitizers a leak or an error would
        # show here as a non-zero exit.
        rc = cls.h.stop()
        log = cls.h.log_text()
        cls.h.close()
        cls.o311.close()
        cls.feeds.close()
        if rc != 0 or "Sanitizer" in log:
            raise AssertionError("daemon ended %s:\n%s" % (rc, log[-3000:]))

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def ok(self, answer, status=200):
        self.assertEqual(answer[0], status, answer[2])
        return answer[2]

    def error(self, answer, status, code=None):
        self.assertEqual(answer[0], status, answer[2])
        body = answer[2]
        self.assertTrue(body["detail"], body)
        if code:
            self.assertEqual(body["error"], code, body)
        return body["detail"]

    def codes(self, who, query=""):
        page = self.ok(self.c[who].get("/api/v1/threads" + query))
        return [t["org"]["code"] for t in page["items"]]

    # -- reading -------------------------------------------------------

    def test_each_sees_what_they_may_read(self):
        self.assertEqual(sorted(set(self.codes("admin"))), ["RJ1", "RTD"])
        self.assertEqual(len(self.codes("admin")), 6)
        self.assertEqual(set(self.codes("lead")), {"RJ1"})
        self.assertEqual(len(self.codes("lead")), 4)
        self.assertEqual(set(self.codes("other")), {"RTD"})
        # The ICB QKK's reviewer reads the trust it commissions.
        self.assertEqual(set(self.codes("rev")), {"RJ1"})
        # Naming another trust gives nothing, not its threads.
        self.assertEqual(self.codes("other", "?org=RJ1"), [])

    def test_filters_and_pages(self):
        c = self.c["admin"]
        self.assertEqual(self.codes("admin", "?org=rtd"), ["RTD", "RTD"])
        page = self.ok(c.get("/api/v1/threads?connector=care-connect"))
        self.assertEqual([t["id"] for t in page["items"]], [self.t311])
        page = self.ok(c.get("/api/v1/threads?q=nurses%20kind"))
        self.assertEqual([t["subject"] for t in page["items"]],
                         ["Kind nurses"])
        page = self.ok(c.get("/api/v1/threads?q=park"))
        self.assertEqual(len(page["items"]), 2)
        seen, cursor, pages = [], None, 0
        while True:
            q = "?limit=4" + ("&cursor=" + cursor if cursor else "")
            page = self.ok(c.get("/api/v1/threads" + q))
            seen += [t["id"] for t in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(sorted(seen), sorted(set(seen)))
        self.assertEqual(len(seen), 6)
        item = self.ok(c.get("/api/v1/threads?limit=1"))["items"][0]
        for k in ("id", "reference", "channel_reference", "org",
                  "connector", "source", "subject", "status", "severity",
                  "assignee", "tags", "messages", "unread", "first_at",
                  "last_at", "snippet"):
            self.assertIn(k, item)

    def test_bad_queries(self):
        c = self.c["lead"]
        d = self.error(c.get("/api/v1/threads?cursor=bm90LWEtY3Vyc29y"),
                       400, "bad_request")
        self.assertIn("cursor", d)
        self.error(c.get("/api/v1/threads?cursor=%21%21"), 400)
        self.assertIn("status", self.error(
            c.get("/api/v1/threads?status=bogus"), 422, "invalid"))
        self.error(c.get("/api/v1/threads?severity=dire"), 422)
        self.error(c.get("/api/v1/threads?limit=0"), 400)
        self.error(c.get("/api/v1/threads?limit=201"), 400)
        self.error(c.get("/api/v1/threads?limit=ten"), 400)
        self.error(c.get("/api/v1/threads?unread=yes"), 400)
        self.error(c.get("/api/v1/threads?assigned=you"), 400)
        self.error(c.get("/api/v1/threads?q=" + "x" * 300), 400)
        self.error(c.get("/api/v1/threads/abc"), 404)
        self.error(c.get("/api/v1/threads/0"), 404)

    def test_hostile_post_comes_back_as_text(self):
        status, headers, t = self.c["lead"].get("/api/v1/threads/%d" %
                                                self.t311)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith(
            "application/json"))
        self.assertEqual(t["items"][0]["body"], HOSTILE)
        self.assertEqual(t["reply_mode"], "api")
        self.assertEqual(t["can"], {"reply": True, "write": True})
        self.assertEqual(t["channel_reference"], "638344")
        rev = self.ok(self.c["rev"].get("/api/v1/threads/%d" % self.t311))
        self.assertEqual(rev["can"], {"reply": False, "write": False})
        rss_t = self.ok(self.c["lead"].get("/api/v1/threads/%d" %
                                           self.tpark))
        self.assertEqual(rss_t["reply_mode"], "none")
        self.assertEqual(rss_t["can"], {"reply": False, "write": True})

    def test_other_trust_cannot_read_or_write_by_id(self):
        c = self.c["other"]
        missing = self.error(c.get("/api/v1/threads/999999"), 404,
                             "not_found")
        guessed = self.error(c.get("/api/v1/threads/%d" % self.t311), 404,
                             "not_found")
        self.assertEqual(missing.replace("999999", "N"),
                         guessed.replace(str(self.t311), "N"))
        for method, path, body in self.writes(self.t311):
            self.error(c.request(method, path, body), 404, "not_found")
        self.error(c.post("/api/v1/threads/%d/read" % self.t311), 404)
        self.assertEqual(self.sql("SELECT count(*) FROM audit_log WHERE "
                                  "user_id = ? AND object = ?",
                                  self.ids["other"], "thread:%d" % self.t311),
                         [(0,)])

    def writes(self, tid):
        p = "/api/v1/threads/%d" % tid
        return [("POST", p + "/status", {"status": "open"}),
                ("POST", p + "/assign", {"user_id": None}),
                ("POST", p + "/severity", {"severity": "high"}),
                ("PUT", p + "/tags", {"tags": ["x"]}),
                ("POST", p + "/hide", {"reason": "spam"}),
                ("POST", p + "/unhide", {}),
                ("POST", p + "/replies", {"body": "Thank you."})]

    def test_reviewer_writes_nothing(self):
        c = self.c["rev"]
        before = self.sql("SELECT status, severity, hidden_reason FROM "
                          "threads WHERE id = ?", self.t311)
        for method, path, body in self.writes(self.t311):
            self.error(c.request(method, path, body), 403, "forbidden")
        self.assertEqual(self.sql("SELECT status, severity, hidden_reason "
                                  "FROM threads WHERE id = ?", self.t311),
                         before)
        self.assertEqual(self.sql("SELECT count(*) FROM reply_outbox WHERE "
                                  "user_id = ?", self.ids["rev"]), [(0,)])
        self.assertEqual(self.sql("SELECT count(*) FROM audit_log WHERE "
                                  "user_id = ? AND action LIKE 'thread.%'",
                                  self.ids["rev"]), [(0,)])
        # A read receipt is the reader's own record: allowed.
        self.ok(c.post("/api/v1/threads/%d/read" % self.t311), 204)

    def test_write_without_csrf_is_refused(self):
        c = self.c["lead"]
        p = "/api/v1/threads/%d/severity" % self.tpark
        self.error(c.post(p, {"severity": "urgent"}, csrf=False), 403,
                   "csrf")
        self.error(c.post(p, {"severity": "urgent"},
                          headers={"X-CSRF-Token": "wrong"}, csrf=False),
                   403, "csrf")
        self.assertNotEqual(self.sql("SELECT severity FROM threads WHERE "
                                     "id = ?", self.tpark), [("urgent",)])

    def test_actions_are_audited(self):
        c = self.c["lead"]
        p = "/api/v1/threads/%d" % self.tpark
        t = self.ok(c.post(p + "/status", {"status": "in_progress"}))
        self.assertEqual(t["status"], "in_progress")
        t = self.ok(c.post(p + "/severity", {"severity": "high"}))
        self.assertEqual(t["severity"], "high")
        t = self.ok(c.post(p + "/assign", {"user_id": self.ids["rev"]}))
        self.assertEqual(t["assignee"], {"id": self.ids["rev"],
                                         "name": "Rae Reviewer"})
        self.assertIn("cannot read", self.error(
            c.post(p + "/assign", {"user_id": self.ids["other"]}), 422))
        t = self.ok(c.post(p + "/assign", {"user_id": None}))
        self.assertIsNone(t["assignee"])
        t = self.ok(c.put(p + "/tags", {"tags": [" Car  Park ", "car park",
                                                 "Signage"]}))
        self.assertEqual(t["tags"], ["car park", "signage"])
        t = self.ok(c.post(p + "/hide", {"reason": "Names a member of "
                                                   "staff"}))
        self.assertEqual(t["status"], "hidden")
        self.assertEqual(t["hidden_reason"], "Names a member of staff")
        self.assertNotIn(self.tpark, [x["id"] for x in self.ok(
            c.get("/api/v1/threads"))["items"]])
        self.assertIn(self.tpark, [x["id"] for x in self.ok(
            c.get("/api/v1/threads?status=hidden"))["items"]])
        self.error(c.post(p + "/status", {"status": "open"}), 409,
                   "conflict")
        t = self.ok(c.post(p + "/unhide"))
        self.assertEqual(t["status"], "in_progress")
        rows = self.sql("SELECT action, detail FROM audit_log WHERE "
                        "user_id = ? AND object = ? ORDER BY id",
                        self.ids["lead"], "thread:%d" % self.tpark)
        self.assertEqual([r[0] for r in rows],
                         ["thread.status", "thread.severity",
                          "thread.assign", "thread.assign", "thread.tags",
                          "thread.hide", "thread.unhide"])
        for _, detail in rows:
            self.assertNotIn("No spaces", detail)
        audit = self.ok(self.c["admin"].get(
            "/api/v1/audit?object=thread:%d" % self.tpark))
        self.assertEqual(len(audit["items"]), 7)
        self.assertEqual(audit["items"][0]["action"], "thread.unhide")
        self.assertEqual(audit["items"][0]["user"]["name"], "Lee Lead")
        self.error(c.get("/api/v1/audit"), 403)

    def test_bad_bodies(self):
        c = self.c["lead"]
        p = "/api/v1/threads/%d" % self.tpark
        self.assertIn("must be a string", self.error(
            c.post(p + "/status", {"status": 5}), 400, "bad_request"))
        self.assertIn("unknown field", self.error(
            c.post(p + "/status", {"status": "open", "why": "x"}), 400))
        self.error(c.post(p + "/status", {"status": "hidden"}), 422,
                   "invalid")
        self.error(c.post(p + "/status", {"status": "done"}), 422)
        self.error(c.post(p + "/status", {}), 400)
        self.error(c.post(p + "/severity", {"severity": "dire"}), 422)
        self.error(c.post(p + "/assign", {}), 400)
        self.error(c.post(p + "/assign", {"user_id": "me"}), 400)
        self.error(c.post(p + "/assign", {"user_id": 424242}), 422)
        self.error(c.put(p + "/tags", {"tags": "a,b"}), 400)
        self.error(c.put(p + "/tags", {"tags": [1]}), 400)
        self.error(c.put(p + "/tags", {"tags": ["t%d" % i
                                                for i in range(21)]}), 422)
        self.error(c.put(p + "/tags", {"tags": ["x" * 41]}), 422)
        self.error(c.post(p + "/hide", {"reason": "   "}), 422)
        self.error(c.post(p + "/hide", {"reason": "x" * 501}), 422)
        self.error(c.post(p + "/hide", {}), 400)
        self.error(c.post(p + "/replies", {"body": ""}), 422)
        self.error(c.post(p + "/status", raw=b"{not json",
                          headers={"Content-Type": "application/json"}), 400)
        self.error(c.post(p + "/status", ["open"]), 400)
        self.assertEqual(self.sql("SELECT count(*) FROM thread_tags WHERE "
                                  "thread_id = ? AND tag LIKE 'x%'",
                                  self.tpark), [(0,)])

    def test_read_receipts(self):
        c = self.c["lead"]
        p = "/api/v1/threads/%d" % self.trtd
        o = self.c["other"]
        self.assertTrue(self.ok(o.get(p))["unread"])
        self.ok(o.post(p + "/read"), 204)
        t = self.ok(o.get(p))
        self.assertFalse(t["unread"])
        self.assertEqual([r["user"]["name"] for r in t["read_by"]],
                         ["Olu Other"])
        self.assertTrue(t["read_by"][0]["read_at"].endswith("Z"))
        unread = self.ok(o.get("/api/v1/threads?unread=1"))["items"]
        self.assertNotIn(self.trtd, [x["id"] for x in unread])
        self.ok(o.delete(p + "/read"), 204)
        self.assertTrue(self.ok(o.get(p))["unread"])
        self.error(c.post(p + "/read"), 404)

    def test_reply_is_posted_by_the_loop(self):
        c = self.c["lead"]
        r = self.ok(c.post("/api/v1/threads/%d/replies" % self.t311,
                           {"body": "We are sorry; please call us."}), 202)
        self.assertEqual(r["mode"], "api")
        self.assertIsNone(r["task"])
        self.assertEqual(r["reply"]["via"], "web")
        wait_for(lambda: any(u["description"] ==
                             "We are sorry; please call us."
                             for u in self.o311.updates), 20,
                 "the reply on the Open311 server")
        # A script with a token is "api", and needs no CSRF token.
        tok = ApiClient(self.h.url, token=c.new_token("script"))
        r = self.ok(tok.post("/api/v1/threads/%d/replies" % self.t311,
                             {"body": "A second answer."}), 202)
        self.assertEqual(r["reply"]["via"], "api")
        self.assertGreaterEqual(self.sql(
            "SELECT count(*) FROM audit_log WHERE user_id = ? AND object "
            "= ? AND action LIKE 'reply.%'", self.ids["lead"],
            "thread:%d" % self.t311)[0][0], 2)
        self.error(c.post("/api/v1/threads/%d/replies" % self.tpark,
                          {"body": "rss takes none"}), 422)

    def test_counts_and_stats(self):
        counts = self.ok(self.c["lead"].get("/api/v1/threads/counts"))
        self.assertEqual([o["code"] for o in counts["orgs"]], ["RJ1"])
        self.assertEqual(sorted(x["name"] for x in counts["connectors"]),
                         ["care-connect", "rss"])
        st = self.ok(self.c["other"].get("/api/v1/stats"))
        self.assertEqual(st["connectors"], {"rss": 2})
        self.assertIn("median_first_response_s", st)
        st = self.ok(self.c["other"].get("/api/v1/stats?org=RJ1"))
        self.assertEqual(st["threads"], {})


if __name__ == "__main__":
    unittest.main()
