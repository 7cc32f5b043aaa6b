"""A fake Care Opinion API v2 on 127.0.0.1 for heard's care-opinion tests.

It answers in the shapes of the reconstructed payloads (tests/connectors/
care-opinion/README.md: no genuine payload exists, so these are guesses
from the API's docs and public client code, and so is this server):

- Every /api/v2 request needs `Authorization: SUBSCRIPTION_KEY <key>`.
  Without it, or with another key, the answer is what the docs say the
  real API does: a 302 to /account/login, which serves an HTML sign-in
  page with a 200.
- GET /api/v2/opinions?nacs=..&take=..&skip=..[&publishedafter=..]: the
  stories about a service whose code is one of the nacs or lies under it
  (a trust's sites start with its code), published after the date,
  oldest first, skip/take; an empty array past the end.
- GET /api/v2/opinions/{id}/healthservices, /tags, /responses: a story's
  sub-collections; 404 for a story not known or withdrawn.
- GET /api/v2/responses?nacs=..&take=..&skip=..[&publishedafter=..]: the
  responses to those stories, oldest first, each linking to its story
  as {relation, id, link}.
- A clock the test can move forward (advance), used for publication
  dates and the Date header, so a re-scan can fall due without waiting.
- Faults on request: after k good answers, the next n (or all) a status
  with a body and Retry-After.
- Every request is recorded: monotonic arrival time, path, query and
  headers, so tests can check the key and the pace (5 a second at most).

Tests drive it in-process through FakeCareOpinion.
"""

import calendar
import email.utils
import http.server
import json
import threading
import time
import urllib.parse

LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Log in | Care Opinion"
              b"</title></head><body><form method=\"post\" action=\""
              b"/account/login\"><input name=\"Email\"><input type=\""
              b"password\" name=\"Password\"></form></body></html>\n")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


class Request:
    """One request as the server saw it."""

    def __init__(self, method, path, query, headers):
        self.at = time.monotonic()
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.owner.now(), usegmt=True)

    def send_body(self, status, body, ctype, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, value):
        self.send_body(200, json.dumps(value, indent=1).encode(),
                       "application/json; charset=utf-8")

    def do_GET(self):
        fake = self.server.owner
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        fake.record(Request(self.command, url.path, query,
                            dict(self.headers.items())))
        if url.path.lower() == "/account/login":
            return self.send_body(200, LOGIN_PAGE, "text/html")
        if not url.path.startswith("/api/v2/"):
            return self.send_body(404, b"not found", "text/plain")
        if self.headers.get("Authorization") != \
                "SUBSCRIPTION_KEY " + fake.key:
            back = urllib.parse.quote(self.path, safe="")
            return self.send_body(302, b"", None, [
                ("Location", "/account/login?ReturnUrl=" + back)])
        fault = fake.take_fault()
        if fault is not None:
            extra = [("Retry-After", str(fault["retry_after"]))] \
                if "retry_after" in fault else []
            return self.send_body(fault["status"], fault.get(
                "body", b'{"message":"fault"}'), "application/json", extra)
        answer = fake.answer(url.path[len("/api/v2/"):], query)
        if answer is None:
            return self.send_body(404, b'{"message":"not found"}',
                                  "application/json")
        return self.send_json(answer)

    def do_POST(self):
        """The API is read-only: recorded, and refused."""
        self.server.owner.record(Request("POST", self.path, {},
                                         dict(self.headers.items())))
        self.send_body(405, b'{"message":"read only"}', "application/json")


