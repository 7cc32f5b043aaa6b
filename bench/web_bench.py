#!/usr/bin/env python3
"""Benchmark: the JSON API's thread list and thread view under load.

With a database from bench/web_seed.py (by default 1,000,000 messages in
200,000 threads across 500 organisations; made first when --db does not
exist), runs `heard serve` on 127.0.0.1 and `wrk` (Debian's package) with
50 connections against, for one organisation (the largest, or --org):

- the thread list, first page, as that organisation's lead;
- the thread list, a later page (a cursor), as the lead;
- one of its threads (the one with most messages), as the lead;
- the thread list of that organisation as an admin;
- the whole inbox of the reviewer who reads the most threads (an ICB's
  reviewer over all its providers: no index gives that order).

Each caller authenticates with an API token (Authorization: Bearer), as a
script would. Prints requests per second and p50/p99 latency for each, and
the share of answers that were not 200. These are figures, not a test:
nothing here fails on a slow machine.

    bench/web_bench.py [--db /tmp/heard-web.db] [--heard build/heard]
        [--connections 50] [--duration 10] [--org CODE]
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "benchmark-password-1"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="/tmp/heard-web.db")
    p.add_argument("--heard", default=os.path.join(TOP, "build", "heard"))
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--threads", type=int, default=4,
                   help="wrk's threads")
    p.add_argument("--duration", type=int, default=10, help="seconds a run")
    p.add_argument("--warmup", type=int, default=3,
                   help="seconds of each run first, untimed, so the "
                   "first run does not pay for reading the file into "
                   "the page cache alone")
    p.add_argument("--org", help="ODS code (default: the largest)")
    return p.parse_args()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.status, r.headers, r.read()
    c.close()
    return out


def token_for(port, email):
    """Logs in with the seed's password and makes an API token."""
    st, hd, body = call(port, "POST", "/api/v1/login",
                        {"email": email, "password": PASSWORD})
    if st != 200:
        sys.exit("web_bench: log-in as %s: %d %s" % (email, st, body))
    csrf = json.loads(body)["csrf"]
    cookie = hd["Set-Cookie"].split(";", 1)[0]
    st, _, body = call(port, "POST", "/api/v1/tokens", {"name": "bench"},
                       {"Cookie": cookie, "X-CSRF-Token": csrf})
    if st != 201:
        sys.exit("web_bench: token: %d %s" % (st, body))
    return json.loads(body)["token"]


def pick(db, code):
    """The organisation (largest unless named) and its busiest thread."""
    con = sqlite3.connect(db)
    if code is None:
        code, n = con.execute(
            "SELECT o.code, count(*) n FROM threads t JOIN organisations o"
            " ON o.id = t.org_id GROUP BY o.id ORDER BY n DESC, o.code"
            " LIMIT 1").fetchone()
    else:
        n, = con.execute("SELECT count(*) FROM threads t JOIN organisations"
                         " o ON o.id = t.org_id WHERE o.code = ?",
                         (code,)).fetchone()
    tid, msgs = con.execute(
        "SELECT t.id, t.message_count FROM threads t JOIN organisations o"
        " ON o.id = t.org_id WHERE o.code = ? AND t.status <> 'hidden'"
        " ORDER BY t.message_count DESC, t.id LIMIT 1", (code,)).fetchone()
    total, = con.execute("SELECT count(*) FROM messages").fetchone()
    rev, nrev = con.execute(
        "SELECT u.email, (SELECT count(*) FROM threads t WHERE t.org_id IN"
        " (SELECT o.id FROM memberships m JOIN organisations p ON"
        " p.id = m.org_id JOIN organisations o ON o.icb_code = p.code OR"
        " o.parent_code = p.code OR o.id = p.id WHERE m.user_id = u.id)) n"
        " FROM users u WHERE u.role = 'reviewer' ORDER BY n DESC LIMIT 1"
    ).fetchone()
    con.close()
    return code, n, tid, msgs, total, rev, nrev


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(a, port, path, token, duration=None):
    """Runs wrk on path; (requests/s, p50 ms, p99 ms, non-200 answers)."""
    out = subprocess.run(
        ["wrk", "-t%d" % a.threads, "-c%d" % a.connections,
         "-d%ds" % (duration or a.duration), "--latency", "--timeout", "10s",
         "-H", "Authorization: Bearer " + token,
         "http://127.0.0.1:%d%s" % (port, path)],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, num, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$",
                                     out, re.M):
        lat[pct] = float(num) * UNITS[unit]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, lat.get("50"), lat.get("99"), int(m.group(1)) if m else 0, \
        reqs


def serve(a, tmp, port):
    conf = os.path.join(tmp, "heard.conf")
    with open(conf, "w") as f:
        f.write("[store]\npath = %s\n[http]\nlisten = 127.0.0.1:%d\n"
                "login_per_min = 100\n[log]\nlevel = warn\n" % (a.db, port))
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([a.heard, "-c", conf, "serve"], stdout=log,
                         stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return p
        except OSError:
            pass
        if p.poll() is not None:
            sys.exit("web_bench: heard serve exited: see %s" % log.name)
        time.sleep(0.1)
    p.kill()
    sys.exit("web_bench: heard serve did not answer in 60 s")


def main():
    a = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("web_bench: wrk is not installed (apt-get install wrk)")
    if not os.path.exists(a.db):
        subprocess.run([sys.executable, os.path.join(TOP, "bench",
                        "web_seed.py"), "--db", a.db, "--heard", a.heard],
                       check=True)
    code, nthreads, tid, msgs, total, rev, nrev = pick(a.db, a.org)
    tmp = tempfile.mkdtemp(prefix="heard-web-bench-")
    port = free_port()
    p = serve(a, tmp, port)
    try:
        lead = token_for(port, "lead.%s@bench.example" % code.lower())
        admin = token_for(port, "admin@bench.example")
        reviewer = token_for(port, rev)
        st, _, body = call(port, "GET", "/api/v1/threads?org=%s" % code,
                           headers={"Authorization": "Bearer " + lead})
        cursor = json.loads(body)["next_cursor"]
        runs = [
            ("thread list, first page (lead)",
             "/api/v1/threads?org=%s" % code, lead),
            ("thread list, second page (lead)",
             "/api/v1/threads?org=%s&cursor=%s" % (code, cursor), lead),
            ("thread view, %d messages (lead)" % msgs,
             "/api/v1/threads/%d" % tid, lead),
            ("thread list, first page (admin)",
             "/api/v1/threads?org=%s" % code, admin),
            ("reviewer's inbox, %d threads" % nrev, "/api/v1/threads",
             reviewer),
        ]
        print("database: %d messages; organisation %s with %d threads; "
              "wrk %d connections, %d threads, %d s a run" %
              (total, code, nthreads, a.connections, a.threads, a.duration))
        print("%-40s %10s %10s %10s %8s" % ("", "req/s", "p50 ms",
                                            "p99 ms", "non-200"))
        if a.warmup > 0:
            for what, path, tok in runs:
                wrk(a, port, path, tok, a.warmup)
        for what, path, tok in runs:
            rps, p50, p99, bad, n = wrk(a, port, path, tok)
            print("%-40s %10.0f %10.2f %10.2f %8d" % (what, rps, p50, p99,
                                                      bad))
    finally:
        p.terminate()
        p.wait(30)
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
