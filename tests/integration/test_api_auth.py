"""Accounts on the web with the real binary: log-in, limits per address
and per account, sessions and their cookie, CSRF, API tokens, invitations,
and the audit rows they leave. The helpers here are shared with
test_httpd.py (the server itself)."""

import hashlib
import http.client
import json
import re
import secrets
import sqlite3
import subprocess
import time
import unittest

from api_client import ApiClient
from harness import HEARD, Heard, wait_for

PW = "correct horse battery staple"
SECURITY = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                               "object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def add_user(h, email, role, orgs=(), password=PW):
    args = [HEARD, "-c", h.conf, "users", "add", email, "--role", role]
    for o in orgs:
        args += ["--org", o]
    if password is not None:
        args.append("--password-stdin")
    p = subprocess.run(args, input=(password or "") + "\n",
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("users add %s: %s" % (email, p.stderr))
    return int(p.stdout.strip())


def raw_get(h, path, method="GET", headers=None, body=None):
    """A request whose path is sent exactly as written (no client-side
    normalising of .. or %2e)."""
    c = http.client.HTTPConnection("127.0.0.1", h.http_port, timeout=10)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def start(h):
    h.start()
    wait_for(lambda: healthy(h), 20, "the HTTP server")


def healthy(h):
    try:
        return raw_get(h, "/healthz")[0] == 200
    except OSError:
        return False


def stop_clean(test, h):
    """SIGTERM, then: a clean exit (under ASan, no leak at exit) and no
    sanitizer report in the daemon's log."""
    if h.daemon is not None:
        rc = h.stop()
        log = h.log_text()
        test.assertEqual(rc, 0, log[-2000:])
        test.assertNotIn("Sanitizer", log)
        test.assertNotIn("runtime error", log)
    h.close()


def db_rows(h, sql, *args):
    with sqlite3.connect(h.db) as db:
        return db.execute(sql, args).fetchall()


def parse_prometheus(text):
    """Samples of the text format 0.0.4 as {(name, labels): value}; every
    sample's family must have been declared with # HELP and # TYPE."""
    types, helps, samples = {}, set(), {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? '
                         r'([-+0-9.eE]+|NaN|[+-]Inf)$')
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge", "histogram"), line
            types[name] = kind
        else:
            m = line_re.match(line)
            assert m, "not a sample line: %r" % line
            name, labels, value = m.groups()
            family = re.sub(r"_(bucket|sum|count)$", "", name) \
                if re.sub(r"_(bucket|sum|count)$", "", name) in types \
                else name
            assert family in types and family in helps, \
                "%s has no # TYPE / # HELP" % name
            samples[(name, labels or "")] = float(value)
    return types, samples


class ApiAuthTest(unittest.TestCase):
    def setUp(self):
        self.h = Heard("[http]\nlogin_per_min = 3\nmax_body = 2K\n"
                       "session_ttl = 1h\n")
        self.h.add_org()
        self.admin = add_user(self.h, "admin@trust.nhs.uk", "admin")
        self.lead = add_user(self.h, "lead@trust.nhs.uk", "lead", ["RJ1"])
        start(self.h)
        self.c = ApiClient(self.h.url)

    def tearDown(self):
        stop_clean(self, self.h)

    def test_login_me_logout_and_cookie(self):
        st, hd, body = self.c.login("Lead@Trust.nhs.uk", PW)
        self.assertEqual(st, 200)
        self.assertEqual(body["user"]["email"], "lead@trust.nhs.uk")
        self.assertEqual(body["user"]["role"], "lead")
        self.assertEqual(len(body["csrf"]), 43)
        cookie = hd["Set-Cookie"]
        attrs = [a.strip() for a in cookie.split(";")]
        self.assertTrue(attrs[0].startswith("heard_session="))
        self.assertEqual(len(attrs[0]) - len("heard_session="), 43)
        for a in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"):
            self.assertIn(a, attrs)
        self.assertNotIn("Secure", attrs)
        # Only the hash of the session id is stored.
        sid = attrs[0].split("=", 1)[1]
        stored = db_rows(self.h, "SELECT id_hash FROM sessions")
        self.assertEqual(stored, [(hashlib.sha256(sid.encode())
                                   .hexdigest(),)])
        st, _, me = self.c.get("/api/v1/me")
        self.assertEqual(st, 200)
        self.assertEqual(me["id"], self.lead)
        self.assertEqual(me["csrf"], body["csrf"])
        self.assertEqual([o["code"] for o in me["orgs"]], ["RJ1"])
        self.assertEqual(me["orgs"][0]["notify"], "conversation")
        st, hd, _ = self.c.logout()
        self.assertEqual(st, 204)
        self.assertIn("Max-Age=0", hd["Set-Cookie"])
        self.assertEqual(db_rows(self.h, "SELECT count(*) FROM sessions"),
                         [(0,)])
        # The old cookie opens nothing any more.
        old = ApiClient(self.h.url)
        old.session = sid
        st, _, err = old.get("/api/v1/me")
        self.assertEqual((st, err["error"]), (401, "unauthenticated"))
        acts = db_rows(self.h, "SELECT action, object, user_id FROM "
                       "audit_log WHERE action IN ('login', 'logout') "
                       "ORDER BY id")
        self.assertEqual(acts, [("login", "user:%d" % self.lead, self.lead),
                                ("logout", "user:%d" % self.lead,
                                 self.lead)])

    def test_wrong_password_and_unknown_email_answer_alike(self):
        a = self.c.login("lead@trust.nhs.uk", "not the password", False)
        b = self.c.login("nobody@trust.nhs.uk", "not the password", False)
        self.assertEqual(a[0], 401)
        self.assertEqual(a[2], b[2])
        self.assertEqual(a[2]["error"], "unauthenticated")
        self.assertIsNone(a[1]["Set-Cookie"])
        rows = db_rows(self.h, "SELECT user_id, object, detail FROM "
                       "audit_log WHERE action = 'login.failed'")
        self.assertEqual(len(rows), 2)
        for user, obj, detail in rows:
            self.assertIsNone(user)
            self.assertEqual(obj, "login")
            self.assertNotIn("not the password", detail)
            self.assertEqual(json.loads(detail)["addr"], "127.0.0.1")

    def test_failed_logins_are_limited_per_account(self):
        # Three addresses each fail once for the same account...
        for n in (2, 3, 4):
            c = ApiClient(self.h.url, source="127.0.0.%d" % n)
            self.assertEqual(c.login("lead@trust.nhs.uk", "wrong", False)[0],
                             401)
        # ...so a fourth, even with the right password, must wait.
        c = ApiClient(self.h.url, source="127.0.0.5")
        st, hd, body = c.login("LEAD@trust.nhs.uk", PW, False)
        self.assertEqual((st, body["error"]), (429, "rate_limited"))
        self.assertTrue(1 <= int(hd["Retry-After"]) <= 60)
        # Another account from a fresh address is not held up.
        c = ApiClient(self.h.url, source="127.0.0.6")
        self.assertEqual(c.login("admin@trust.nhs.uk", PW)[0], 200)

    def test_failed_logins_are_limited_per_address(self):
        c = ApiClient(self.h.url, source="127.0.0.7")
        for who in ("a@x.nhs.uk", "b@x.nhs.uk", "c@x.nhs.uk"):
            self.assertEqual(c.login(who, "wrong", False)[0], 401)
        st, hd, body = c.login("admin@trust.nhs.uk", PW, False)
        self.assertEqual(st, 429)
        self.assertIn("Retry-After", hd)
        self.assertEqual(ApiClient(self.h.url, source="127.0.0.8")
                         .login("admin@trust.nhs.uk", PW)[0], 200)

    def test_csrf_is_needed_for_writes_by_cookie(self):
        self.c.login("lead@trust.nhs.uk", PW)
        change = {"org": "RJ1", "notify": "digest"}
        st, _, body = self.c.put("/api/v1/me/notify", change, csrf=False)
        self.assertEqual((st, body["error"]), (403, "csrf"))
        st, _, body = self.c.put("/api/v1/me/notify", change,
                                 headers={"X-CSRF-Token": "x" * 43})
        self.assertEqual((st, body["error"]), (403, "csrf"))
        self.assertEqual(db_rows(self.h, "SELECT notify FROM memberships"),
                         [("conversation",)])
        st, _, me = self.c.put("/api/v1/me/notify", change)
        self.assertEqual(st, 200)
        self.assertEqual(me["orgs"][0]["notify"], "digest")
        self.assertEqual(db_rows(self.h, "SELECT notify FROM memberships"),
                         [("digest",)])
        # A lead cannot join another trust this way.
        st, _, body = self.c.put("/api/v1/me/notify",
                                 {"org": "RJ7", "notify": "none"})
        self.assertEqual(st, 404)
        st, _, body = self.c.put("/api/v1/me/notify",
                                 {"org": "RJ1", "notify": "hourly"})
        self.assertEqual((st, body["error"]), (422, "invalid"))

    def test_bearer_tokens_need_no_csrf_and_die_when_revoked(self):
        self.c.login("lead@trust.nhs.uk", PW)
        st, _, made = self.c.post("/api/v1/tokens", {"name": "nightly"})
        self.assertEqual(st, 201)
        self.assertEqual(made["name"], "nightly")
        tok = made["token"]
        self.assertEqual(len(tok), 43)
        stored = db_rows(self.h, "SELECT token_hash FROM api_tokens")
        self.assertEqual(stored, [(hashlib.sha256(tok.encode())
                                   .hexdigest(),)])
        t = ApiClient(self.h.url, token=tok)
        st, _, me = t.get("/api/v1/me")
        self.assertEqual((st, me["id"], me["csrf"]), (200, self.lead, None))
        # A write with the token alone: no cookie, so no CSRF token.
        st, _, other = t.post("/api/v1/tokens", {"name": "second"})
        self.assertEqual(st, 201)
        st, _, listed = t.get("/api/v1/tokens")
        self.assertEqual([x["name"] for x in listed["items"]],
                         ["second", "nightly"])
        self.assertNotIn(tok, json.dumps(listed))
        self.assertIsNone(listed["next_cursor"])
        st, _, _ = self.c.delete("/api/v1/tokens/%d" % made["id"])
        self.assertEqual(st, 204)
        st, _, body = t.get("/api/v1/me")
        self.assertEqual((st, body["error"]), (401, "unauthenticated"))
        st, _, body = self.c.delete("/api/v1/tokens/%d" % made["id"])
        self.assertEqual(st, 404)
        # Somebody else's token is not the lead's to revoke.
        self.assertEqual(ApiClient(self.h.url, token=other["token"])
                         .get("/api/v1/me")[0], 200)
        admin = ApiClient(self.h.url)
        admin.login("admin@trust.nhs.uk", PW)
        mine = admin.new_token("admin's")
        st, _, _ = ApiClient(self.h.url, token=other["token"]).delete(
            "/api/v1/tokens/%d" % (other["id"] + 1))
        self.assertEqual(st, 404)
        self.assertEqual(ApiClient(self.h.url, token=mine)
                         .get("/api/v1/me")[0], 200)
        acts = db_rows(self.h, "SELECT action, user_id FROM audit_log WHERE "
                       "action LIKE 'token.%' ORDER BY id")
        self.assertEqual(acts, [("token.create", self.lead),
                                ("token.create", self.lead),
                                ("token.revoke", self.lead),
                                ("token.create", self.admin)])
        st, _, body = t.get("/api/v1/me", headers={
            "Authorization": "Basic bGVhZDpwdw=="})
        self.assertEqual(st, 401)

    def invite(self, user, expires_in=7 * 86400):
        tok = secrets.token_urlsafe(32)
        now = int(time.time())
        with sqlite3.connect(self.h.db) as db:
            db.execute("INSERT INTO invitations (token_hash, user_id, "
                       "invited_by, created_at, expires_at) VALUES "
                       "(?, ?, ?, ?, ?)",
                       (hashlib.sha256(tok.encode()).hexdigest(), user,
                        self.admin, now, now + expires_in))
        return tok

    def test_invitation_sets_a_password_and_logs_in(self):
        uid = add_user(self.h, "new.lead@trust.nhs.uk", "lead", ["RJ1"],
                       password=None)
        tok = self.invite(uid)
        c = ApiClient(self.h.url)
        st, _, body = c.post("/api/v1/invitations/accept",
                             {"token": tok, "password": "short"})
        self.assertEqual((st, body["error"]), (422, "invalid"))
        st, hd, body = c.post("/api/v1/invitations/accept",
                              {"token": tok, "password": PW,
                               "name": "Nia Lead"})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["user"]["name"], "Nia Lead")
        self.assertIn("HttpOnly", hd["Set-Cookie"])
        c.csrf = body["csrf"]
        self.assertEqual(c.get("/api/v1/me")[2]["id"], uid)
        self.assertEqual(ApiClient(self.h.url).login(
            "new.lead@trust.nhs.uk", PW)[0], 200)
        st, _, body = c.post("/api/v1/invitations/accept",
                             {"token": tok, "password": PW})
        self.assertEqual((st, body["error"]), (404, "not_found"))
        old = self.invite(uid, expires_in=-1)
        st, _, body = c.post("/api/v1/invitations/accept",
                             {"token": old, "password": PW})
        self.assertEqual(st, 404)
        self.assertIn("expired", body["detail"])
        st, _, body = c.post("/api/v1/invitations/accept",
                             {"token": "nonsense", "password": PW})
        self.assertEqual(st, 404)


class SecureCookieTest(unittest.TestCase):
    def test_cookie_secure_marks_the_cookie(self):
        h = Heard("[http]\ncookie_secure = yes\nsession_ttl = 2h\n")
        try:
            add_user(h, "admin@trust.nhs.uk", "admin")
            start(h)
            st, hd, _ = ApiClient(h.url).login("admin@trust.nhs.uk", PW)
            attrs = [a.strip() for a in hd["Set-Cookie"].split(";")]
            self.assertIn("Secure", attrs)
            self.assertIn("Max-Age=7200", attrs)
        finally:
            h.close()


if __name__ == "__main__":
    unittest.main()
