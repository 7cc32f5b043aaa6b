"""A fake Graph API (one or more Facebook Pages) on 127.0.0.1.

It answers in the shapes of the genuine payloads in
tests/connectors/facebook (python-facebook's and RestFB's recordings):

- Pages, each with a Page access token, taken as `Authorization: Bearer`
  or an access_token parameter. A token the fake has invalidated (or
  any other) is answered 400 with Graph's envelope, code 190 and
  subcode 460 (the session was invalidated), as Facebook does.
- GET /v19.0/{page}/feed: posts newest first, limit (default 25), since
  (created at or after), time-based paging: paging.next carries until,
  __paging_token and the access_token, as Graph's does. Each post
  nests its first comments (filter=stream: every comment and reply,
  oldest first, `parent{id}` on replies) with paging.cursors and a
  paging.next when there are more (nested_limit, to make them page).
- GET /v19.0/{post-id}/comments?after=: the post's comments after the
  cursor, cursor-paged (paging.cursors.before/after, paging.next).
- POST /v19.0/{comment-id}/comments (form message=): a comment by the
  Page under that comment (under its top-level comment if it is a
  reply, as Facebook keeps two levels); {"id": ...}.
- X-App-Usage on every answer ({"call_count", "total_cputime",
  "total_time"}, from `usage`); faults: the next GETs answered with any
  status, body and headers (a Graph error code, say).

Tests drive it in-process through FakeFacebook; webhook() builds a
delivery in the v2.11 shape of webhook-feed-comment-add-211-restfb.json.
"""

import base64
import http.server
import json
import re
import threading
import time
import urllib.parse

VERSION = "/v19.0"


def fbtime(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(t))


def envelope(code, message, sub=None, typ="OAuthException"):
    e = {"message": message, "type": typ, "code": code,
         "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM"}
    if sub is not None:
        e["error_subcode"] = sub
    return {"error": e}


def cursor(i):
    return base64.b64encode(("c%d" % i).encode()).decode().rstrip("=")


def uncursor(s):
    try:
        return int(base64.b64decode(s + "=" * (-len(s) % 4))[1:])
    except (ValueError, TypeError):
        return 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, extra=()):
        srv = self.server.owner
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("X-App-Usage", json.dumps(
            {"call_count": srv.usage, "total_cputime": 1,
             "total_time": 1}))
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def page(self, query):
        """The page whose token came, or None once 400 is answered."""
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") \
            else query.get("access_token", [""])[0]
        page = self.server.owner.tokens.get(token)
        if page is None:
            self.send_json(400, envelope(
                190, "Error validating access token: The session has "
                "been invalidated because the user changed their password "
                "or Facebook has changed the session for security "
                "reasons.", 460))
        return page

    def do_GET(self):
        srv = self.server.owner
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        with srv.lock:
            srv.gets.append((u.path, query,
                             self.headers.get("Authorization")))
            fault = srv.faults.pop(0) if srv.faults else None
        if fault is not None:
            return self.send_json(*fault)
        m = re.fullmatch(VERSION + r"/([0-9_]+)/(feed|comments)", u.path)
        if m is None:
            return self.send_json(400, envelope(
                100, "Unsupported get request.", 33, "GraphMethodException"))
        page = self.page(query)
        if page is None:
            return
        with srv.lock:
            if m.group(2) == "feed":
                obj = srv.feed(page, m.group(1), query)
            else:
                obj = srv.comments_page(page, m.group(1), query)
        if obj is None:
            return self.send_json(400, envelope(
                100, "Unsupported get request. Object with ID '%s' does "
                "not exist" % m.group(1), 33, "GraphMethodException"))
        self.send_json(200, obj)

    def do_POST(self):
        srv = self.server.owner
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        u = urllib.parse.urlsplit(self.path)
        with srv.lock:
            srv.posts.append({"path": u.path, "form": form,
                              "type": self.headers.get("Content-Type")})
        m = re.fullmatch(VERSION + r"/([0-9_]+)/comments", u.path)
        page = self.page(urllib.parse.parse_qs(u.query))
        if page is None:
            return
        with srv.lock:
            made = srv.reply(page, m.group(1), form.get("message", "")) \
                if m else None
        if made is None:
            return self.send_json(400, envelope(
                100, "Unsupported post request.", 33,
                "GraphMethodException"))
        self.send_json(200, {"id": made["id"]})


