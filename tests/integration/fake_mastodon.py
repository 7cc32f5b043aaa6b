"""A fake Mastodon instance on 127.0.0.1 for heard's mastodon tests.

It answers in the shapes of the genuine recordings in
tests/connectors/mastodon (Mastodon.py's cassettes of a real server):
every Status is the recorded one with only its own fields changed.

- Accounts, each with a bearer token; statuses with in_reply_to_id and
  a visibility; a mention ("@acct" in the text, or named when made)
  gives each mentioned account but the author a mention notification,
  as Mastodon does (no one is notified of their own post).
- GET /api/v1/notifications: bearer token checked (401 with Mastodon's
  {"error": ...} body); types[], min_id (the page right after it,
  newest first), max_id, since_id, limit (default 40, at most 80);
  a Link header with rel="next" (max_id) and rel="prev" (min_id) on a
  page that is not empty, keeping the request's other parameters.
- Every answer carries X-RateLimit-Limit/Remaining/Reset (an ISO 8601
  time) and a Date; past the limit, a 429 {"error": "Too many
  requests"} with the same headers, as Mastodon's rack-attack does.
- GET /api/v1/statuses/:id/context: {"ancestors": [...], "descendants":
  [...]}, ancestors oldest first; 404 for a status it does not have.
- POST /api/v1/statuses (form-encoded): status, in_reply_to_id,
  visibility; an Idempotency-Key seen before for that account returns
  the status it made, and posts nothing.
- faults on request: the next GETs answered with any status and body.

Tests drive it in-process through FakeMastodon.
"""

