"""A fake X API v2 on 127.0.0.1 for heard's twitter tests.

It answers in the shapes of the genuine samples in
tests/connectors/twitter (tweepy's recordings of the live API, X's
documentation):

- Users (id, username, name); posts with author_id, conversation_id,
  in_reply_to_user_id, referenced_tweets, created_at and text with &,
  < and > escaped as X does. "@username" in a text mentions that user;
  a reply also mentions the author it answers, as X's reply metadata.
- GET /2/users/:id/mentions: the app's bearer token checked (401 with
  X's problem body); since_id, pagination_token, max_results (5..100;
  a test may cap it to force paging), tweet.fields, expansions
  (author_id -> includes.users) and user.fields honoured; newest first,
  with meta.result_count/newest_id/oldest_id and next_token while
  older posts remain.
- faults on request: the next GETs answered with any status and body.
- Every answer carries x-rate-limit-limit/remaining/reset (epoch
  seconds) and a Date; past the limit, a 429 with the v2 problem body
  (or, if asked, the v1.1 {"errors":[{"code":88,...}]} body).
- POST /2/tweets with a JSON body {"text", "reply":
  {"in_reply_to_tweet_id"}}: OAuth 1.0a verified (the HMAC-SHA1
  signature recomputed over the method, URL and oauth_* parameters,
  the JSON body not signed; the timestamp within 5 minutes and the
  nonce never seen before), or a user-context Bearer token. A reply
  into a conversation whose root limits replies to the users it
  mentions (reply_settings "mentionedUsers"), when the root's author
  did not mention the account, is refused with X's 403 body. 201
  {"data": {"id", "text", "edit_history_tweet_ids"}} otherwise.

Tests drive it in-process through FakeX.
"""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import urllib.parse

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})")
NOT_ENGAGED = ("Reply to this conversation is not allowed because you have "
               "not been mentioned or otherwise engaged by the author of "
               "the post you are replying to.")
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank",
                "status": 401, "detail": "Unauthorized"}


def enc(s):
    """RFC 3986 percent-encoding, as OAuth 1.0a signs."""
    return urllib.parse.quote(s, safe="-._~")


def oauth_signature(method, url, params, consumer_secret, token_secret):
    norm = "&".join("%s=%s" % kv for kv in sorted(
        (enc(k), enc(v)) for k, v in params.items()))
    base = "&".join([method.upper(), enc(url), enc(norm)])
    key = "%s&%s" % (enc(consumer_secret), enc(token_secret))
    mac = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def parse_oauth_header(value):
    """The Authorization: OAuth header's parameters, decoded."""
    out = {}
    for m in re.finditer(r'([a-z_]+)="([^"]*)"', value[len("OAuth "):]):
        out[m.group(1)] = urllib.parse.unquote(m.group(2))
    return out


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, extra=()):
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        srv = self.server.owner
        u = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        with srv.lock:
            srv.gets.append((u.path, query))
            fault = srv.faults.pop(0) if srv.faults else None
        if fault is not None:
            return self.send_json(fault[0], fault[1])
        m = re.fullmatch(r"/2/users/([0-9]+)/mentions", u.path)
        if m is None:
            return self.send_json(404, {
                "errors": [{"message": "Sorry, that page does not exist",
                            "code": 34}]})
        if self.headers.get("Authorization") != "Bearer " + srv.bearer:
            return self.send_json(401, UNAUTHORIZED)
        headers, ok = srv.spend("mentions")
        if not ok:
            return self.send_json(429, srv.too_many(), headers)
        self.send_json(200, srv.mentions(m.group(1), query), headers)

    def do_POST(self):
        srv = self.server.owner
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8")
        auth = self.headers.get("Authorization", "")
        with srv.lock:
            srv.posts.append({"raw": raw, "auth": auth,
                              "type": self.headers.get("Content-Type")})
        if self.path != "/2/tweets":
            return self.send_json(404, {"title": "Not Found Error"})
        user = srv.authenticate("POST", srv.base + "/2/tweets", auth)
        if user is None:
            return self.send_json(401, UNAUTHORIZED)
        headers, ok = srv.spend("tweets")
        if not ok:
            return self.send_json(429, srv.too_many(), headers)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        status, obj = srv.create(user, body)
        self.send_json(status, obj, headers)


