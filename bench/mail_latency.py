#!/usr/bin/env python3
"""Benchmark: how soon a patient's new post reaches staff as a mail, and
how many mails a second the mailer sends.

Runs the real `heard serve` against local feeds (a small HTTP server in
this process) and a real SMTP server (aiosmtpd, tests/integration's
smtp_sink) on 127.0.0.1. One lead of RJ1 wants a mail for every message.

1. Latency: --feeds sources, each polled every 10 s (heard's shortest
   interval), no jitter. --items stories appear one at a time at random
   feeds, spread over the run; for each, the time from appearing on the
   feed to the SMTP server accepting its mail (end to end, which the
   poll interval dominates), and from the feed serving it to heard to
   the mail accepted (heard's own part: parse, store, compose, send).
2. Throughput: --burst stories appear at once on one feed; one
   `heard poll` stores them, and the daemon composes and sends a mail
   each. Mails a second from the end of that poll to the last accepted.

Prints figures; fails only if heard does.

    bench/mail_latency.py [--heard build/heard] [--items 200] [--burst 2000]
"""

import argparse
import http.server
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

from smtp_sink import SmtpSink  # noqa: E402

MARK = re.compile(r"bench-(\d+)")


class Feeds:
    """Feeds by number; notes when each story was first served to heard."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}           # feed -> [(n, title)]
        self.posted = {}          # n -> time it appeared
        self.served = {}          # n -> time heard first got it

    def add(self, feed, n):
        with self.lock:
            self.items.setdefault(feed, []).append(n)
            self.posted[n] = time.monotonic()

    def body(self, feed):
        with self.lock:
            ns = list(self.items.get(feed, []))
        now = time.monotonic()
        parts = []
        for n in ns:
            parts.append(
                "<item><title>bench-%d</title><guid isPermaLink=\"false\">"
                "s%d</guid><description>Story %d: the nurses were kind "
                "and the wait was long.</description></item>" % (n, n, n))
            with self.lock:
                self.served.setdefault(n, now)
        return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
                "<channel><title>Feed %d</title><link>https://x.example/"
                "</link><description>b</description>%s</channel></rss>"
                % (feed, "".join(parts))).encode()


def serve(feeds):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            m = re.match(r"^/f/(\d+)\.rss$", self.path)
            body = feeds.body(int(m.group(1))) if m else b""
            self.send_response(200 if m else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Run:
    def __init__(self, heard, tmp, sink, port):
        self.heard = heard
        self.db = os.path.join(tmp, "heard.db")
        self.conf = os.path.join(tmp, "heard.conf")
        self.port = port
        secret = os.path.join(tmp, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "wb") as f:
            f.write(os.urandom(32))
        with open(self.conf, "w") as f:
            f.write("[store]\npath = %s\n[poll]\ninterval = 10s\n"
                    "jitter = 0\n[http]\nbase_url = https://heard.example\n"
                    "[mail]\nsmtp_url = %s\nfrom = heard <heard@x.example>\n"
                    "reply_domain = r.x.example\nsecret_file = %s\n"
                    "per_hour = 10000\n[log]\nlevel = warn\n"
                    % (self.db, sink.url, secret))
        self.log = open(os.path.join(tmp, "daemon.log"), "w")
        self.daemon = None

    def cli(self, *args):
        p = subprocess.run([self.heard, "-c", self.conf] + list(args),
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("heard %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def source(self, feed):
        return int(self.cli("sources", "add", "RJ1", "rss", "interval=10s",
                            "url=http://127.0.0.1:%d/f/%d.rss"
                            % (self.port, feed)))

    def start(self):
        self.daemon = subprocess.Popen([self.heard, "-c", self.conf,
                                        "serve"], stdout=self.log,
                                       stderr=subprocess.STDOUT)

    def stop(self):
        self.daemon.terminate()
        self.daemon.wait(30)

    def q(self, sql):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()


def wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            sys.exit("timed out waiting for " + what)
        time.sleep(0.01)


def arrivals(sink, seen):
    """n -> time the sink accepted its mail, for mails not yet seen."""
    out = {}
    for name in sink.files():
        if name in seen:
            continue
        seen.add(name)
        path = os.path.join(sink.folder, name)
        with open(path, "rb") as f:
            m = MARK.search(f.read().decode(errors="replace"))
        if m:
            out[int(m.group(1))] = os.stat(path).st_mtime
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def latency(run, feeds, sink, nfeeds, nitems):
    sids = []
    for f in range(nfeeds):
        feeds.add(f, 10 ** 6 + f)      # history: the backfill
        sids.append(run.source(f))
    run.start()
    wait(lambda: run.q("SELECT count(*) FROM sources WHERE "
                       "backfill_done_at IS NULL") == 0, 60, "first polls")
    wait(lambda: len(sink.files()) >= 1, 60, "the backfill summary")
    seen, got = set(sink.files()), {}
    # Mail times are wall clock (file mtime); posted ones monotonic.
    skew = time.time() - time.monotonic()
    for n in range(nitems):
        feeds.add(random.randrange(nfeeds), n)
        time.sleep(random.uniform(0, 0.5))
        got.update(arrivals(sink, seen))
    wait(lambda: got.update(arrivals(sink, seen)) or len(got) >= nitems,
         60, "every mail")
    end = [got[n] - skew - feeds.posted[n] for n in range(nitems)]
    own = [got[n] - skew - feeds.served[n] for n in range(nitems)]
    print("latency over %d items, %d feeds polled every 10 s:" %
          (nitems, nfeeds))
    print("  item on the feed -> mail accepted: p50 %.2f s, p99 %.2f s, "
          "max %.2f s" % (pct(end, 50), pct(end, 99), max(end)))
    print("  feed served to heard -> mail accepted: p50 %.3f s, p99 %.3f s"
          % (pct(own, 50), pct(own, 99)))
    run.stop()
    return sids[0]


def throughput(run, feeds, sink, burst, sid):
    """The burst is stored with the daemon down, then it starts."""
    before = set(sink.files())
    base = 2 * 10 ** 6
    for n in range(burst):
        feeds.add(0, base + n)
    run.cli("poll", str(sid))
    queued = run.q("SELECT count(*) FROM notification_outbox "
                   "WHERE state = 'pending'")
    t0 = time.time()
    run.start()
    wait(lambda: len(sink.files()) >= len(before) + burst, 600, "the burst")
    secs = time.time() - t0
    times = sorted(os.stat(os.path.join(sink.folder, f)).st_mtime
                   for f in set(sink.files()) - before)
    rate = (len(times) - 1) / (times[-1] - times[0])
    print("throughput: %d notifications pending at start -> %d mails "
          "accepted in %.2f s from the daemon's start (%.0f mails/s); "
          "%.0f mails/s from the first mail to the last"
          % (queued, len(times), secs, len(times) / secs, rate))
    run.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heard", default=os.path.join(TOP, "build", "heard"))
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--burst", type=int, default=2000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="heard-mail-bench-") as tmp:
        feeds = Feeds()
        srv = serve(feeds)
        sink = SmtpSink(os.path.join(tmp, "sink")).start()
        run = Run(a.heard, tmp, sink, srv.server_address[1])
        run.cli("orgs", "import", os.path.join(TOP, "data", "ods",
                                                "etr.csv"))
        run.cli("users", "add", "lead@x.example", "--role", "lead",
                "--org", "RJ1", "--notify", "message")
        try:
            sid = latency(run, feeds, sink, a.feeds, a.items)
            throughput(run, feeds, sink, a.burst, sid)
        finally:
            if run.daemon is not None and run.daemon.poll() is None:
                run.daemon.kill()
            sink.stop()
            srv.shutdown()


if __name__ == "__main__":
    main()
