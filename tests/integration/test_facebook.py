"""End to end: the real heard polls a fake Graph API, replies on it and
takes signed webhook deliveries on its own HTTP server."""

import hashlib
import hmac
import os
import sqlite3
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

from fake_facebook import FakeFacebook  # noqa: E402
from harness import Heard, wait_for  # noqa: E402
from smtp_sink import SmtpSink  # noqa: E402

PAGE = "19292868552"
TOKEN = "EAAB-guys-page-token"
SECRET = "heard-test-app-secret"
VERIFY = "meatyhamhock"
PAT = ("2711636948859886", "Example Patient")
SAM = ("987654321", "Sam Visitor")
HOOK = "/api/v1/webhooks/facebook"


def sign(body, secret=SECRET):
    return "sha256=" + hmac.new(secret.encode(), body,
                                hashlib.sha256).hexdigest()


class FacebookCase(unittest.TestCase):
    """A fresh heard (with the trust list), a fake Graph, a source."""

    config = "[poll]\nbackoff_base = 1s\n"

    def setUp(self):
        self.srv = FakeFacebook(nested_limit=2)
        self.srv.add_page(PAGE, "Guy's and St Thomas'", TOKEN)
        self.h = Heard(self.config)
        self.h.add_org()
        self.sid = self.add("RJ1")

    def add(self, org, page=PAGE, token=TOKEN, secret=SECRET):
        return self.h.add_source(org, "facebook", page_id=page,
                                 page_token=token, app_secret=secret,
                                 verify_token=VERIFY,
                                 graph_base=self.srv.base)

    def tearDown(self):
        self.h.close()
        self.srv.close()

    def poll(self, sid=None, check=True):
        return self.h.run("poll", str(sid or self.sid), check=check)

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            with con:
                return con.execute(query, args).fetchall()
        finally:
            con.close()

    def messages(self, ext=None):
        if ext is None:
            return self.sql("SELECT count(*) FROM messages")[0][0]
        return self.sql("SELECT count(*) FROM messages WHERE "
                        "external_id = ?", ext)[0][0]

    def by_key(self, org="RJ1"):
        """{thread_key: [(external_id, direction), ...]}"""
        out = {}
        for t in self.h.threads(org):
            items = self.h.thread(t["id"])["items"]
            key = self.sql("SELECT thread_key FROM threads WHERE id = ?",
                           t["id"])[0][0]
            out[key] = [(i["external_id"], i["direction"]) for i in items]
        return out

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.h.url + path, data=body,
                                     method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def deliver(self, body, sig="sign"):
        headers = {"Content-Type": "application/json"}
        if sig == "sign":
            sig = sign(body)
        if sig is not None:
            headers["X-Hub-Signature-256"] = sig
        return self.request("POST", HOOK, body, headers)[0]

    def serve(self, poll=False):
        """The daemon; unless poll, its scheduler leaves the source be,
        so only deliveries bring anything."""
        if not poll:
            self.sql("UPDATE sources SET next_poll = 4000000000")
        self.h.start()
        self.h.wait_log("http: serving on")

    def conversation(self):
        """The Page's post, two patients' comments, replies, a visitor's
        post: what a Page's feed holds."""
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Our new A&E opens")
        self.c1 = self.srv.comment(post, PAT, "Waited 6 hours <again>")
        self.r1 = self.srv.comment(post, (PAGE, "Guy's"),
                                   "Sorry, please message us", self.c1)
        self.r2 = self.srv.comment(post, PAT, "Done, thanks", self.c1)
        self.c2 = self.srv.comment(post, SAM, "Lovely staff on ward 5")
        self.visit = self.srv.post(PAGE, SAM, "Parking is impossible")
        return post


