"""The daemon's HTTP server with the real binary: bad requests, routing,
static files and traversal, security headers, hostile clients, SIGTERM,
/healthz and /metrics, the listen address, the demo and the OpenAPI
file. (Log-in, sessions and tokens are in test_api_auth.py.)"""

import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import unittest

from api_client import ApiClient
from feedserver import FeedServer
from harness import SOURCE_DIR, Heard, wait_for
from test_api_auth import (PW, SECURITY, add_user, db_rows, healthy,
                           parse_prometheus, raw_get, start, stop_clean)


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.h = Heard("[http]\nmax_body = 2K\n")
        self.h.add_org()
        self.lead = add_user(self.h, "lead@trust.nhs.uk", "lead", ["RJ1"])
        start(self.h)
        self.c = ApiClient(self.h.url)

    def tearDown(self):
        stop_clean(self, self.h)

    def test_bad_requests_get_a_json_4xx(self):
        login = "/api/v1/login"
        st, _, body = raw_get(self.h, login, "POST",
                              {"Content-Type": "application/json"},
                              b'{"email": "a@b.c",\n "password": }')
        body = json.loads(body)
        self.assertEqual((st, body["error"]), (400, "bad_request"))
        self.assertIn("line 2", body["detail"])
        st, hd, body = raw_get(self.h, login, "POST",
                               {"Content-Type": "text/plain"}, b"{}")
        self.assertEqual(st, 415)
        self.assertEqual(json.loads(body)["error"],
                         "unsupported_media_type")
        self.assertTrue(hd["Content-Type"].startswith("application/json"))
        big = json.dumps({"email": "x" * 3000, "password": PW}).encode()
        st, _, body = raw_get(self.h, login, "POST",
                              {"Content-Type": "application/json"}, big)
        self.assertEqual((st, json.loads(body)["error"]), (413, "too_large"))
        for payload, why in (({"email": "a@b.c", "password": PW,
                               "remember": True}, "unknown field"),
                             ({"email": 7, "password": PW}, "string"),
                             ({"email": "a@b.c"}, "missing"),
                             ([1, 2], "object")):
            st, _, body = self.c.post(login, payload)
            self.assertEqual((st, body["error"]), (400, "bad_request"))
            self.assertIn(why, body["detail"])
        st, _, body = raw_get(self.h, login, "POST",
                              {"Content-Type": "application/json"},
                              b'{"email": "a", "email": "b"}')
        self.assertEqual(st, 400)
        # Nothing was stored by any of them.
        self.assertEqual(db_rows(self.h, "SELECT count(*) FROM sessions"),
                         [(0,)])

    def test_routes_404_and_405(self):
        st, hd, body = self.c.get("/api/v1/no-such-thing")
        self.assertEqual((st, body["error"]), (404, "not_found"))
        st, hd, body = self.c.delete("/api/v1/me")
        self.assertEqual((st, body["error"]), (405, "method_not_allowed"))
        self.assertEqual(hd["Allow"], "GET")
        st, hd, body = self.c.get("/api/v1/login")
        self.assertEqual((st, hd["Allow"]), (405, "POST"))
        st, hd, _ = self.c.get("/api/v1/tokens/abc", headers={})
        self.assertEqual((st, hd["Allow"]), (405, "DELETE"))
        st, _, body = self.c.get("/api/v1/me")
        self.assertEqual(st, 401)
        st, _, _ = raw_get(self.h, "/healthz", "POST")
        self.assertEqual(st, 405)

    def test_static_files_types_and_no_traversal(self):
        with open(os.path.join(SOURCE_DIR, "web", "index.html"), "rb") as f:
            index = f.read()
        st, hd, body = raw_get(self.h, "/")
        self.assertEqual((st, body), (200, index))
        self.assertEqual(hd["Content-Type"], "text/html; charset=utf-8")
        for path, ctype in (("/index.html", "text/html; charset=utf-8"),
                            ("/favicon.svg", "image/svg+xml"),
                            ("/app.css", "text/css; charset=utf-8"),
                            ("/js/main.js",
                             "text/javascript; charset=utf-8")):
            st, hd, body = raw_get(self.h, path)
            self.assertEqual((st, hd["Content-Type"]), (200, ctype), path)
            with open(os.path.join(SOURCE_DIR, "web", path[1:]), "rb") as f:
                self.assertEqual(body, f.read())
        st, hd, body = raw_get(self.h, "/index.html", "HEAD")
        self.assertEqual((st, body), (200, b""))
        with open(os.path.join(SOURCE_DIR, "README.md"), "rb") as f:
            readme = f.read()
        for path in ("/../README.md", "/%2e%2e/README.md",
                     "/js/%2E%2E/%2e%2e/README.md", "/js/..%2f..%2fREADME.md",
                     "/%2e%2e%2fREADME.md", "/.%2e/README.md", "/js/",
                     "/nope.html", "//etc/passwd", "/.git/config"):
            st, _, body = raw_get(self.h, path)
            self.assertEqual(st, 404, path)
            self.assertNotEqual(body, readme)
        st, hd, _ = raw_get(self.h, "/index.html", "POST", body=b"")
        self.assertEqual((st, hd["Allow"]), (405, "GET, HEAD"))

    def test_security_headers_on_every_answer(self):
        answers = [raw_get(self.h, "/"), raw_get(self.h, "/nope"),
                   raw_get(self.h, "/healthz"), raw_get(self.h, "/metrics"),
                   self.c.get("/api/v1/me"), self.c.get("/api/v1/nope"),
                   self.c.login("lead@trust.nhs.uk", PW)]
        for st, hd, _ in answers:
            for k, v in SECURITY.items():
                self.assertEqual(hd[k], v, (st, k))
        for st, hd, _ in answers[4:]:
            self.assertEqual(hd["Cache-Control"], "no-store")
        self.assertEqual(answers[2][2], b'{"status":"ok"}')

    def test_daemon_log_has_a_line_per_request(self):
        self.c.get("/api/v1/me")
        self.h.wait_log("http: 127.0.0.1 GET /api/v1/me 401")

    def test_hostile_connections_do_not_stall_the_loop(self):
        # A client that sends half a request and waits, one that sends
        # 100 KiB of headers and one that speaks no HTTP at all: the
        # one thread keeps answering everybody else meanwhile.
        half = socket.create_connection(("127.0.0.1", self.h.http_port))
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        big = socket.create_connection(("127.0.0.1", self.h.http_port))
        big.settimeout(10)
        try:
            big.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        b"a" * 100000 + b"\r\n\r\n")
            answer = big.recv(200)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        # libmicrohttpd's own answer, or a reset if it closed first.
        self.assertTrue(answer == b"" or
                        answer.startswith(b"HTTP/1.1 431"), answer)
        junk = socket.create_connection(("127.0.0.1", self.h.http_port))
        junk.settimeout(10)
        junk.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        try:
            self.assertTrue(junk.recv(100).startswith(b"HTTP/1.1 400"))
        except ConnectionResetError:
            pass
        self.assertEqual(raw_get(self.h, "/healthz")[0], 200)
        self.assertEqual(self.c.login("lead@trust.nhs.uk", PW)[0], 200)
        for s in (half, big, junk):
            s.close()

    def test_chunked_body_over_the_limit(self):
        c = http.client.HTTPConnection("127.0.0.1", self.h.http_port,
                                       timeout=10)
        try:
            c.request("POST", "/api/v1/login",
                      body=iter([b'{"email": "', b"x" * 1500, b"y" * 1500,
                                 b'", "password": "p"}']),
                      headers={"Content-Type": "application/json"},
                      encode_chunked=True)
            r = c.getresponse()
            self.assertEqual(r.status, 413)
            self.assertEqual(json.loads(r.read())["error"], "too_large")
        finally:
            c.close()

    def test_sigterm_closes_the_server(self):
        self.assertEqual(self.h.stop(), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.h.http_port), 2)
        # A command other than serve never listens.
        self.h.run("sources", "list")
        self.assertIn("heard: stopped", self.h.log_text())