class FakeCareOpinion:
    """Serves stories and responses on a free port, in a thread."""

    def __init__(self, key="KEY"):
        self.key = key
        self.lock = threading.Lock()
        self.offset = 0.0           # seconds the clock has been moved on
        self.last_pub = 0.0
        self.stories = []           # dicts, in publication order
        self.responses = []
        self.requests = []
        self.faults = []            # [{"status", "times"...}]
        self.next_id = 1000
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "http://127.0.0.1:%d/api/v2" % self.httpd.server_address[1]

    @property
    def site(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def now(self):
        return time.time() + self.offset

    def advance(self, days):
        with self.lock:
            self.offset += days * 86400

    def _publish_time(self):
        # Strictly increasing, as publication is in real life.
        self.last_pub = max(int(self.now()), self.last_pub + 1)
        return self.last_pub

    def _id(self):
        self.next_id += 1
        return self.next_id

    def add_story(self, title, body, services, tags=(), **fields):
        """A published story about services (dicts with nacs...)."""
        with self.lock:
            pub = self._publish_time()
            s = {"id": self._id(), "title": title, "body": body,
                 "dateOfSubmission": iso(pub - 3600),
                 "dateOfPublication": iso(pub), "criticality":
                 "mildly critical", "progress": "unread",
                 "authorRole": "patient", "services": list(services),
                 "tags": list(tags), "withdrawn": False, "pub": pub}
            s.update(fields)
            self.stories.append(s)
            return s["id"]

    def add_response(self, story, body, change="change planned",
                     change_int=1):
        with self.lock:
            pub = self._publish_time()
            r = {"id": self._id(), "story": story, "body": body,
                 "dateOfPublication": iso(pub), "changeScore": change,
                 "changeInt": change_int, "pub": pub}
            self.responses.append(r)
            for s in self.stories:
                if s["id"] == story:
                    s["progress"] = "responded"
            return r["id"]

    def edit_story(self, sid, **fields):
        with self.lock:
            [s for s in self.stories if s["id"] == sid][0].update(fields)

    def edit_response(self, rid, **fields):
        with self.lock:
            [r for r in self.responses if r["id"] == rid][0].update(fields)

    def withdraw(self, sid):
        with self.lock:
            [s for s in self.stories if s["id"] == sid][0]["withdrawn"] = \
                True

    def fault(self, status, times=1, after=0, **f):
        """After `after` good answers, the next `times` (None: all) API
        answers are this status (with body, retry_after)."""
        with self.lock:
            self.faults = [dict(f, status=status, times=times,
                                after=after)]

    def clear(self):
        with self.lock:
            self.faults = []

    def take_fault(self):
        with self.lock:
            if not self.faults:
                return None
            f = self.faults[0]
            if f["after"] > 0:
                f["after"] -= 1
                return None
            if f["times"] is not None:
                f["times"] -= 1
                if f["times"] <= 0:
                    self.faults = []
            return f

    def record(self, req):
        with self.lock:
            self.requests.append(req)

    def api_requests(self):
        with self.lock:
            return [r for r in self.requests
                    if r.path.startswith("/api/v2/")]

    # ---- answers ----

    @staticmethod
    def _in_scope(story, codes):
        for svc in story["services"]:
            for key in ("nacs", "siteNacs", "organisation"):
                v = svc.get(key, "").upper()
                if any(v.startswith(c.upper()) for c in codes):
                    return True
        return False

    def _page(self, rows, query):
        after = query.get("publishedafter", [None])[0]
        if after is not None:
            t = parse_iso(after)
            rows = [r for r in rows if r["pub"] > t]
        skip = int(query.get("skip", ["0"])[0])
        take = int(query.get("take", ["100"])[0])
        return rows[skip:skip + take]

    def _story_json(self, s):
        keys = ("id", "title", "body", "dateOfSubmission",
                "dateOfPublication", "criticality", "progress",
                "authorRole")
        out = {k: s[k] for k in keys if k in s}
        out["links"] = [
            {"relation": rel, "id": str(s["id"]),
             "link": "%s/opinions/%d/%s" % (self.base, s["id"], rel)}
            for rel in ("tags", "healthservices", "responses")]
        return out

    def _response_json(self, r):
        out = {k: r[k] for k in ("id", "body", "dateOfPublication",
                                 "changeScore", "changeInt")}
        out["links"] = [{"relation": "opinion", "id": str(r["story"]),
                         "link": "%s/opinions/%d" % (self.base,
                                                      r["story"])}]
        return out

    def answer(self, path, query):
        """The JSON for an API path, or None for a 404."""
        with self.lock:
            codes = query.get("nacs", [])
            live = [s for s in self.stories if not s["withdrawn"] and
                    self._in_scope(s, codes)]
            if path == "opinions":
                return [self._story_json(s) for s in self._page(live, query)]
            if path == "responses":
                ids = {s["id"] for s in live}
                rows = [r for r in self.responses if r["story"] in ids]
                return [self._response_json(r)
                        for r in self._page(rows, query)]
            return self._sub(path)

    def _sub(self, path):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "opinions":
            return None
        found = [s for s in self.stories if str(s["id"]) == parts[1] and
                 not s["withdrawn"]]
        if not found:
            return None
        s = found[0]
        if parts[2] == "healthservices":
            return s["services"]
        if parts[2] == "tags":
            return s["tags"]
        if parts[2] == "responses":
            return [self._response_json(r) for r in self.responses
                    if r["story"] == s["id"]]
        return None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