class PollTest(FacebookCase):

    def test_a_visitors_post_is_one_conversation_with_its_comments(self):
        """Comments under a patient's own post, the Page's answer and the
        patient's reply to it stay in that post's thread, polled or
        delivered."""
        visit = self.srv.post(PAGE, SAM, "Parking is impossible")
        more = self.srv.comment(visit, SAM, "Forty minutes today")
        ans = self.srv.comment(visit, (PAGE, "Guy's"), "Sorry, we're on it",
                               more)
        self.poll()
        back = self.srv.comment(visit, SAM, "Thank you", more)
        self.serve()
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, back)), 200)
        wait_for(lambda: self.messages(back["id"]) == 1, 10, "stored")
        self.assertEqual(self.by_key(), {visit["id"]: [
            (visit["id"], "in"), (more["id"], "in"), (ans["id"], "out"),
            (back["id"], "in")]})

    def test_comments_threaded_and_a_second_poll_adds_nothing(self):
        post = self.conversation()
        self.poll()
        self.assertEqual(self.by_key(), {
            self.c1["id"]: [(self.c1["id"], "in"), (self.r1["id"], "out"),
                            (self.r2["id"], "in")],
            self.c2["id"]: [(self.c2["id"], "in")],
            self.visit["id"]: [(self.visit["id"], "in")]})
        # The Page's own post is no conversation of its own.
        self.assertEqual(self.messages(post["id"]), 0)
        body = self.sql("SELECT body FROM messages WHERE external_id = ?",
                        self.c1["id"])[0][0]
        self.assertEqual(body, "Waited 6 hours <again>")
        # Four comments, two nested: the rest came by the comments paging.
        paths = [g[0] for g in self.srv.gets]
        self.assertIn("/v19.0/%s/comments" % post["id"], paths)
        # The token went in a header, never in a URL.
        for path, query, auth in self.srv.gets:
            self.assertEqual(auth, "Bearer " + TOKEN)
            self.assertNotIn("access_token", query)
        cursor = self.sql("SELECT cursor FROM sources")[0][0]
        self.assertNotIn(TOKEN, cursor)
        n, gets = self.messages(), len(self.srv.gets)
        self.poll()
        self.assertEqual(self.messages(), n)
        self.assertEqual(len(self.h.threads("RJ1")), 3)
        # The second run looks back from its newest post, no further.
        feed = [q for p, q, a in self.srv.gets[gets:]
                if p.endswith("/feed")]
        self.assertEqual(int(feed[0]["since"][0]),
                         self.visit["created"] - 14 * 86400)

    def test_a_run_cut_short_resumes_without_a_gap(self):
        self.conversation()
        # The comments page after the feed fails: the feed's page is in.
        self.srv.fault(500, {"error": {"message": "An unexpected error "
                                       "has occurred.", "code": 2}},
                       times=1)
        self.poll(check=False)
        self.assertEqual(self.messages(), 0)
        self.poll()
        self.assertEqual(self.messages(), 5)

    def test_rate_limit_waits_and_does_not_pause(self):
        self.conversation()
        self.srv.fault(400, {"error": {"message": "(#32) Page request "
                                       "limit reached", "code": 32}},
                       headers=[("X-Page-Usage", '{"call_count":100,'
                                 '"estimated_time_to_regain_access":5}')])
        p = self.poll(check=False)
        self.assertNotEqual(p.returncode, 0)
        s = self.h.source(self.sid)
        self.assertIn("rate-limited", s["last_error"])
        self.assertFalse(s["paused"])


