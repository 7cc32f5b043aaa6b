#!/usr/bin/env python3
"""Benchmark: from a staff reply landing in IMAP to the channel's POST.

Starts a real Dovecot (tests/integration/dovecot.py) and the fake Open311
server with one service request per reply, polls them into heard, then
runs `heard serve` polling the mailbox every --interval seconds. For each
reply in turn it waits a random part of one interval (so the arrivals fall
evenly over the polling cycle), APPENDs a reply mail addressed to that
thread's signed reply address, and times from APPEND's answer to the fake
channel receiving the POST. Prints p50, p90, p99 and the worst.

The wait is dominated by the IMAP interval: a mail waits on average half
of it for the next look; then heard fetches, checks and queues the reply,
and wakes the replier at once. These are figures, not a test.

    bench/mail_reply_latency.py [--replies 100] [--interval 1]
        [--heard build/heard]
"""

import argparse
import hashlib
import hmac
import os
import random
import statistics
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

DOMAIN = "reply.example.nhs.uk"
LEAD = "pat.lead@example.nhs.uk"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replies", type=int, default=100)
    ap.add_argument("--interval", type=int, default=1,
                    help="[mail] imap_interval, seconds (default 1)")
    ap.add_argument("--heard", default=os.path.join(TOP, "build", "heard"))
    args = ap.parse_args()
    os.environ["HEARD_BIN"] = os.path.abspath(args.heard)
    os.environ.setdefault("HEARD_SOURCE_DIR", TOP)

    from dovecot import Dovecot
    from fake_open311 import FakeOpen311
    from harness import Heard, wait_for

    srv = FakeOpen311(api_key="KEY")
    imap = Dovecot()
    keydir = tempfile.TemporaryDirectory(prefix="heard-bench-key-")
    secret = os.urandom(32)
    secret_file = os.path.join(keydir.name, "secret")
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, secret)
    os.close(fd)
    h = Heard("[log]\nlevel = info\n[mail]\nreply_domain = %s\n"
              "secret_file = %s\nimap_url = %s\nimap_user = %s\n"
              "imap_password_file = %s\nimap_interval = %ds\n" %
              (DOMAIN, secret_file, imap.url, imap.user,
               imap.password_file, args.interval))
    arrived = {}
    lock = threading.Lock()
    real = srv.post_update

    def timed(form, ext):
        with lock:
            arrived[form.get("service_request_id")] = time.monotonic()
        return real(form, ext)
    srv.post_update = timed
    try:
        h.add_org()
        h.run("users", "add", LEAD, "--name", "Pat Lead", "--role", "lead",
              "--org", "RJ1", "--notify", "none")
        uid = int(h.json("users", "list")[0]["id"])
        for i in range(args.replies):
            srv.add_request(700000 + i, "2026-05-01T09:00:00Z",
                            description="Request %d" % i)
        sid = h.add_source("RJ1", "care-connect", endpoint=srv.endpoint,
                           api_key="KEY")
        h.run("poll", str(sid))
        by_req = {}
        for t in h.threads():
            for item in h.thread(t["id"])["items"]:
                if item["external_id"].startswith("req:"):
                    by_req[item["external_id"][4:]] = t["id"]
        h.start()
        lat = []
        for i in range(args.replies):
            rid = str(700000 + i)
            tid = by_req[rid]
            mac = hmac.new(secret, b"heard-reply-v1:%d.%d" % (tid, uid),
                           hashlib.sha256).hexdigest()[:32]
            msg = ("From: Pat Lead <%s>\r\nTo: reply+%d.%d.%s@%s\r\n"
                   "Subject: Re: request %s\r\nMessage-ID: <b%d@bench>\r\n"
                   "MIME-Version: 1.0\r\nContent-Type: text/plain; "
                   "charset=utf-8\r\n\r\nThank you; we will call you "
                   "today.\r\n\r\nOn Fri, 1 May 2026 at 09:00, heard wrote:"
                   "\r\n> Request %d\r\n" % (LEAD, tid, uid, mac, DOMAIN,
                                              rid, i, i)).encode()
            time.sleep(random.uniform(0, args.interval))
            imap.deliver(msg)
            t0 = time.monotonic()
            wait_for(lambda: rid in arrived, 30, "the POST for %s" % rid)
            lat.append(arrived[rid] - t0)
        h.stop()
    finally:
        h.close()
        imap.stop()
        srv.close()
        keydir.cleanup()
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat))) - 1)]
    print("mail reply latency, IMAP APPEND answered -> channel POST "
          "received")
    print("  replies %d, one at a time, arrivals spread over the cycle; "
          "[mail] imap_interval = %d s" % (len(lat), args.interval))
    print("  p50 %.3f s  p90 %.3f s  p99 %.3f s  max %.3f s  mean %.3f s" %
          (pct(50), pct(90), pct(99), lat[-1], statistics.mean(lat)))


if __name__ == "__main__":
    main()