import copy
import datetime
import html
import http.server
import json
import os
import re
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDED = os.path.join(HERE, "..", "connectors", "mastodon",
                        "notifications-mentions-mastodonpy-cassette.json")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+)?)")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        t.microsecond // 1000)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, extra=()):
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # heard went away mid-answer, as a test may make it

    def account(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.server.owner.tokens.get(auth[len("Bearer "):])

    def gate(self):
        """The account, or None once an error has been answered."""
        srv = self.server.owner
        acct = self.account()
        if acct is None:
            self.send_json(401, {"error": "The access token is invalid"})
            return None
        headers, ok = srv.spend(acct)
        if not ok:
            self.send_json(429, {"error": "Too many requests"}, headers)
            return None
        self.rate = headers
        return acct

    def do_GET(self):
        srv = self.server.owner
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        with srv.lock:
            srv.gets.append((u.path, query))
            fault = srv.faults.pop(0) if srv.faults else None
        if fault is not None:
            return self.send_json(fault[0], fault[1], fault[2])
        m = re.fullmatch(r"/api/v1/statuses/([0-9]+)/context", u.path)
        if u.path != "/api/v1/notifications" and m is None:
            return self.send_json(404, {"error": "Record not found"})
        acct = self.gate()
        if acct is None:
            return
        if m is not None:
            ctx = srv.context(int(m.group(1)))
            if ctx is None:
                return self.send_json(404, {"error": "Record not found"},
                                      self.rate)
            return self.send_json(200, ctx, self.rate)
        page, link = srv.notifications(acct, query, u.query)
        extra = list(self.rate)
        if link:
            extra.append(("Link", link))
        self.send_json(200, page, extra)

    def do_POST(self):
        srv = self.server.owner
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        key = self.headers.get("Idempotency-Key")
        with srv.lock:
            srv.posts.append({"raw": raw, "form": form, "key": key,
                              "type": self.headers.get("Content-Type")})
        if self.path != "/api/v1/statuses":
            return self.send_json(404, {"error": "Record not found"})
        acct = self.gate()
        if acct is None:
            return
        status, obj = srv.post_form(acct, form, key)
        self.send_json(status, obj, self.rate)


class FakeMastodon:
    """Serves one Mastodon instance on a free port, in a thread."""

    def __init__(self, rate_limit=300):
        with open(RECORDED, "rb") as f:
            self.template = json.loads(f.read())[0]
        self.accounts = {}      # acct -> Account
        self.tokens = {}        # token -> acct
        self.statuses = {}      # id (int) -> Status
        self.notes = []         # (id, recipient acct, notification)
        self.by_key = {}        # (acct, Idempotency-Key) -> Status
        self.gets = []          # (path, query dict of lists) per GET
        self.posts = []         # {"raw", "form", "key", "type"} per POST
        self.faults = []        # (status, body, headers) for next GETs
        self.rate_limit = rate_limit
        self.used = {}          # acct -> requests in this window
        self.reset_at = utcnow() + datetime.timedelta(minutes=5)
        self.next_status = 117020577157693549
        self.next_note = 21
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_account(self, acct, display_name="", token=None):
        with self.lock:
            a = copy.deepcopy(self.template["account"])
            a.update({"id": str(117020565693913441 + len(self.accounts)),
                      "username": acct.split("@")[0], "acct": acct,
                      "display_name": display_name,
                      "url": "%s/@%s" % (self.base, acct)})
            self.accounts[acct] = a
            if token is not None:
                self.tokens[token] = acct
        return a

    # -- rate limits --------------------------------------------------

    def spend(self, acct):
        """(rate-limit headers, allowed) for one more request."""
        with self.lock:
            now = utcnow()
            if now >= self.reset_at:
                self.used = {}
                self.reset_at = now + datetime.timedelta(minutes=5)
            used = self.used.get(acct, 0) + 1
            self.used[acct] = used
            left = max(self.rate_limit - used, 0)
            headers = [("X-RateLimit-Limit", str(self.rate_limit)),
                       ("X-RateLimit-Remaining", str(left)),
                       ("X-RateLimit-Reset",
                        self.reset_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))]
            return headers, used <= self.rate_limit

    def set_window(self, limit, reset_in):
        """A new window: limit requests, ending reset_in seconds on."""
        with self.lock:
            self.rate_limit = limit
            self.used = {}
            self.reset_at = utcnow() + datetime.timedelta(seconds=reset_in)

    def fault(self, status, body, times=1, headers=()):
        with self.lock:
            self.faults += [(status, body, list(headers))] * times

    # -- statuses and notifications -----------------------------------

    def content(self, text, mentioned):
        """Mastodon's HTML for text: mentions as h-cards, lines as <br>."""
        def card(m):
            acct = m.group(1)
            if acct not in mentioned:
                return html.escape(m.group(0))
            return ('<span class="h-card" translate="no"><a href="%s/@%s" '
                    'class="u-url mention">@<span>%s</span></a></span>'
                    % (self.base, acct, acct.split("@")[0]))
        parts, last = [], 0
        for m in MENTION.finditer(text):
            parts.append(html.escape(text[last:m.start()]))
            parts.append(card(m))
            last = m.end()
        parts.append(html.escape(text[last:]))
        return "<p>%s</p>" % "".join(parts).replace("\n", "<br />")

    def status(self, author, text, in_reply_to=None, visibility="public"):
        """Posts a status as author; mentions in the text are notified."""
        with self.lock:
            return self._status(author, text, in_reply_to, visibility)

    def _status(self, author, text, in_reply_to, visibility):
        mentioned = [a for a in MENTION.findall(text) if a in self.accounts]
        sid = self.next_status
        self.next_status += 1 + len(self.statuses) % 7
        now = utcnow()
        st = copy.deepcopy(self.template["status"])
        parent = self.statuses.get(int(in_reply_to)) if in_reply_to else None
        st.update({
            "id": str(sid), "created_at": iso(now),
            "in_reply_to_id": parent["id"] if parent else None,
            "in_reply_to_account_id": (parent["account"]["id"] if parent
                                       else None),
            "visibility": visibility,
            "uri": "%s/ap/users/%s/statuses/%d" % (
                self.base, self.accounts[author]["id"], sid),
            "url": "%s/@%s/%d" % (self.base, author, sid),
            "content": self.content(text, mentioned),
            "account": self.accounts[author],
            "application": {"name": "fake_mastodon", "website": None},
            "mentions": [{"id": self.accounts[a]["id"],
                          "username": a.split("@")[0],
                          "url": self.accounts[a]["url"], "acct": a}
                         for a in mentioned],
        })
        self.statuses[sid] = st
        for a in dict.fromkeys(mentioned):
            if a == author:
                continue
            n = copy.deepcopy(self.template)
            n.update({"id": str(self.next_note), "created_at": iso(now),
                      "group_key": "ungrouped-%d" % self.next_note,
                      "account": self.accounts[author], "status": st})
            self.notes.append((self.next_note, a, n))
            self.next_note += 1
        return st

    def notifications(self, acct, query, raw_query):
        """One page for acct, newest first, and its Link header."""
        types = query.get("types[]", [])
        limit = min(int(query.get("limit", ["40"])[0] or 40), 80)
        with self.lock:
            mine = [(i, n) for i, a, n in self.notes if a == acct and
                    (not types or n["type"] in types)]
        if "min_id" in query:
            lo = int(query["min_id"][0])
            page = [x for x in mine if x[0] > lo][:limit]
        else:
            mine.reverse()
            if "max_id" in query:
                mine = [x for x in mine if x[0] < int(query["max_id"][0])]
            if "since_id" in query:
                mine = [x for x in mine if x[0] > int(query["since_id"][0])]
            page = mine[:limit]
        page.sort(key=lambda x: x[0], reverse=True)
        if not page:
            return [], None
        keep = [(k, v) for k, v in urllib.parse.parse_qsl(
            raw_query, keep_blank_values=True)
            if k not in ("min_id", "max_id", "since_id")]

        def url(k, v):
            q = urllib.parse.urlencode([(k, v)] + keep)
            return "%s/api/v1/notifications?%s" % (self.base, q)
        link = '<%s>; rel="next", <%s>; rel="prev"' % (
            url("max_id", page[-1][0]), url("min_id", page[0][0]))
        return [n for _, n in page], link

    def context(self, sid):
        """Mastodon's Context of a status, or None if there is none."""
        with self.lock:
            if sid not in self.statuses:
                return None
            up, at = [], self.statuses[sid]
            while at["in_reply_to_id"] is not None and \
                    int(at["in_reply_to_id"]) in self.statuses:
                at = self.statuses[int(at["in_reply_to_id"])]
                up.insert(0, at)
            down = [s for s in self.statuses.values()
                    if s["in_reply_to_id"] == str(sid)]
            return {"ancestors": up, "descendants": down}

    def post_form(self, acct, form, key):
        """(status, body) for POST /api/v1/statuses."""
        with self.lock:
            if key is not None and (acct, key) in self.by_key:
                return 200, self.by_key[(acct, key)]
            text = form.get("status", "")
            if not text.strip():
                return 422, {"error": "Validation failed: Text can't be "
                             "blank"}
            parent = form.get("in_reply_to_id")
            if parent and int(parent) not in self.statuses:
                return 404, {"error": "Record not found"}
            st = self._status(acct, text, parent or None,
                              form.get("visibility", "public"))
            if key is not None:
                self.by_key[(acct, key)] = st
            return 200, st

    def made_by(self, acct):
        with self.lock:
            return [s for s in self.statuses.values()
                    if s["account"]["acct"] == acct]