class ReplyTest(FacebookCase):

    def test_reply_posted_once_and_threaded(self):
        self.conversation()
        self.poll()
        tid = [t["id"] for t in self.h.threads("RJ1")
               if self.sql("SELECT thread_key FROM threads WHERE id = ?",
                           t["id"])[0][0] == self.c2["id"]][0]
        rid = int(self.h.run("reply", str(tid), "--body",
                             "Thank you, we'll tell ward 5!").stdout)
        self.serve(poll=True)
        wait_for(lambda: [r for r in self.h.thread(tid)["replies"]
                          if r["id"] == rid][0]["status"] == "posted",
                 20, "reply posted")
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.srv.posts), 1)
        post = self.srv.posts[0]
        self.assertEqual(post["path"], "/v19.0/%s/comments" % self.c2["id"])
        self.assertEqual(post["form"],
                         {"message": "Thank you, we'll tell ward 5!"})
        self.assertEqual(post["type"], "application/x-www-form-urlencoded")
        mine = [c for c in self.srv.made_by(PAGE)
                if c["message"].startswith("Thank you")]
        self.assertEqual(len(mine), 1)
        row = [r for r in self.h.thread(tid)["replies"] if r["id"] == rid][0]
        self.assertEqual(row["external_id"], mine[0]["id"])
        # A re-poll sees the reply as the one message it already is.
        self.poll()
        items = self.h.thread(tid)["items"]
        self.assertEqual([(i["external_id"], i["direction"]) for i in items],
                         [(self.c2["id"], "in"), (mine[0]["id"], "out")])
        self.assertEqual(self.messages(mine[0]["id"]), 1)


class WebhookTest(FacebookCase):

    def test_verification_handshake(self):
        self.serve()
        st, hd, body = self.request(
            "GET", HOOK + "?hub.mode=subscribe&hub.challenge=1158201444&"
            "hub.verify_token=" + VERIFY)
        self.assertEqual((st, body), (200, b"1158201444"))
        self.assertTrue(hd["Content-Type"].startswith("text/plain"))
        for q in ("hub.mode=subscribe&hub.challenge=1&hub.verify_token=x",
                  "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token="
                  + VERIFY, "hub.mode=subscribe&hub.verify_token=" + VERIFY):
            self.assertEqual(self.request("GET", HOOK + "?" + q)[0], 403, q)

    def test_delivery_then_poll_stored_once(self):
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Flu jabs this week")
        c = self.srv.comment(post, PAT, "Is it walk-in?")
        self.serve()
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, c)), 200)
        wait_for(lambda: self.messages(c["id"]) == 1, 10, "delivery stored")
        # A delivery leaves the poll's place and health alone.
        self.assertIsNone(self.sql("SELECT cursor FROM sources")[0][0])
        self.assertEqual(self.h.stop(), 0)
        self.poll()
        self.assertEqual(self.messages(c["id"]), 1)
        self.assertEqual(self.by_key(), {c["id"]: [(c["id"], "in")]})
        # Polled as the webhook gave it: nothing to change.
        self.assertIn("0 new, 0 updated", self.poll().stderr)

    def test_poll_then_delivery_stored_once(self):
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Flu jabs this week")
        c = self.srv.comment(post, PAT, "Is it walk-in?")
        self.poll()
        self.serve()
        body = self.srv.webhook(PAGE, c)
        self.assertEqual(self.deliver(body), 200)
        self.assertEqual(self.deliver(body), 200)  # Meta sends again
        self.h.wait_log("webhook facebook: source %d (RJ1): 0 new, "
                        "0 updated" % self.sid)
        self.assertEqual(self.messages(c["id"]), 1)
        self.assertEqual(len(self.h.threads("RJ1")), 1)

    def test_edit_and_remove_by_webhook(self):
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Flu jabs this week")
        c = self.srv.comment(post, PAT, "Is it walk-in?")
        self.poll()
        self.serve()
        c["message"] = "Is it walk-in? Asking for my mum"
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, c, "edited")),
                         200)
        wait_for(lambda: self.sql("SELECT body FROM messages")[0][0] ==
                 c["message"], 10, "edit stored")
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, c, "remove")),
                         200)
        wait_for(lambda: self.sql("SELECT removed_at_source FROM "
                                  "messages")[0][0], 10, "removal stored")
        self.assertEqual(self.messages(), 1)

    def test_forged_or_altered_delivery_refused(self):
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Flu jabs this week")
        c = self.srv.comment(post, PAT, "Is it walk-in?")
        body = self.srv.webhook(PAGE, c)
        self.serve()
        altered = body.replace(b"walk-in", b"walk-In")
        self.assertEqual(self.deliver(altered, sign(body)), 403)
        self.assertEqual(self.deliver(body, sign(body, "not-the-secret")),
                         403)
        self.assertEqual(self.deliver(body, None), 403)
        self.assertEqual(self.deliver(body, "sha256=zz"), 403)
        self.assertEqual(self.deliver(body, sign(body).replace(
            "sha256=", "sha1=")), 403)
        # Logged once a minute per address, not once a request.
        self.h.wait_log("a delivery whose signature matches no facebook "
                        "source's app_secret; refused")
        self.assertNotIn("without a signature", self.h.log_text())
        self.assertEqual(self.messages(), 0)
        # The same body, rightly signed, is taken.
        self.assertEqual(self.deliver(body), 200)
        wait_for(lambda: self.messages() == 1, 10, "stored")

    def test_refusals_are_limited_per_address(self):
        """The hook needs no log-in: one address guessing tokens or
        sending bodies to hash is cut off after 20 refusals a minute."""
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Flu jabs this week")
        body = self.srv.webhook(PAGE, self.srv.comment(post, PAT, "Hi"))
        self.serve()
        q = "hub.mode=subscribe&hub.challenge=7&hub.verify_token=guess"
        for i in range(10):
            self.assertEqual(self.request("GET", HOOK + "?" + q)[0], 403)
            self.assertEqual(self.deliver(body, sign(body, "guess%d" % i)),
                             403)
        status, headers, _ = self.request("GET", HOOK + "?" + q)
        self.assertEqual(status, 429)
        self.assertTrue(0 < int(headers["Retry-After"]) <= 60)
        # Even a right signature waits: the address is not heard now.
        self.assertEqual(self.deliver(body), 429)
        self.assertEqual(self.messages(), 0)

    def test_unknown_page_is_taken_and_ignored(self):
        post = self.srv.post("555", SAM, "x")
        c = self.srv.comment(post, PAT, "Not your page")
        self.serve()
        self.assertEqual(self.deliver(self.srv.webhook("555", c)), 200)
        self.h.wait_log("page 555: no facebook source for it; ignored")
        self.assertEqual(self.messages(), 0)


