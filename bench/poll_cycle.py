#!/usr/bin/env python3
"""Benchmark: one full poll cycle over N feeds, cold (all new) and warm (304).

Generates N realistic RSS 2.0 feeds of 20 patient stories each, serves them
with nginx on 127.0.0.1 (ETag and Last-Modified, as a real host would), adds
one rss source per feed, then times `heard poll --all` twice:

- cold: every item is new and stored;
- warm: every request is conditional and answered 304.

Prints wall seconds, items per second and peak RSS of heard for each. These
are figures, not a test: nothing here fails on a slow machine.

    bench/poll_cycle.py [--feeds 1000] [--feeds 10000] [--heard build/heard]
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORDS = ("the nurses on the ward were kind and explained every step but "
         "we waited four hours in the emergency department before anyone "
         "told us what was happening parking was impossible and the "
         "discharge letter never reached our GP").split()

NGINX_CONF = """
daemon off;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/rss+xml;
    etag on;
    keepalive_requests 100000;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
    }}
}}
"""


def story(feed, i):
    n = (feed * 31 + i * 7) % len(WORDS)
    words = (WORDS[n:] + WORDS[:n]) * 2
    return {
        "guid": "bench-%d-%d" % (feed, i),
        "title": " ".join(words[:6]).capitalize(),
        "body": "&lt;p&gt;%s.&lt;/p&gt;&lt;p&gt;%s.&lt;/p&gt;" % (
            " ".join(words[:25]).capitalize(),
            " ".join(words[25:50]).capitalize()),
        "date": time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                              time.gmtime(1763000000 + feed * 97 + i * 3600)),
    }


def feed_xml(feed):
    items = "".join(
        "<item><title>%(title)s</title>"
        "<link>https://stories.example.org/s/%(guid)s</link>"
        "<guid isPermaLink=\"false\">%(guid)s</guid>"
        "<dc:creator>Patient %(guid)s</dc:creator>"
        "<pubDate>%(date)s</pubDate>"
        "<description>%(body)s</description></item>" % story(feed, i)
        for i in range(20))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<channel><title>Stories %d</title>"
            "<link>https://stories.example.org/%d</link>"
            "<description>bench</description>%s</channel></rss>\n"
            % (feed, feed, items)).encode()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ensure_nginx():
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        return "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") \
            else shutil.which("nginx")
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"],
                   check=True, stdout=subprocess.DEVNULL)
    return "/usr/sbin/nginx"


class Result:
    def __init__(self, returncode, stderr):
        self.returncode = returncode
        self.stderr = stderr


def heard(bin_, conf, *args):
    """Runs heard; returns its result, wall seconds and its own peak RSS."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([bin_, "-c", conf] + list(args),
                             stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    return Result(p.returncode, text), wall, usage.ru_maxrss


def add_sources(bin_, conf, db, port, n):
    """Adds one source by the CLI, then copies its row for the others."""
    url = "http://127.0.0.1:%d/f/%%d.rss" % port
    p, _, _ = heard(bin_, conf, "sources", "add", "RJ1", "rss",
                    "url=" + url % 0)
    if p.returncode != 0:
        sys.exit("sources add failed: " + p.stderr)
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(sources)")
            if r[1] not in ("id",)]
    row = dict(zip(cols, con.execute(
        "SELECT %s FROM sources" % ",".join(cols)).fetchone()))
    rows = []
    for i in range(1, n):
        r = dict(row)
        r["settings"] = row["settings"].replace("/f/0.rss", "/f/%d.rss" % i)
        rows.append([r[c] for c in cols])
    con.executemany("INSERT INTO sources (%s) VALUES (%s)" % (
        ",".join(cols), ",".join("?" * len(cols))), rows)
    con.commit()
    con.close()


def one_size(bin_, nginx, n):
    with tempfile.TemporaryDirectory(prefix="heard-bench-") as d:
        os.chmod(d, 0o755)  # nginx's workers drop root and must read it
        os.makedirs(os.path.join(d, "www", "f"))
        os.makedirs(os.path.join(d, "tmp"))
        for f in range(n):
            with open(os.path.join(d, "www", "f", "%d.rss" % f), "wb") as fh:
                fh.write(feed_xml(f))
        port = free_port()
        with open(os.path.join(d, "nginx.conf"), "w") as fh:
            fh.write(NGINX_CONF.format(dir=d, port=port))
        srv = subprocess.Popen([nginx, "-c", os.path.join(d, "nginx.conf"),
                                "-p", d], stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # nginx binds at once; a bench may wait
            db = os.path.join(d, "heard.db")
            conf = os.path.join(d, "heard.conf")
            with open(conf, "w") as fh:
                fh.write("[store]\npath = %s\n[poll]\nper_host = 16\n"
                         "max_transfers = 64\n[log]\nlevel = warn\n" % db)
            heard(bin_, conf, "orgs", "import",
                  os.path.join(TOP, "data", "ods", "etr.csv"))
            add_sources(bin_, conf, db, port, n)
            for label in ("cold", "warm"):
                p, wall, rss = heard(bin_, conf, "poll", "--all")
                if p.returncode != 0:
                    print("  %s: poll failed: %s" % (label,
                                                     p.stderr[-300:]))
                con = sqlite3.connect(db)
                items = con.execute("SELECT count(*) FROM messages"
                                    ).fetchone()[0]
                con.close()
                rate = ("%9.0f items/s" % (items / wall) if label == "cold"
                        else "%9.0f feeds/s" % (n / wall))
                print("%6d feeds %-4s: %7.2f s wall, %s, peak RSS %6.1f "
                      "MiB, %d items stored"
                      % (n, label, wall, rate, rss / 1024.0, items))
        finally:
            srv.terminate()
            srv.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, action="append")
    ap.add_argument("--heard", default=os.path.join(TOP, "build", "heard"))
    args = ap.parse_args()
    nginx = ensure_nginx()
    for n in args.feeds or [1000, 10000]:
        one_size(args.heard, nginx, n)


if __name__ == "__main__":
    main()
