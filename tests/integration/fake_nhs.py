"""Fake NHS Choices v1 syndication API and NHS.UK comments API on 127.0.0.1.

FakeChoices speaks the shapes of the genuine captures in
tests/connectors/nhs-choices/payloads: an Atom feed with a BOM, the
ratingsandcomments, comments and thread namespaces, the liked / improved /
anythingElse divs, replies "<id>R" with thr:in-reply-to, deletion entries,
text escaped twice as the API does (&amp;apos;), first/prev/next/last links
with ?page=N pointing back at this server and echoing the key, fh:complete
on a one-page commentssince, and the genuine HTML 404 page for an empty
result. A wrong or missing ?apikey= gets a 403.

FakeWebsite speaks the reconstructed NHS.UK comments API shape
(tests/connectors/nhs-website): GET /comments/Comments?odsCode=&offset=
&limit=&fromDate= with a subscription-key header (401 otherwise), a
"comments" list of {"comment": {...}, "response": {...}|null}, and
"status": "removed" for a takedown. No capture of that API exists; where
its behaviour is unknown (what fromDate filters on) this fake picks one
(lastUpdated) and says so here.

Both run in a thread of the test process, on a free port, stdlib only;
tests drive them through their methods and read .requests afterwards.
"""

import datetime
import http.server
import json
import os
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EMPTY_404 = os.path.join(HERE, "..", "connectors", "nhs-choices", "payloads",
                         "empty-result-404.html")

NS_ATOM = "http://www.w3.org/2005/Atom"
NS_THR = "http://purl.org/syndication/thread/1.0"
NS_FH = "http://purl.org/syndication/history/1.0"
NS_RAT = "http://syndication.nhschoices.nhs.uk/schemas/ratingsandcomments"
NS_COM = "http://syndication.nhschoices.nhs.uk/schemas/comments"


def xml_escape(s, apos=False):
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace('"', "&quot;")
    return s.replace("'", "&apos;") if apos else s


def twice(s, apos=True):
    """The API's double escaping: HTML-escaped, then XML-escaped again."""
    return xml_escape(xml_escape(s, apos))