class SeveralOrganisationsTest(FacebookCase):

    def test_one_page_two_organisations(self):
        # One Page that speaks for two trusts: a source each.
        rjz = self.add("RJZ")
        post = self.srv.post(PAGE, (PAGE, "Guy's"), "Joint clinic news")
        c = self.srv.comment(post, PAT, "Which site do I go to?")
        self.serve()
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, c)), 200)
        wait_for(lambda: self.messages(c["id"]) == 2, 10, "both stored")
        self.assertEqual(self.h.stop(), 0)
        self.poll()
        self.poll(rjz)
        self.assertEqual(self.messages(c["id"]), 2)
        for org in ("RJ1", "RJZ"):
            self.assertEqual(self.by_key(org), {c["id"]: [(c["id"], "in")]})

    def test_a_mention_of_two_pages_reaches_both(self):
        other = "7363534231324"
        self.srv.add_page(other, "King's", "EAAB-kings")
        rjz = self.add("RJZ", page=other, token="EAAB-kings")
        post = self.srv.post("555", SAM, "Shout out to both trusts")
        c = self.srv.comment(post, PAT, "@Guy's @King's thank you")
        one = self.srv.webhook(PAGE, c, field="mention")
        two = self.srv.webhook(other, c, field="mention")
        body = one[:-3] + b"," + two[two.index(b"{", 30):-3] + b"]\n}"
        self.serve()
        self.assertEqual(self.deliver(body), 200)
        wait_for(lambda: self.messages(c["id"]) == 2, 10, "both stored")
        orgs = sorted(r[0] for r in self.sql(
            "SELECT o.code FROM messages m JOIN threads t ON "
            "t.id = m.thread_id JOIN organisations o ON "
            "o.id = t.org_id"))
        self.assertEqual(orgs, ["RJ1", "RJZ"])
        self.assertNotEqual(self.sid, rjz)


