"""A fake feed server on 127.0.0.1 for heard's integration tests.

It serves RSS/Atom documents the way real feed hosts do: ETag and
Last-Modified validators, 304 on a matching conditional GET, and, on
request, the faults a poller meets (5xx, 429 with Retry-After, a stall
past the client's time-out, a redirect loop, an HTML error page, a
truncated or huge body). Tests drive it in-process through FeedServer.
"""

import email.utils
import hashlib
import http.server
import threading
import time


class Route:
    """What one path answers, and what it has been asked."""

    def __init__(self, body, content_type):
        self.body = body
        self.content_type = content_type
        self.mtime = time.time()
        self.fault = None          # None or a dict, see FeedServer.fault
        self.requests = []         # (method, headers dict) per request
        self.not_modified = 0      # 304s answered

    @property
    def etag(self):
        return '"%s"' % hashlib.sha1(self.body).hexdigest()[:16]

    @property
    def last_modified(self):
        return email.utils.formatdate(self.mtime, usegmt=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output readable
        pass

    def do_GET(self):
        server = self.server.owner
        route = server.route(self.path)
        if route is None:
            return self.send_body(404, b"<html><title>404 Not Found</title>"
                                  b"<body>Not found</body></html>",
                                  "text/html")
        with server.lock:
            route.requests.append(("GET", dict(self.headers.items())))
            server.active += 1
            server.max_active = max(server.max_active, server.active)
        try:
            if route.fault is not None:
                return self.send_fault(route.fault)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm == route.etag or (inm is None and
                                     ims == route.last_modified):
                route.not_modified += 1
                return self.send_body(304, b"", None, route)
            self.send_body(200, route.body, route.content_type, route)
        finally:
            with server.lock:
                server.active -= 1

    def send_body(self, status, body, ctype, route=None, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if route is not None:
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", route.last_modified)
        for name, value in extra:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def send_fault(self, f):
        kind = f["kind"]
        if kind == "status":
            extra = [("Retry-After", str(f["retry_after"]))] \
                if "retry_after" in f else []
            return self.send_body(f["status"], f.get("body", b"error"),
                                  "text/plain", extra=extra)
        if kind == "stall":
            time.sleep(f["seconds"])
            return self.send_body(200, b"", "application/rss+xml")
        if kind == "redirect_loop":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if kind == "truncated":
            # Promise more than we send, then hang up.
            body = f["body"]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body) * 2))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return None
        if kind == "body":
            return self.send_body(200, f["body"], f.get("type", "text/html"))
        raise ValueError(kind)


class FeedServer:
    """Serves feeds on 127.0.0.1 on a free port, in a thread."""

    def __init__(self):
        self.routes = {}
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def route(self, path):
        with self.lock:
            return self.routes.get(path.split("?")[0])

    def put(self, path, body, content_type="application/rss+xml"):
        """Serves body at path; a changed body gets new validators."""
        with self.lock:
            old = self.routes.get(path)
            r = Route(body, content_type)
            if old is not None:
                r.requests = old.requests
                r.not_modified = old.not_modified
                r.mtime = max(time.time(), old.mtime + 1)
            self.routes[path] = r
            return r

    def fault(self, path, **f):
        """Makes path misbehave (kind=status|stall|redirect_loop|...)."""
        with self.lock:
            self.routes[path].fault = f or None

    def clear(self, path):
        with self.lock:
            self.routes[path].fault = None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(title, items, ttl=None):
    """An RSS 2.0 document: items are dicts with guid, title, body."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">'
             '<channel><title>%s</title><link>https://example.org/</link>'
             '<description>test feed</description>' % title]
    if ttl is not None:
        parts.append("<ttl>%d</ttl>" % ttl)
    for it in items:
        parts.append(
            "<item><title>%s</title><link>https://example.org/s/%s</link>"
            "<guid isPermaLink=\"false\">%s</guid>"
            "<pubDate>%s</pubDate><description>%s</description></item>"
            % (it["title"], it["guid"], it["guid"],
               it.get("date", "Mon, 16 Nov 2026 09:00:00 +0000"),
               it["body"]))
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")
