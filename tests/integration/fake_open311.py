"""A fake Open311 server on 127.0.0.1 for heard's care-connect tests.

It speaks GeoReport v2 with mySociety's request updates the way the real
servers do, in the shapes of the genuine payloads (tests/connectors/
care-connect/README.md): open311-adapter's XML (every element written,
empty ones too, in alphabetical order) or JSON (a bare array), or
FixMyStreet's JSON wrapping ({"service_requests": [...]}).

- GET requests.{xml,json}: newest first, start_date (>=) and end_date (<)
  on requested_datetime as FixMyStreet's server filters, service_code,
  at most page_size answers.
- GET servicerequestupdates.{xml,json}: oldest first, start_date and
  end_date on updated_datetime; an empty list is a 200 with an empty root.
- POST servicerequestupdates.{xml,json}: form-encoded; checks api_key and
  the fields open311-adapter requires, records the post, adds the update
  to the list under an id of its own and returns that update_id; or, on
  request, refuses with a 400 and an <errors> body.
- jurisdiction_id, when the server has one, must be sent and match.
- faults on request: any status with a body and Retry-After, a truncated
  body, an HTML page.

Tests drive it in-process through FakeOpen311.
"""

import datetime
import http.server
import json
import threading
import urllib.parse
from xml.sax.saxutils import escape

REQUEST_FIELDS = ["address", "address_id", "agency_responsible",
                  "description", "lat", "long", "media_url",
                  "requested_datetime", "service_code", "service_name",
                  "service_notice", "service_request_id", "status",
                  "status_notes", "updated_datetime", "zipcode"]
UPDATE_FIELDS = ["description", "media_url", "service_request_id",
                 "status", "update_id", "updated_datetime"]
POST_STATUSES = {"OPEN", "CLOSED", "FIXED", "IN_PROGRESS",
                 "ACTION_SCHEDULED", "INVESTIGATING", "DUPLICATE",
                 "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION",
                 "INTERNAL_REFERRAL", "REOPEN", "FOR_TRIAGE"}
POST_REQUIRED = ["service_request_id", "update_id", "status",
                 "updated_datetime", "description"]