class InvalidatedTokenTest(FacebookCase):

    def setUp(self):
        super().setUp()
        self.sink = SmtpSink(os.path.join(self.h.dir.name, "sink")).start()
        secret = os.path.join(self.h.dir.name, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "wb") as f:
            f.write(os.urandom(32))
        self.h.write_config(
            "[poll]\nbackoff_base = 1s\n[http]\nbase_url = "
            "https://heard.trust.nhs.uk\n[mail]\nsmtp_url = %s\n"
            "from = heard <heard@trust.nhs.uk>\nreply_domain = "
            "reply.heard.nhs.uk\nsecret_file = %s\n" % (self.sink.url,
                                                         secret))
        self.h.run("users", "add", "admin@trust.nhs.uk", "--role", "admin")

    def tearDown(self):
        self.sink.stop()
        super().tearDown()

    def test_invalidated_token_pauses_and_alerts_an_admin(self):
        post = self.conversation()
        self.srv.invalidate(TOKEN)
        self.serve(poll=True)
        env, msg = self.sink.wait_for(1)[0]
        self.assertEqual(env["rcpt_tos"], ["admin@trust.nhs.uk"])
        self.assertEqual(msg["Subject"], "[heard] source %d (RJ1 facebook) "
                         "is paused" % self.sid)
        text = msg.get_content()
        self.assertIn("Graph error 190/460", text)
        self.assertNotIn(TOKEN, text)
        s = self.h.source(self.sid)
        self.assertTrue(s["paused"])
        self.assertIn("auth", s["last_error"])
        # Deliveries still come (signed by the app, not the token) and
        # are stored; the source stays paused, its reason kept.
        c = self.srv.comment(post, PAT, "Still waiting")
        self.assertEqual(self.deliver(self.srv.webhook(PAGE, c)), 200)
        wait_for(lambda: self.messages(c["id"]) == 1, 10, "stored")
        s = self.h.source(self.sid)
        self.assertTrue(s["paused"])
        self.assertIn("Graph error 190/460", s["last_error"])
        self.assertNotIn(TOKEN, self.h.log_text())
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.sink.messages()), 1)

    def test_a_reply_refused_for_the_token_pauses_and_alerts(self):
        """The token dies between two polls; a lead's reply meets it
        first: the reply fails saying so, the source pauses, one mail."""
        self.conversation()
        self.poll()
        tid = [t["id"] for t in self.h.threads("RJ1")
               if self.sql("SELECT thread_key FROM threads WHERE id = ?",
                           t["id"])[0][0] == self.c2["id"]][0]
        rid = int(self.h.run("reply", str(tid), "--body", "Thanks!").stdout)
        self.srv.invalidate(TOKEN)
        self.serve()
        wait_for(lambda: [r for r in self.h.thread(tid)["replies"]
                          if r["id"] == rid][0]["status"] == "failed",
                 20, "reply failed")
        row = [r for r in self.h.thread(tid)["replies"] if r["id"] == rid][0]
        self.assertIn("Graph error 190/460", row["error"])
        self.assertIn("the source is paused", row["error"])
        self.assertTrue(self.h.source(self.sid)["paused"])
        env, msg = self.sink.wait_for(1)[0]
        self.assertEqual(env["rcpt_tos"], ["admin@trust.nhs.uk"])
        self.assertEqual(msg["Subject"], "[heard] source %d (RJ1 facebook) "
                         "is paused" % self.sid)
        self.assertNotIn(TOKEN, msg.get_content())
        # Tried once, refused, never again on its own.
        self.assertEqual(len(self.srv.posts), 1)
        self.assertEqual([c for c in self.srv.made_by(PAGE)
                          if c["message"] == "Thanks!"], [])
        self.assertEqual(self.h.stop(), 0)
        self.assertEqual(len(self.sink.messages()), 1)


if __name__ == "__main__":
    unittest.main()