def uk_time(t):
    """An instant as the API writes it: UK local time with its offset."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    # British Summer Time, near enough for a fake: April to October.
    off = 1 if 4 <= d.month <= 10 else 0
    local = d + datetime.timedelta(hours=off)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + "+%02d:00" % off


class Request:
    """One request as the fake saw it."""

    def __init__(self, method, path, query, headers):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.at = time.monotonic()


class _Server:
    """A threading HTTP server whose handler calls owner.handle()."""

    def __init__(self, owner):
        self.owner = owner
        self.lock = threading.Lock()
        self.requests = []
        self.faults = []
        handler = type("H", (_Handler,), {})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        srv = self.server.owner
        u = urllib.parse.urlsplit(self.path)
        req = Request("GET", u.path, urllib.parse.parse_qs(u.query),
                      dict(self.headers.items()))
        with srv.lock:
            srv.requests.append(req)
            fault = None
            if srv.faults and srv.faults[0]["after"] > 0:
                srv.faults[0]["after"] -= 1
            elif srv.faults:
                fault = srv.faults.pop(0)
        if fault is not None:
            return self.send_fault(fault)
        status, headers, body = srv.owner.handle(req)
        self.send(status, headers, body)

    def do_POST(self):
        srv = self.server.owner
        with srv.lock:
            srv.requests.append(Request("POST", self.path, {},
                                        dict(self.headers.items())))
        self.send(405, [("Content-Type", "text/plain")], b"read only")

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_fault(self, f):
        if f["kind"] == "truncated":
            status, headers, body = self.server.owner.owner.handle(
                self.server.owner.requests[-1])
            self.send_response(200)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        extra = [("Retry-After", str(f["retry_after"]))] \
            if "retry_after" in f else []
        self.send(f["status"], [("Content-Type", "text/plain")] + extra,
                  f.get("body", b"error"))


class _Fake:
    """What both fakes share: a server, requests seen, faults to serve."""

    def __init__(self):
        self.srv = _Server(self)

    @property
    def origin(self):
        return self.srv.origin

    @property
    def requests(self):
        with self.srv.lock:
            return list(self.srv.requests)

    def fault(self, status=None, times=1, retry_after=None, kind="status",
              after=0):
        """After `after` good answers, `times` requests get this fault
        ("status", or "truncated": half the body, then hang up)."""
        with self.srv.lock:
            for i in range(times):
                f = {"kind": kind, "status": status,
                     "after": after if i == 0 else 0}
                if retry_after is not None:
                    f["retry_after"] = retry_after
                self.srv.faults.append(f)

    def close(self):
        self.srv.close()


class FakeChoices(_Fake):
    """NHS Choices v1 syndication: /organisations/<type>/..."""

    def __init__(self, key, page_size=3):
        super().__init__()
        self.key = key
        self.page_size = page_size
        self.entries = []          # dicts, oldest first
        self.lock = threading.Lock()
        with open(EMPTY_404, "rb") as f:
            self.empty_page = f.read()

    # What tests do to the channel.

    def add_comment(self, cid, org, ods, title, liked=None, improved=None,
                    anything=None, author="Anonymous", when=None,
                    ratings=(), org_type="hospitals"):
        t = when if when is not None else time.time()
        e = dict(kind="comment", id=str(cid), org=str(org), ods=ods,
                 title=title, author=author, published=t, updated=t,
                 sections=[("liked", liked), ("improved", improved),
                           ("anythingElse", anything)],
                 ratings=list(ratings), org_type=org_type)
        with self.lock:
            self.entries.append(e)
        return e["id"]

    def add_reply(self, cid, text, author, when=None):
        """The organisation's reply, as the API lists it: '<id>R'."""
        with self.lock:
            c = [e for e in self.entries if e["id"] == str(cid)][0]
            t = when if when is not None else time.time()
            e = dict(c, kind="reply", id="%sR" % cid, reply_to=str(cid),
                     title="%s replies:" % author, author=author,
                     text=text, published=t, updated=t, ratings=[])
            self.entries.append(e)
        return e["id"]

    def delete(self, cid):
        """A takedown: gone from listings, a deletion entry instead."""
        with self.lock:
            c = [e for e in self.entries if e["id"] == str(cid)][0]
            self.entries.remove(c)
            t = time.time()
            self.entries.append(dict(kind="deletion", id=str(cid),
                                     org=c["org"], org_type=c["org_type"],
                                     published=t, updated=t))

    # Serving.

    def handle(self, req):
        if req.query.get("apikey") != [self.key]:
            return 403, [("Content-Type", "text/plain")], b"Forbidden"
        parts = [p for p in req.path.split("/") if p]
        if parts and parts[-1].endswith(".atom"):
            parts[-1] = parts[-1][:-5]
        if len(parts) < 3 or parts[0] != "organisations":
            return self.empty()
        org_type, rest = parts[1], parts[2:]
        with self.lock:
            entries = [e for e in reversed(self.entries)
                       if e["org_type"] == org_type]
        if rest == ["comments"]:
            entries = [e for e in entries if e["kind"] != "deletion"]
            since = False
        elif len(rest) == 2 and rest[1] == "comments":
            entries = [e for e in entries if e["kind"] != "deletion" and
                       e["org"] == rest[0]]
            since = False
        elif len(rest) == 4 and rest[0] == "commentssince":
            try:
                day = datetime.date(*map(int, rest[1:]))
            except ValueError:
                return self.empty()
            start = datetime.datetime.combine(
                day, datetime.time(), datetime.timezone.utc).timestamp()
            entries = [e for e in entries if e["updated"] >= start]
            since = True
        else:
            return self.empty()
        return self.page(req, entries, since)

    def empty(self):
        """The API's answer to an empty result: its HTML 404 page."""
        return 404, [("Content-Type", "text/html; charset=utf-8")], \
            self.empty_page

    def page(self, req, entries, since):
        try:
            n = int(req.query.get("page", ["1"])[0])
        except ValueError:
            n = 1
        pages = max(1, -(-len(entries) // self.page_size))
        chunk = entries[(n - 1) * self.page_size:n * self.page_size]
        if not chunk:
            return self.empty()
        body = self.feed(req, chunk, n, pages, since)
        return 200, [("Content-Type", "application/atom+xml; "
                      "charset=utf-8")], body

    def link(self, req, rel, page):
        # The API echoes the key in every link it writes.
        q = "apikey=%s" % self.key
        if page is not None:
            q += "&amp;page=%d" % page
        return ('    <link href="%s%s?%s" length="1000" rel="%s" '
                'title="%s" type="application/atom+xml"/>\n' %
                (self.origin, req.path.replace(".atom", ""), q, rel, rel))

    def feed(self, req, chunk, n, pages, since):
        out = ['\ufeff<?xml version="1.0" encoding="utf-8"?>\n',
               '<feed xmlns="%s">\n' % NS_ATOM,
               '    <title type="text">NHS Choices - Comments - Page %d '
               'of %d</title>\n' % (n, pages),
               '    <id>uuid:fake;id=1</id>\n',
               '    <rights type="text">\u00a9 Crown Copyright 2009'
               '</rights>\n',
               '    <updated>%s</updated>\n' % uk_time(time.time()),
               '    <category term="CommentsAndRatings"/>\n',
               '    <author>\n        <name>NHS Choices</name>\n'
               '    </author>\n']
        out.append(self.link(req, "self", None))
        if since and pages == 1:
            out.append('    <complete xmlns="%s"/>\n' % NS_FH)
        else:
            out.append(self.link(req, "first", 1))
            if n > 1:
                out.append(self.link(req, "prev", n - 1))
            if n < pages:
                out.append(self.link(req, "next", n + 1))
            out.append(self.link(req, "last", pages))
        out.extend(self.entry(e) for e in chunk)
        out.append("</feed>\n")
        return "".join(out).encode("utf-8")

    def entry(self, e):
        api = "%s/organisations/%s" % (self.origin, e["org_type"])
        out = ['    <entry>\n        <id>%s</id>\n' % e["id"]]
        if e["kind"] == "deletion":
            out.append('        <title type="text">Item %s deleted</title>\n'
                       % e["id"])
        else:
            out.append('        <title type="text">%s</title>\n' %
                       twice(e["title"]))
        out.append('        <published>%s</published>\n'
                   '        <updated>%s</updated>\n' %
                   (uk_time(e["published"]), uk_time(e["updated"])))
        out.append('        <author>\n            <name>%s</name>\n'
                   '        </author>\n' %
                   twice(e.get("author", "NHS Choices")))
        out.append('        <link href="%s/%s?apikey=%s" length="1000" '
                   'rel="related" title="Organisation commented on" '
                   'type="application/xhtml+xml"/>\n' %
                   (api, e["org"], self.key))
        if e["kind"] != "deletion":
            out.append('        <link href="http://www.nhs.uk/Services/%s/'
                       'ReviewsAndRatings/DefaultView.aspx?id=%s" '
                       'length="1000" rel="alternate" title="Original '
                       'comment on NHS Choices website" type="text/html"/>'
                       '\n' % (e["org_type"], e["ods"]))
        out.append('        <category label="Whether this is a comment, '
                   'reply or deletion" scheme="commentType" term="%s"/>\n'
                   % e["kind"])
        out.append(self.content(e))
        if e["kind"] == "reply":
            out.append('        <in-reply-to href="%s/%s/comments/%s?'
                       'apikey=%s" ref="%s" type="xhtml" xmlns="%s"/>\n' %
                       (api, e["org"], e["reply_to"], self.key,
                        e["reply_to"], NS_THR))
        out.append(self.ratings(e))
        out.append('        <postingorganisationid xmlns="%s">0'
                   '</postingorganisationid>\n    </entry>\n' % NS_COM)
        return "".join(out)

    def content(self, e):
        if e["kind"] == "deletion":
            return ('        <content type="text">Item  has been deleted '
                    'and should be removed from your cache</content>\n')
        if e["kind"] == "reply":
            return '        <content type="text">%s</content>\n' % \
                twice(e["text"])
        divs = ['            <div id="%s">%s</div>\n' %
                (k, twice(v, apos=False))
                for k, v in e["sections"] if v]
        return '        <content type="xhtml">\n%s        </content>\n' % \
            "".join(divs)

    def ratings(self, e):
        if not e.get("ratings"):
            return ""
        rs = "".join('            <rating>\n'
                     '                <questionText>%s</questionText>\n'
                     '                <answerText>%s</answerText>\n'
                     '                <answerMetric type="%s" value="%d"/>\n'
                     '            </rating>\n' %
                     (xml_escape(q), xml_escape(a), kind, v)
                     for q, a, kind, v in e["ratings"])
        return '        <ratings xmlns="%s">\n%s        </ratings>\n' % \
            (NS_RAT, rs)


class FakeWebsite(_Fake):
    """NHS.UK comments API: GET /comments/Comments."""

    def __init__(self, key):
        super().__init__()
        self.key = key
        self.comments = []         # [comment dict, response dict or None]
        self.lock = threading.Lock()
        self.next_id = 7000001

    @property
    def base(self):
        return self.origin + "/comments"

    @staticmethod
    def stamp(t):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))

    def add_comment(self, ods, title, text, rating=None, when=None):
        t = when if when is not None else time.time()
        with self.lock:
            cid = str(self.next_id)
            self.next_id += 1
            c = {"commentId": cid, "odsCode": ods, "title": title,
                 "commentText": text, "dateSubmitted": self.stamp(t),
                 "lastUpdated": self.stamp(t), "screenName": "Reviewer",
                 "status": "published", "commentOriginalURL":
                 "https://www.nhs.uk/services/hospital/x/%s/"
                 "ratings-and-reviews" % ods,
                 "ratings": [] if rating is None else
                 [{"question": "Overall rating", "rating": rating}]}
            self.comments.append([c, None])
        return cid

    def add_response(self, cid, text, when=None):
        t = when if when is not None else time.time()
        with self.lock:
            pair = [p for p in self.comments if p[0]["commentId"] == cid][0]
            pair[1] = {"commentId": str(self.next_id), "commentText": text,
                       "dateSubmitted": self.stamp(t),
                       "lastUpdated": self.stamp(t),
                       "odsCode": pair[0]["odsCode"], "status": "published"}
            self.next_id += 1
            pair[0]["lastUpdated"] = self.stamp(t)

    def remove(self, cid):
        with self.lock:
            c = [p for p in self.comments if p[0]["commentId"] == cid][0][0]
            c["status"] = "removed"
            c["commentText"] = ""
            c["lastUpdated"] = self.stamp(time.time())

    def handle(self, req):
        if req.headers.get("subscription-key") != self.key:
            return 401, [("Content-Type", "application/json")], json.dumps(
                {"statusCode": 401, "message": "Access denied due to "
                 "invalid subscription key. Make sure to provide a valid "
                 "key for an active subscription."}).encode()
        if req.path != "/comments/Comments":
            return 404, [("Content-Type", "application/json")], \
                b'{"statusCode": 404, "message": "Resource not found"}'
        q = {k: v[0] for k, v in req.query.items()}
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 10))
        with self.lock:
            rows = [p for p in reversed(self.comments)
                    if p[0]["odsCode"] == q.get("odsCode")]
            # fromDate: on lastUpdated here; the real API may differ.
            if "fromDate" in q:
                rows = [p for p in rows
                        if p[0]["lastUpdated"][:10] >= q["fromDate"]]
            body = {"comments": [{"comment": dict(c), "response":
                                  dict(r) if r else None}
                                 for c, r in rows[offset:offset + limit]]}
        return 200, [("Content-Type", "application/json; charset=utf-8")], \
            json.dumps(body, indent=2).encode()
