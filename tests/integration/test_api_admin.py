"""The JSON API's administration with the real daemon: the ODS search,
an organisation's channels prefilled, sign-up from search to the first
polled thread and the invited lead's mail and first log-in, sources
(masked secrets, pause, edit, poll now), users, connectors and the audit
log, and who may do each."""

import os
import re
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from api_client import ApiClient  # noqa: E402
from feedserver import FeedServer, rss  # noqa: E402
from harness import HEARD, SOURCE_DIR, Heard, wait_for  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

PW = "correct horse battery staple"
BASE = "https://heard.example.nhs.uk"
NHSW_KEY = "nhs-website-key-kept"


def add_user(h, email, role, orgs=()):
    args = [HEARD, "-c", h.conf, "users", "add", email, "--role", role,
            "--password-stdin"]
    for o in orgs:
        args += ["--org", o]
    p = subprocess.run(args, input=PW + "\n", capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("users add %s: %s" % (email, p.stderr))
    return int(p.stdout.strip())


class AdminApi(unittest.TestCase):

    def setUp(self):
        self.h = h = Heard()
        self.feeds = FeedServer()
        self.sink = SmtpSink(os.path.join(h.dir.name, "sink")).start()
        secret = os.path.join(h.dir.name, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "wb") as f:
            f.write(os.urandom(32))
        h.write_config("[http]\nbase_url = %s\n[mail]\nsmtp_url = %s\n"
                       "from = heard <heard@trust.nhs.uk>\nsecret_file = %s\n"
                       % (BASE, self.sink.url, secret))
        h.run("orgs", "import",
              os.path.join(SOURCE_DIR, "data", "ods", "etr.csv"),
              os.path.join(SOURCE_DIR, "data", "ods",
                           "icb_names_codes_dec_2024.csv"))
        # A key heard already uses for the NHS website (another trust,
        # paused so that nothing leaves this machine).
        self.kept = h.add_source("RTD", "nhs-website", ods_code="RTD",
                                 subscription_key=NHSW_KEY)
        self.sql("UPDATE sources SET paused = 1 WHERE id = ?", self.kept)
        self.admin_id = add_user(h, "admin@heard.test", "admin")
        self.lead_id = add_user(h, "lead.rtd@heard.test", "lead", ["RTD"])
        self.rev_id = add_user(h, "rev.qhm@heard.test", "reviewer", ["QHM"])
        h.start()
        wait_for(self.healthy, 20, "the HTTP server")
        self.admin = ApiClient(h.url)
        self.admin.login("admin@heard.test", PW)
        self.lead = ApiClient(h.url)
        self.lead.login("lead.rtd@heard.test", PW)
        self.rev = ApiClient(h.url)
        self.rev.login("rev.qhm@heard.test", PW)

    def healthy(self):
        try:
            return ApiClient(self.h.url).get("/healthz")[0] == 200
        except OSError:
            return False

    def tearDown(self):
        rc = self.h.stop()
        log = self.h.log_text()
        self.h.close()
        self.sink.stop()
        self.feeds.close()
        if rc != 0 or "Sanitizer" in log:
            raise AssertionError("daemon ended %s:\n%s" % (rc, log[-3000:]))

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                return con.execute(query, args).fetchall()
        finally:
            con.close()

    def ok(self, answer, status=200):
        self.assertEqual(answer[0], status, answer[2])
        return answer[2]

    def error(self, answer, status, code=None):
        self.assertEqual(answer[0], status, answer[2])
        if code:
            self.assertEqual(answer[2]["error"], code, answer[2])
        return answer[2]["detail"]

    def test_signup_from_search_to_first_thread(self):
        a = self.admin
        found = self.ok(a.get("/api/v1/organisations?q=king%27s%20college"))
        codes = [o["code"] for o in found["items"]]
        self.assertIn("RJZ", codes)
        rjz = found["items"][codes.index("RJZ")]
        self.assertEqual(rjz["parent_code"], "QKK")
        self.assertTrue(rjz["open"])
        org = self.ok(a.get("/api/v1/organisations/rjz"))
        self.assertEqual(org["code"], "RJZ")
        self.assertEqual(org["sources"], [])
        chans = {c["connector"]: c for c in org["channels"]}
        self.assertEqual(chans["nhs-website"]["settings"],
                         {"ods_code": "RJZ", "subscription_key": "***"})
        self.assertEqual(chans["nhs-website"]["needs"], [])
        self.assertEqual(chans["care-opinion"]["settings"], {"nacs": "RJZ"})
        self.assertEqual(chans["care-opinion"]["needs"],
                         ["subscription_key"])
        self.assertEqual(chans["nhs-choices"]["settings"]["ods_code"], "RJZ")
        self.assertEqual(chans["rss"]["needs"], ["url"])
        self.assertEqual(chans["care-connect"]["needs"], ["endpoint"])
        self.assertEqual(chans["care-connect"]["reply"], "api")
        self.assertEqual(chans["care-opinion"]["reply"], "handoff")
        # The key itself never leaves heard.
        self.assertNotIn(NHSW_KEY, str(org))

        self.feeds.put("/rjz.rss", rss("King's", [
            {"guid": "k1", "title": "Dental clinic",
             "body": "Seen on time, thank you."}]))
        before = self.sql("SELECT count(*) FROM sources")
        body = {"sources": [{"connector": "rss",
                             "settings": {"url": self.feeds.url("/rjz.rss")}},
                            {"connector": "nhs-website",
                             "settings": {"ods_code": "RJZ",
                                          "subscription_key": "***"}}],
                "leads": ["Pat.New@heard.test"]}
        # One bad source and nothing at all is made.
        bad = {"sources": [body["sources"][0],
                           {"connector": "care-opinion",
                            "settings": {"nacs": "RJZ"}}],
               "leads": body["leads"]}
        d = self.error(a.post("/api/v1/organisations/RJZ/signup", bad), 422,
                       "invalid")
        self.assertIn("sources[1]", d)
        self.assertIn("care-opinion", d)
        self.assertIn("subscription_key", d)
        self.assertEqual(self.sql("SELECT count(*) FROM sources"), before)
        self.assertEqual(self.sql("SELECT count(*) FROM users WHERE email ="
                                  " 'Pat.New@heard.test'"), [(0,)])

        r = self.ok(a.post("/api/v1/organisations/RJZ/signup", body), 201)
        self.assertEqual(len(r["sources"]), 2)
        self.assertEqual(r["invited"][0]["email"], "Pat.New@heard.test")
        self.assertTrue(r["invited"][0]["new"])
        self.assertTrue(r["invited"][0]["mailed"])
        # The same again (a second click) links nothing twice.
        n = self.sql("SELECT count(*) FROM sources")
        self.assertIn("linked for RJZ already", self.error(
            a.post("/api/v1/organisations/RJZ/signup", body), 409,
            "conflict"))
        self.assertEqual(self.sql("SELECT count(*) FROM sources"), n)
        # The kept key was used for the new source, not the mask.
        self.assertIn(NHSW_KEY, self.sql(
            "SELECT settings FROM sources WHERE id = ?", r["sources"][1])[0][0])
        # The first poll starts at once: the feed's story is a thread.
        wait_for(lambda: self.ok(a.get("/api/v1/threads?org=RJZ"))["items"],
                 20, "the first polled thread")
        t = self.ok(a.get("/api/v1/threads?org=RJZ"))["items"][0]
        self.assertEqual(t["subject"], "Dental clinic")
        srcs = self.ok(a.get("/api/v1/sources?org=RJZ"))["items"]
        rss_src = [s for s in srcs if s["connector"] == "rss"][0]
        wait_for(lambda: [s for s in self.ok(a.get(
            "/api/v1/sources?org=RJZ"))["items"]
            if s["id"] == rss_src["id"]][0]["health"] == "ok", 20,
            "the rss source healthy")
        self.assertEqual(self.sql("SELECT action FROM audit_log WHERE "
                                  "object = 'org:RJZ'"), [("org.signup",)])

        # The lead's invitation: a mail with the link, then a log-in.
        def invitation():
            for env, msg in self.sink.messages():
                if msg["Subject"] == "You are invited to heard":
                    return env, msg
            return None
        env, msg = wait_for(invitation, 20, "the invitation's mail")
        self.assertEqual(env["rcpt_tos"], ["Pat.New@heard.test"])
        text = msg.get_body(preferencelist=("plain",)).get_content()
        m = re.search(re.escape(BASE) + r"/#/invite/([A-Za-z0-9_-]{43})",
                      text)
        self.assertIsNotNone(m, text)
        self.assertIn("KING'S COLLEGE HOSPITAL", text)
        lead = ApiClient(self.h.url)
        self.ok(lead.post("/api/v1/invitations/accept",
                          {"token": m.group(1), "password": PW}))
        lead.login("Pat.New@heard.test", PW)
        mine = self.ok(lead.get("/api/v1/threads"))["items"]
        self.assertEqual([x["org"]["code"] for x in mine], ["RJZ"])
        self.assertTrue(self.ok(lead.get("/api/v1/threads/%d" %
                                         mine[0]["id"]))["can"]["write"])

    def test_signup_is_for_admins_and_checks_input(self):
        for c in (self.lead, self.rev):
            self.error(c.post("/api/v1/organisations/RTD/signup",
                              {"leads": ["x@heard.test"]}), 403)
        a = self.admin
        self.error(a.post("/api/v1/organisations/ZZZ99/signup",
                          {"leads": ["x@heard.test"]}), 404)
        self.error(a.post("/api/v1/organisations/RTD/signup", {}), 422)
        self.error(a.post("/api/v1/organisations/RTD/signup",
                          {"sources": {}}), 400)
        self.error(a.post("/api/v1/organisations/RTD/signup",
                          {"sources": [], "extra": 1}), 400)
        self.error(a.post("/api/v1/organisations/RTD/signup",
                          {"sources": [{"connector": "rss", "x": 1}]}), 400)
        self.assertIn("no connector", self.error(a.post(
            "/api/v1/organisations/RTD/signup",
            {"sources": [{"connector": "myspace"}]}), 422))
        self.error(a.post("/api/v1/organisations/RTD/signup",
                          {"leads": ["not an address"]}), 422)
        self.error(a.post("/api/v1/organisations/RTD/signup",
                          {"leads": ["a@b.c"] * 21}), 400)
        # An existing lead gets the membership, no new account, no mail.
        r = self.ok(a.post("/api/v1/organisations/RJ1/signup",
                           {"leads": ["lead.rtd@heard.test"]}), 201)
        self.assertEqual(r["invited"][0]["user_id"], self.lead_id)
        self.assertFalse(r["invited"][0]["new"])
        self.assertFalse(r["invited"][0]["mailed"])
        me = self.ok(self.lead.get("/api/v1/me"))
        self.assertEqual(sorted(o["code"] for o in me["orgs"]),
                         ["RJ1", "RTD"])
        self.assertEqual(self.ok(a.get("/api/v1/organisations?q=zzzzzz"))
                         ["items"], [])
        self.error(a.get("/api/v1/organisations"), 400)
        self.error(a.get("/api/v1/organisations?q=a&limit=0"), 400)
        self.error(a.get("/api/v1/organisations/NOPE1"), 404)

    def test_sources(self):
        a = self.admin
        self.feeds.put("/rtd.rss", rss("RTD", [
            {"guid": "r1", "title": "Clinic", "body": "Quick."}]))
        s = self.ok(a.post("/api/v1/sources", {
            "org": "RTD", "connector": "rss",
            "settings": {"url": self.feeds.url("/rtd.rss")}}), 201)
        self.assertEqual(s["org"], "RTD")
        self.assertIn(s["health"], ("new", "ok"))
        self.error(a.post("/api/v1/sources", {
            "org": "rtd", "connector": "rss",
            "settings": {"url": self.feeds.url("/rtd.rss")}}), 409,
            "conflict")
        wait_for(lambda: self.ok(a.get("/api/v1/sources?org=RTD"))
                 ["items"][-1]["health"] == "ok", 20, "the new source polled")
        listed = self.ok(a.get("/api/v1/sources"))["items"]
        kept = [x for x in listed if x["id"] == self.kept][0]
        self.assertEqual(kept["settings"]["subscription_key"], "***")
        self.assertEqual(kept["health"], "paused")
        self.assertNotIn(NHSW_KEY, str(listed))
        # Settings sent back with the mask keep the key.
        p = self.ok(a.patch("/api/v1/sources/%d" % self.kept, {
            "settings": {"ods_code": "RTD", "subscription_key": "***",
                         "limit": "20"}, "paused": True}))
        self.assertEqual(p["settings"]["limit"], "20")
        self.assertIn(NHSW_KEY, self.sql("SELECT settings FROM sources "
                                         "WHERE id = ?", self.kept)[0][0])
        self.assertEqual(p["health"], "paused")
        d = self.error(a.patch("/api/v1/sources/%d" % self.kept, {
            "settings": {"ods_code": "RTD", "subscription_key": "k",
                         "limit": "5000"}}), 422, "invalid")
        self.assertIn("nhs-website", d)
        self.assertIn("limit", d)
        self.error(a.patch("/api/v1/sources/%d" % self.kept,
                           {"paused": "yes"}), 400)
        self.error(a.patch("/api/v1/sources/%d" % self.kept,
                           {"colour": "red"}), 400)
        self.error(a.patch("/api/v1/sources/99999", {"paused": True}), 404)
        self.error(a.patch("/api/v1/sources/%d" % self.kept, {}), 400)
        # Un-pausing clears the failures in a row.
        self.sql("UPDATE sources SET failures = 4 WHERE id = ?", s["id"])
        self.ok(a.patch("/api/v1/sources/%d" % s["id"], {"paused": True}))
        u = self.ok(a.patch("/api/v1/sources/%d" % s["id"],
                            {"paused": False}))
        self.assertEqual(u["failures"], 0)
        # Poll now.
        n = len(self.feeds.routes["/rtd.rss"].requests)
        self.ok(a.post("/api/v1/sources/%d/poll" % s["id"]), 202)
        wait_for(lambda: len(self.feeds.routes["/rtd.rss"].requests) > n,
                 20, "the poll asked for")
        self.error(a.post("/api/v1/sources/99999/poll"), 404)
        # Who may see and do what.
        mine = self.ok(self.lead.get("/api/v1/sources"))["items"]
        self.assertEqual({x["org"] for x in mine}, {"RTD"})
        self.assertEqual(self.ok(self.rev.get("/api/v1/sources?org=RJ1"))
                         ["items"], [])
        self.error(self.lead.post("/api/v1/sources", {
            "org": "RTD", "connector": "rss",
            "settings": {"url": "http://127.0.0.1:1/x"}}), 403)
        self.error(self.lead.patch("/api/v1/sources/%d" % s["id"],
                                   {"paused": True}), 403)
        self.error(self.lead.post("/api/v1/sources/%d/poll" % s["id"]), 403)
        self.assertIn("unknown setting", self.error(a.post(
            "/api/v1/sources", {"org": "RTD", "connector": "rss",
                                "settings": {"url": "http://x/", "u": "1"}}),
            422))
        self.error(a.post("/api/v1/sources", {"org": "RTD",
                                              "connector": "rss",
                                              "settings": {"url": 5}}), 400)
        self.error(a.post("/api/v1/sources", {"org": "NOPE9",
                                              "connector": "rss"}), 422)
        actions = [r[0] for r in self.sql(
            "SELECT action FROM audit_log WHERE object LIKE 'source:%' AND "
            "user_id = ? ORDER BY id", self.admin_id)]
        self.assertEqual(actions, ["source.add", "source.update",
                                   "source.update", "source.update"])
        for (detail,) in self.sql("SELECT detail FROM audit_log WHERE "
                                  "object LIKE 'source:%'"):
            self.assertNotIn(NHSW_KEY, detail or "")

    def test_users(self):
        a = self.admin
        u = self.ok(a.post("/api/v1/users", {
            "email": "new.rev@heard.test", "name": "Nia New",
            "role": "reviewer", "orgs": ["QHM"], "password": PW}), 201)
        self.assertEqual(u["role"], "reviewer")
        self.assertFalse(u["invited"])
        inv = self.ok(a.post("/api/v1/users", {
            "email": "invitee@heard.test", "role": "lead",
            "orgs": ["RTD"]}), 201)
        self.assertTrue(inv["invited"])
        self.assertTrue(inv["mailed"])
        self.sink.wait_for(1, 20)
        self.error(a.post("/api/v1/users", {
            "email": "NEW.REV@heard.test", "role": "admin"}), 409)
        self.error(a.post("/api/v1/users", {
            "email": "x@heard.test", "role": "boss"}), 422)
        self.error(a.post("/api/v1/users", {
            "email": "x@heard.test", "role": "lead"}), 422)
        self.error(a.post("/api/v1/users", {
            "email": "x@heard.test", "role": "lead", "orgs": "RTD"}), 400)
        self.error(a.post("/api/v1/users", {
            "email": "x@heard.test", "role": "lead", "orgs": ["RTD"],
            "admin": True}), 400)
        p = self.ok(a.patch("/api/v1/users/%d" % u["id"], {
            "role": "lead", "orgs": ["RTD", "RJ1"], "name": "Nia Lead"}))
        self.assertEqual(p["role"], "lead")
        self.assertEqual(sorted(o["code"] for o in p["orgs"]),
                         ["RJ1", "RTD"])
        p = self.ok(a.patch("/api/v1/users/%d" % u["id"], {"orgs": ["RJ1"]}))
        self.assertEqual([o["code"] for o in p["orgs"]], ["RJ1"])
        self.error(a.patch("/api/v1/users/%d" % u["id"], {"orgs": []}), 422)
        self.error(a.patch("/api/v1/users/%d" % self.admin_id,
                           {"role": "lead", "orgs": ["RTD"]}), 422)
        self.assertEqual(self.sql("SELECT role FROM users WHERE id = ?",
                                  self.admin_id), [("admin",)])
        self.error(a.patch("/api/v1/users/99999", {"name": "x"}), 404)
        self.error(a.patch("/api/v1/users/%d" % u["id"], {}), 400)
        p = self.ok(a.patch("/api/v1/users/%d" % u["id"],
                            {"disabled": True}))
        self.assertTrue(p["disabled"])
        # A lead lists the accounts of their own organisations only.
        seen = {x["email"] for x in self.ok(self.lead.get("/api/v1/users"))
                ["items"]}
        self.assertEqual(seen, {"lead.rtd@heard.test",
                                "invitee@heard.test"})
        self.error(self.rev.get("/api/v1/users"), 403)
        self.error(self.lead.post("/api/v1/users", {
            "email": "y@heard.test", "role": "admin"}), 403)
        self.error(self.lead.patch("/api/v1/users/%d" % self.lead_id,
                                   {"role": "admin"}), 403)
        self.error(a.patch("/api/v1/users/abc", {"name": "x"}), 404)
        self.assertGreater(self.sql("SELECT count(*) FROM audit_log WHERE "
                                    "user_id = ? AND object = ?",
                                    self.admin_id, "user:%d" % u["id"])[0][0],
                           3)

    def test_connectors_stats_and_audit(self):
        conns = self.ok(self.rev.get("/api/v1/connectors"))["items"]
        names = [c["name"] for c in conns]
        for n in ("rss", "nhs-choices", "nhs-website", "care-opinion",
                  "care-connect"):
            self.assertIn(n, names)
        co = conns[names.index("care-opinion")]
        keys = {s["key"]: s for s in co["settings"]}
        self.assertTrue(keys["subscription_key"]["secret"])
        self.assertTrue(keys["nacs"]["required"])
        self.assertIn("interval", keys)
        st = self.ok(self.admin.get("/api/v1/stats"))
        for k in ("threads", "connectors", "unread", "messages_7d",
                  "median_first_response_s"):
            self.assertIn(k, st)
        for i in range(3):
            self.ok(self.admin.patch("/api/v1/sources/%d" % self.kept,
                                     {"paused": True}))
        page = self.ok(self.admin.get("/api/v1/audit?limit=2"))
        self.assertEqual(len(page["items"]), 2)
        rest = self.ok(self.admin.get("/api/v1/audit?limit=200&cursor=" +
                                      page["next_cursor"]))
        ids = [e["id"] for e in page["items"] + rest["items"]]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(len(ids), self.sql(
            "SELECT count(*) FROM audit_log")[0][0])
        self.error(self.admin.get("/api/v1/audit?cursor=xyz*"), 400)
        self.error(self.admin.get("/api/v1/audit?limit=-1"), 400)
        self.error(self.lead.get("/api/v1/audit"), 403)


if __name__ == "__main__":
    unittest.main()