class FakeFacebook:
    """Serves the Graph API for some Pages on a free port, in a thread."""

    def __init__(self, nested_limit=100):
        self.nested_limit = nested_limit
        self.pages = {}         # page id -> name
        self.tokens = {}        # token -> page id
        self.posts = []         # every POST: {"path", "form", "type"}
        self.gets = []          # (path, query, Authorization) per GET
        self.faults = []        # (status, body, headers) for next GETs
        self.usage = 5          # X-App-Usage percentages
        self.feed_posts = []    # oldest first
        self.comments = {}      # comment id -> comment
        self.seq = 1000
        self.clock = 1700000000
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
        return "http://127.0.0.1:%d%s" % (self.httpd.server_port, VERSION)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_page(self, page, name, token):
        self.pages[page] = name
        self.tokens[token] = page

    def invalidate(self, token):
        with self.lock:
            self.tokens.pop(token, None)

    def fault(self, status, body, times=1, headers=()):
        with self.lock:
            self.faults.extend([(status, body, list(headers))] * times)

    def _next(self):
        self.seq += 1
        self.clock += 60
        return str(self.seq), self.clock

    def post(self, page, who, message):
        """A post on the page's feed by who = (id, name)."""
        with self.lock:
            n, t = self._next()
            p = {"id": "%s_%s" % (page, n), "page": page,
                 "from": {"id": who[0], "name": who[1]},
                 "message": message, "created": t, "comments": []}
            self.feed_posts.append(p)
            return p

    def comment(self, post, who, message, parent=None):
        """A comment on post, or a reply to comment parent."""
        with self.lock:
            return self._comment(post, who, message, parent)

    def _comment(self, post, who, message, parent):
        n, t = self._next()
        c = {"id": "%s_%s" % (post["id"].split("_")[1], n),
             "post": post, "from": {"id": who[0], "name": who[1]},
             "message": message, "created": t,
             "parent": parent["id"] if parent else None}
        post["comments"].append(c)
        self.comments[c["id"]] = c
        return c

    def render_comment(self, c):
        out = {"id": c["id"], "message": c["message"],
               "created_time": fbtime(c["created"]), "from": c["from"]}
        if c["parent"]:
            out["parent"] = {"id": c["parent"]}
        return out

    def comment_list(self, post, start, limit, token):
        cs = post["comments"]
        page = cs[start:start + limit]
        out = {"data": [self.render_comment(c) for c in page],
               "paging": {"cursors": {"before": cursor(start),
                                      "after": cursor(start + len(page))}}}
        if start + len(page) < len(cs):
            out["paging"]["next"] = "%s/%s/comments?access_token=%s&" \
                "filter=stream&limit=%d&after=%s" % (
                    self.base, post["id"], token, limit,
                    cursor(start + len(page)))
        return out

    def token_of(self, page):
        return [t for t, p in self.tokens.items() if p == page][0]

    def feed(self, page, obj, query):
        if obj != page:
            return None
        limit = int(query.get("limit", ["25"])[0] or 25)
        since = int(query.get("since", ["0"])[0] or 0)
        skip = int(query.get("__paging_token", ["0"])[0] or 0)
        posts = [p for p in reversed(self.feed_posts)
                 if p["page"] == page and p["created"] >= since]
        chunk = posts[skip:skip + limit]
        data = []
        for p in chunk:
            d = {"id": p["id"], "message": p["message"],
                 "created_time": fbtime(p["created"]), "from": p["from"]}
            if p["comments"]:
                d["comments"] = self.comment_list(
                    p, 0, self.nested_limit, self.token_of(page))
            data.append(d)
        out = {"data": data, "paging": {}}
        if skip + len(chunk) < len(posts):
            out["paging"]["next"] = "%s/%s/feed?access_token=%s&limit=%d&" \
                "until=%d&__paging_token=%d&fields=id" % (
                    self.base, page, self.token_of(page), limit,
                    chunk[-1]["created"], skip + len(chunk))
        return out

    def comments_page(self, page, post_id, query):
        post = [p for p in self.feed_posts if p["id"] == post_id and
                p["page"] == page]
        if not post:
            return None
        limit = int(query.get("limit", ["25"])[0] or 25)
        start = uncursor(query.get("after", [""])[0])
        return self.comment_list(post[0], start, limit,
                                 self.token_of(page))

    def reply(self, page, target, message):
        c = self.comments.get(target)
        if c is None or c["post"]["page"] != page:
            return None
        top = self.comments[c["parent"]] if c["parent"] else c
        return self._comment(c["post"], (page, self.pages[page]), message,
                             top)

    def made_by(self, page):
        return [c for c in self.comments.values() if c["from"]["id"] == page]

    @staticmethod
    def webhook(page, c, verb="add", field="feed"):
        """A delivery for comment c, v2.11 shape, as bytes."""
        value = {"item": "comment", "verb": verb, "comment_id": c["id"],
                 "post_id": c["post"]["id"],
                 "parent_id": c["parent"] or c["post"]["id"],
                 "from": c["from"], "created_time": c["created"],
                 "message": c["message"]}
        return json.dumps({"object": "page", "entry": [
            {"id": page, "time": c["created"],
             "changes": [{"field": field, "value": value}]}]},
            indent=2).encode()