class FakeX:
    """Serves the X API on a free port, in a thread."""

    def __init__(self, bearer, consumer_key, consumer_secret):
        self.bearer = bearer
        self.consumer = (consumer_key, consumer_secret)
        self.users = {}         # id (str) -> user object
        self.tokens = {}        # access token -> (secret, user id)
        self.user_tokens = {}   # OAuth 2.0 user token -> user id
        self.tweets = {}        # id (int) -> post (with private keys)
        self.gets = []          # (path, query dict) per GET
        self.posts = []         # {"raw", "auth", "type"} per POST
        self.faults = []        # (status, body) for the next GETs
        self.nonces = set()
        self.page_max = 100     # what a page may hold, at most
        self.limit = 450
        self.used = {}          # endpoint -> requests in this window
        self.reset_at = int(time.time()) + 900
        self.v1_429 = False
        self.next_id = 1578516295611748353
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

    def add_user(self, username, name, token=None, secret=None):
        with self.lock:
            uid = str(1000000000 + 1111 * len(self.users))
            self.users[uid] = {"id": uid, "name": name,
                               "username": username}
            if token is not None:
                self.tokens[token] = (secret, uid)
        return uid

    def uid(self, username):
        return [u for u, o in self.users.items()
                if o["username"].lower() == username.lower()][0]

    # -- rate limits --------------------------------------------------

    def spend(self, endpoint):
        """(x-rate-limit-* headers, allowed) for one more request."""
        with self.lock:
            now = int(time.time())
            if now >= self.reset_at:
                self.used = {}
                self.reset_at = now + 900
            used = self.used.get(endpoint, 0) + 1
            self.used[endpoint] = used
            left = max(self.limit - used, 0)
            return [("x-rate-limit-limit", str(self.limit)),
                    ("x-rate-limit-remaining", str(left)),
                    ("x-rate-limit-reset", str(self.reset_at))], \
                used <= self.limit

    def set_window(self, limit, reset_in):
        with self.lock:
            self.limit = limit
            self.used = {}
            self.reset_at = int(time.time()) + reset_in

    def fault(self, status, body, times=1):
        with self.lock:
            self.faults += [(status, body)] * times

    def too_many(self):
        if self.v1_429:
            return {"errors": [{"code": 88,
                                "message": "Rate limit exceeded"}]}
        return {"title": "Too Many Requests", "detail": "Too Many Requests",
                "type": "about:blank", "status": 429}

    # -- posts --------------------------------------------------------

    def post(self, author, text, in_reply_to=None, reply_settings=None):
        """Posts text as the user named author; returns the post."""
        with self.lock:
            return self._post(self.uid(author), text, in_reply_to,
                              reply_settings)

    def _post(self, uid, text, in_reply_to, reply_settings):
        tid = self.next_id
        self.next_id += 1 + len(self.tweets) % 5
        t = {"id": str(tid), "text": escape(text), "author_id": uid,
             "conversation_id": str(tid),
             "created_at": datetime.datetime.now(
                 datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
             "edit_history_tweet_ids": [str(tid)],
             "reply_settings": reply_settings or "everyone"}
        named = [self.uid(n) for n in MENTION.findall(text)
                 if any(o["username"].lower() == n.lower()
                        for o in self.users.values())]
        if in_reply_to is not None:
            parent = self.tweets[int(in_reply_to)]
            t["conversation_id"] = parent["conversation_id"]
            t["in_reply_to_user_id"] = parent["author_id"]
            t["referenced_tweets"] = [{"type": "replied_to",
                                       "id": parent["id"]}]
            named.insert(0, parent["author_id"])
        t["_mentions"] = list(dict.fromkeys(named))
        self.tweets[tid] = t
        return t

    def mentions(self, uid, q):
        """One page of uid's mentions, newest first, as X answers."""
        fields = set(q.get("tweet.fields", "").split(","))
        exps = set(q.get("expansions", "").split(","))
        size = min(max(int(q.get("max_results", "10")), 5), 100,
                   self.page_max)
        since = int(q.get("since_id", "0") or 0)
        with self.lock:
            mine = sorted((t for i, t in self.tweets.items()
                           if uid in t["_mentions"] and i > since and
                           t["author_id"] != uid),
                          key=lambda t: int(t["id"]), reverse=True)
        start = int(q["pagination_token"][1:]) if "pagination_token" in q \
            else 0
        page = mine[start:start + size]
        if not page:
            return {"meta": {"result_count": 0}}
        data = []
        for t in page:
            d = {k: t[k] for k in ("edit_history_tweet_ids", "id", "text")}
            d.update({k: t[k] for k in fields if k in t and k != "id"})
            data.append(d)
        out = {"data": data}
        if "author_id" in exps:
            ids = list(dict.fromkeys(t["author_id"] for t in page))
            out["includes"] = {"users": [self.users[i] for i in ids]}
        meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"],
                "result_count": len(page)}
        if start + size < len(mine):
            meta["next_token"] = "p%d" % (start + size)
        out["meta"] = meta
        return out

    # -- posting ------------------------------------------------------

    def authenticate(self, method, url, auth):
        """The acting user's id, or None: OAuth 1.0a or a user token."""
        if auth.startswith("Bearer "):
            return self.user_tokens.get(auth[len("Bearer "):])
        if not auth.startswith("OAuth "):
            return None
        p = parse_oauth_header(auth)
        sig = p.pop("oauth_signature", None)
        tok = self.tokens.get(p.get("oauth_token"))
        if sig is None or tok is None or \
                p.get("oauth_consumer_key") != self.consumer[0] or \
                p.get("oauth_signature_method") != "HMAC-SHA1" or \
                p.get("oauth_version", "1.0") != "1.0" or \
                abs(int(p.get("oauth_timestamp", "0")) - time.time()) > 300:
            return None
        want = oauth_signature(method, url, p, self.consumer[1], tok[0])
        with self.lock:
            if not hmac.compare_digest(want, sig) or \
                    p["oauth_nonce"] in self.nonces:
                return None
            self.nonces.add(p["oauth_nonce"])
        return tok[1]

    def create(self, uid, body):
        """(status, body) for POST /2/tweets by uid."""
        if not isinstance(body, dict) or not isinstance(
                body.get("text"), str) or not body["text"].strip():
            return 400, {"title": "Invalid Request", "detail": "One or more "
                         "parameters to your request was invalid.",
                         "type": "https://api.x.com/2/problems/"
                         "invalid-request"}
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        with self.lock:
            if parent is not None:
                if not isinstance(parent, str) or \
                        int(parent) not in self.tweets:
                    return 400, {"title": "Invalid Request",
                                 "detail": "The reply tweet is not found",
                                 "type": "https://api.x.com/2/problems/"
                                 "invalid-request"}
                p = self.tweets[int(parent)]
                root = self.tweets.get(int(p["conversation_id"]), p)
                if root["reply_settings"] == "mentionedUsers" and \
                        uid != root["author_id"] and \
                        uid not in root["_mentions"]:
                    return 403, {"detail": NOT_ENGAGED,
                                 "type": "about:blank",
                                 "title": "Forbidden", "status": 403}
            t = self._post(uid, body["text"], parent, None)
        return 201, {"data": {"edit_history_tweet_ids":
                              t["edit_history_tweet_ids"], "id": t["id"],
                              "text": t["text"]}}

    def made_by(self, username):
        with self.lock:
            uid = self.uid(username)
            return [t for t in self.tweets.values() if t["author_id"] == uid]