class DemoTest(unittest.TestCase):
    def test_demo_serves_the_inbox_with_an_admin_to_log_in_as(self):
        h = Heard()
        try:
            h.start("--demo")
            h.wait_log("demo: web inbox at " + h.url + "/;")
            m = wait_for(lambda: re.search(
                r"log in as (\S+) with password (\S+)\n", h.log_text()),
                20, "the demo's password")
            email, pw = m.group(1), m.group(2)
            wait_for(lambda: healthy(h), 20, "the HTTP server")
            self.assertEqual(raw_get(h, "/")[0], 200)
            c = ApiClient(h.url)
            st, _, body = c.login(email, pw)
            self.assertEqual(body["user"]["role"], "admin")
            # The password is not in the log lines, only on stdout's.
            for ln in h.log_text().splitlines():
                if pw in ln:
                    self.assertTrue(ln.startswith("demo: web inbox at"))
        finally:
            stop_clean(self, h)


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.srv = FeedServer()
        self.h = Heard()
        self.h.add_org()

    def tearDown(self):
        stop_clean(self, self.h)
        self.srv.close()

    def metrics(self):
        st, hd, body = raw_get(self.h, "/metrics")
        self.assertEqual(st, 200)
        self.assertEqual(hd["Content-Type"],
                         "text/plain; version=0.0.4; charset=utf-8")
        return parse_prometheus(body.decode())

    def test_metrics_parse_and_move_after_a_poll(self):
        with open(os.path.join(SOURCE_DIR, "data", "demo",
                               "patient-stories.rss"), "rb") as f:
            self.srv.put("/stories.rss", f.read())
        sid = self.h.add_source("RJ1", "rss",
                                url=self.srv.url("/stories.rss"))
        start(self.h)
        wait_for(lambda: self.metrics()[1][("heard_polls_total",
                                            '{result="ok"}')] >= 1,
                 20, "a poll")
        types, m = self.metrics()
        self.assertEqual(types["heard_sources"], "gauge")
        self.assertEqual(types["heard_polls_total"], "counter")
        self.assertEqual(types["heard_http_request_duration_seconds"],
                         "histogram")
        self.assertEqual(m[("heard_sources", '{health="ok"}')], 1)
        self.assertEqual(m[("heard_sources", '{health="new"}')], 0)
        stored = len(self.h.thread(self.h.threads("RJ1")[0]["id"])["items"])
        self.assertGreater(m[("heard_items_stored_total", "")], 0)
        self.assertGreaterEqual(m[("heard_items_stored_total", "")], stored)
        self.assertEqual(m[("heard_polls_total", '{result="error"}')], 0)
        self.assertEqual(m[("heard_mails_sent_total", "")], 0)
        self.assertEqual(m[("heard_replies_relayed_total",
                            '{result="posted"}')], 0)
        buckets = sorted((float(k[1][5:-2]) if "Inf" not in k[1]
                          else float("inf"), v) for k, v in m.items()
                         if k[0].endswith("_bucket"))
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(counts[-1], m[("heard_http_request_duration_"
                                        "seconds_count", "")])
        before = m[("heard_http_requests_total", '{code="4xx"}')]
        raw_get(self.h, "/api/v1/nope")
        after = self.metrics()[1][("heard_http_requests_total",
                                   '{code="4xx"}')]
        self.assertEqual(after, before + 1)
        # A failing source shows as failing, and the error is counted.
        self.srv.fault("/stories.rss", kind="status", status=500)
        self.h.run("poll", str(sid), check=False)
        _, m = self.metrics()
        self.assertEqual(m[("heard_sources", '{health="failing"}')], 1)

    def test_healthz_503_while_the_store_cannot_answer(self):
        start(self.h)
        # The table /healthz reads is taken away under the daemon, then
        # given back: it says so, then recovers with no restart.
        with sqlite3.connect(self.h.db) as db:
            db.execute("ALTER TABLE sources RENAME TO sources_away")
        try:
            st, _, body = raw_get(self.h, "/healthz")
            self.assertEqual(st, 503)
            self.assertEqual(json.loads(body)["status"], "unavailable")
        finally:
            with sqlite3.connect(self.h.db) as db:
                db.execute("ALTER TABLE sources_away RENAME TO sources")
        wait_for(lambda: healthy(self.h), 20, "healthy again")