def parse_time(s):
    """W3C date-time (Z or an offset) to an aware datetime; None if bad."""
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def w3c(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return w3c(datetime.datetime.now(datetime.timezone.utc))


def errors_xml(code, text):
    return ('<?xml version="1.0" encoding="utf-8"?><errors><error><code>%d'
            '</code><description>%s</description></error></errors>'
            % (code, escape(text))).encode("utf-8")


def to_xml(root, record, fields, rows):
    """The adapter's XML: every field, empty ones too, sorted."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<%s>\n' % root]
    for row in rows:
        out.append("  <%s>\n" % record)
        for f in fields:
            v = row.get(f, "")
            out.append("    <%s>%s</%s>\n" % (f, escape(str(v)), f))
        out.append("  </%s>\n" % record)
    out.append("</%s>\n" % root)
    return "".join(out).encode("utf-8")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self):
        """(list name, extension, query dict) or None."""
        u = urllib.parse.urlsplit(self.path)
        base = self.server.owner.base_path
        if not u.path.startswith(base + "/"):
            return None
        name, dot, ext = u.path[len(base) + 1:].rpartition(".")
        if not dot or ext not in ("xml", "json"):
            return None
        query = dict(urllib.parse.parse_qsl(u.query,
                                            keep_blank_values=True))
        return name, ext, query

    def do_GET(self):
        srv = self.server.owner
        r = self.route()
        if r is None or r[0] not in ("requests", "servicerequestupdates"):
            return self.send_body(404, b"Bad extension. We support .xml "
                                  b"and .json", "text/plain")
        name, ext, query = r
        with srv.lock:
            srv.gets.append((name, query))
            fault = srv.faults.get(name)
        if fault is not None:
            return self.send_fault(fault)
        bad = srv.check_jurisdiction(query)
        if bad is not None:
            return self.send_body(400, errors_xml(400, bad), "text/xml")
        if name == "requests":
            rows = srv.find_requests(query)
            body = srv.render("service_requests", "request",
                              REQUEST_FIELDS, rows, ext)
        else:
            rows = srv.find_updates(query)
            body = srv.render("service_request_updates", "request_update",
                              UPDATE_FIELDS, rows, ext)
        self.send_body(200, body, "application/json" if ext == "json"
                       else "text/xml")

    def do_POST(self):
        srv = self.server.owner
        r = self.route()
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode("utf-8")
        if r is None or r[0] != "servicerequestupdates":
            return self.send_body(404, b"not found", "text/plain")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        with srv.lock:
            srv.posts.append({"raw": raw, "form": form,
                              "type": self.headers.get("Content-Type")})
        status, body = srv.post_update(form, r[1])
        self.send_body(status, body, "application/json" if r[1] == "json"
                       and status == 200 else "text/xml")

    def send_fault(self, f):
        kind = f["kind"]
        if kind == "status":
            extra = [("Retry-After", str(f["retry_after"]))] \
                if "retry_after" in f else []
            return self.send_body(f["status"], f.get("body", b""),
                                  f.get("type", "text/plain"), extra)
        if kind == "html":
            return self.send_body(200, b"<!DOCTYPE html><html><head><title>"
                                  b"Site maintenance</title></head><body>"
                                  b"back soon</body></html>", "text/html")
        if kind == "truncated":
            body = f["body"]
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body) * 2))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return None
        raise ValueError(kind)


class FakeOpen311:
    """Serves one Open311 endpoint on a free port, in a thread."""

    def __init__(self, api_key="KEY", jurisdiction=None, page_size=1000,
                 fms_json=False, base_path="/open311/v2"):
        self.api_key = api_key
        self.jurisdiction = jurisdiction
        self.page_size = page_size
        self.fms_json = fms_json
        self.base_path = base_path
        self.requests = []     # dicts of REQUEST_FIELDS
        self.updates = []      # dicts of UPDATE_FIELDS
        self.gets = []         # (list name, query dict) per GET
        self.posts = []        # {"raw", "form", "type"} per POST
        self.faults = {}       # list name -> fault dict
        self.refusal = None    # text of a 400 for every POST, or None
        self.next_update_id = 5000
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1],
                                          self.base_path)

    def add_request(self, rid, requested, status="open", **fields):
        row = {"service_request_id": str(rid), "status": status,
               "requested_datetime": requested,
               "updated_datetime": fields.pop("updated", requested),
               "service_name": "Waiting times", "service_code": "WAIT",
               "lat": "0", "long": "0"}
        row.update(fields)
        with self.lock:
            self.requests.append(row)
        return row

    def add_update(self, rid, when, status, description, uid=None):
        with self.lock:
            if uid is None:
                uid = self.next_update_id
                self.next_update_id += 1
            row = {"update_id": str(uid), "service_request_id": str(rid),
                   "status": status, "description": description,
                   "updated_datetime": when, "media_url": ""}
            self.updates.append(row)
            for req in self.requests:
                if req["service_request_id"] == str(rid):
                    req["status"] = status
                    req["updated_datetime"] = when
        return row

    def fault(self, name, **f):
        with self.lock:
            self.faults[name] = f

    def clear(self, name):
        with self.lock:
            self.faults.pop(name, None)

    def check_jurisdiction(self, query):
        if self.jurisdiction is None:
            return None
        if query.get("jurisdiction_id") != self.jurisdiction:
            return "jurisdiction_id is required and must be known"
        return None

    @staticmethod
    def in_window(t, query):
        t = parse_time(t)
        start = parse_time(query.get("start_date", ""))
        end = parse_time(query.get("end_date", ""))
        return (start is None or t >= start) and (end is None or t < end)

    def find_requests(self, query):
        codes = query.get("service_code")
        with self.lock:
            rows = [dict(r) for r in self.requests
                    if self.in_window(r["requested_datetime"], query) and
                    (not codes or r["service_code"] in codes.split(","))]
        rows.sort(key=lambda r: parse_time(r["requested_datetime"]),
                  reverse=True)
        return rows[:self.page_size]

    def find_updates(self, query):
        with self.lock:
            rows = [dict(u) for u in self.updates
                    if self.in_window(u["updated_datetime"], query)]
        rows.sort(key=lambda u: parse_time(u["updated_datetime"]))
        return rows

    def render(self, root, record, fields, rows, ext):
        if ext == "xml":
            return to_xml(root, record, fields, rows)
        doc = {root: rows} if self.fms_json else rows
        return json.dumps(doc, indent=3).encode("utf-8")

    def post_update(self, form, ext):
        """(status, body) for a POST servicerequestupdates."""
        if "api_key" not in form:
            return 400, errors_xml(400, "api_key is required")
        if form["api_key"] != self.api_key:
            return 403, errors_xml(403, "Invalid api_key")
        bad = self.check_jurisdiction(form)
        missing = [k for k in POST_REQUIRED if not form.get(k)]
        if bad is None and missing:
            bad = "missing " + ", ".join(missing)
        if bad is None and form["status"] not in POST_STATUSES:
            bad = "status %s is not allowed" % form["status"]
        if bad is None and parse_time(form["updated_datetime"]) is None:
            bad = "updated_datetime is not a W3C date-time"
        with self.lock:
            known = any(r["service_request_id"] == form["service_request_id"]
                        for r in self.requests)
        if bad is None and not known:
            bad = "service request %s not found" % form["service_request_id"]
        if bad is None and self.refusal is not None:
            bad = self.refusal
        if bad is not None:
            return 400, errors_xml(400, bad)
        row = self.add_update(form["service_request_id"], now(),
                              form["status"].lower(), form["description"])
        if ext == "json":
            return 200, json.dumps([{"update_id": row["update_id"]}]).encode()
        return 200, to_xml("service_request_updates", "request_update",
                           ["update_id"], [row])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