class WebRootTest(unittest.TestCase):
    """A web root of our own: a symlink out of it is never followed."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="heard-web-")
        self.outside = tempfile.NamedTemporaryFile(suffix=".html",
                                                   delete=False)
        self.outside.write(b"secret outside the root")
        self.outside.close()
        with open(os.path.join(self.root, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title>")
        os.mkdir(os.path.join(self.root, "sub"))
        with open(os.path.join(self.root, "sub", "a.txt"), "w") as f:
            f.write("inside")
        os.symlink(self.outside.name, os.path.join(self.root, "out.html"))
        os.symlink(os.path.join(self.root, "sub", "a.txt"),
                   os.path.join(self.root, "in.txt"))
        self.h = Heard("[http]\nweb_root = %s\n" % self.root)
        start(self.h)

    def tearDown(self):
        self.h.close()
        shutil.rmtree(self.root)
        os.unlink(self.outside.name)

    def test_symlinks_out_refused_and_no_listing(self):
        self.assertEqual(raw_get(self.h, "/out.html")[0], 404)
        st, hd, body = raw_get(self.h, "/in.txt")
        self.assertEqual((st, body), (200, b"inside"))
        self.assertEqual(hd["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(raw_get(self.h, "/sub/")[0], 404)
        self.assertEqual(raw_get(self.h, "/sub")[0], 404)
        self.assertEqual(raw_get(self.h, "/sub/a.txt")[2], b"inside")


class ListenTest(unittest.TestCase):
    def test_bad_listen_is_a_config_error_naming_the_option(self):
        h = Heard("[http]\nlisten = 127.0.0.1\n")
        try:
            p = h.run("check-config", check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("http.listen", p.stderr)
            with open(h.conf) as f:
                line = f.read().splitlines().index("listen = 127.0.0.1") + 1
            self.assertIn("%s:%d: http.listen" % (h.conf, line), p.stderr)
        finally:
            h.close()

    def test_port_in_use_stops_the_start_with_a_reason(self):
        h = Heard()
        s = socket.socket()
        s.bind(("127.0.0.1", h.http_port))
        s.listen(1)
        try:
            h.start()
            self.assertNotEqual(h.daemon.wait(20), 0)
            h.daemon = None
            h.logf.close()
            self.assertIn("http.listen 127.0.0.1:%d: cannot listen"
                          % h.http_port, h.log_text())
        finally:
            s.close()
            h.close()

    def test_ipv6_loopback(self):
        try:
            t = socket.socket(socket.AF_INET6)
            t.bind(("::1", 0))
            port = t.getsockname()[1]
            t.close()
        except OSError:
            self.skipTest("no IPv6 loopback here")
        h = Heard("[http]\nlisten = [::1]:%d\n" % port)
        try:
            h.start()

            def up():
                c = http.client.HTTPConnection("::1", port, timeout=5)
                try:
                    c.request("GET", "/healthz")
                    return c.getresponse().status == 200
                except OSError:
                    return False
                finally:
                    c.close()
            wait_for(up, 20, "the server on [::1]")
        finally:
            stop_clean(self, h)


class OpenApiTest(unittest.TestCase):
    """docs/openapi.yaml is real YAML whose references all resolve
    (test_openapi.c checks its paths against the route table)."""

    def test_spec_loads_and_refs_resolve(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML is not installed")
        with open(os.path.join(SOURCE_DIR, "docs", "openapi.yaml")) as f:
            spec = yaml.safe_load(f)
        self.assertTrue(spec["openapi"].startswith("3.0."))

        def walk(node, where):
            if isinstance(node, dict):
                ref = node.get("$ref")
                if ref is not None:
                    target = spec
                    for part in ref[2:].split("/"):
                        self.assertIn(part, target, "%s: %s" % (where, ref))
                        target = target[part]
                for k, v in node.items():
                    walk(v, where + "/" + str(k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (where, i))
        walk(spec, "")
        for path, item in spec["paths"].items():
            names = set(re.findall(r"\{(\w+)\}", path))
            declared = set()
            for p in item.get("parameters", []):
                if "$ref" in p:
                    p = spec["components"]["parameters"][
                        p["$ref"].split("/")[-1]]
                if p["in"] == "path":
                    declared.add(p["name"])
            self.assertEqual(names, declared, path)
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.assertIn("responses", op, "%s %s" % (method, path))


if __name__ == "__main__":
    unittest.main()
