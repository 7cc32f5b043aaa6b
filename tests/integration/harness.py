"""Runs the real heard binary for integration tests: CLI calls and a daemon.

Every wait is on a condition (a row, a log line) with a deadline, never a
bare sleep.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HEARD = os.environ.get("HEARD_BIN", "heard")
SOURCE_DIR = os.environ.get("HEARD_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=20.0, what="condition"):
    """Calls cond until it returns something true; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


class Heard:
    """A temporary database and config, and ways to run heard on them."""

    def __init__(self, config_extra=""):
        self.dir = tempfile.TemporaryDirectory(prefix="heard-it-")
        self.db = os.path.join(self.dir.name, "heard.db")
        self.conf = os.path.join(self.dir.name, "heard.conf")
        self.log = os.path.join(self.dir.name, "daemon.log")
        # serve also serves the web inbox: each daemon its own port.
        self.http_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.http_port
        self.write_config(config_extra)
        self.daemon = None

    def write_config(self, extra=""):
        with open(self.conf, "w") as f:
            f.write("[store]\npath = %s\n[poll]\ninterval = 1h\n"
                    "jitter = 0\nbackoff_base = 10s\nbackoff_max = 1h\n"
                    "timeout = 3s\nconnect_timeout = 2s\n"
                    "[log]\nlevel = debug\n[http]\nlisten = %s\n%s" %
                    (self.db, self.url[len("http://"):], extra))

    def run(self, *args, check=True):
        p = subprocess.run([HEARD, "-c", self.conf] + list(args),
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("heard %s failed (%d): %s" %
                                 (" ".join(args), p.returncode, p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def add_org(self):
        """Loads the real trust list (small) so RJ1 and friends exist."""
        self.run("orgs", "import",
                 os.path.join(SOURCE_DIR, "data", "ods", "etr.csv"))

    def add_source(self, org, connector, **settings):
        words = ["%s=%s" % kv for kv in settings.items()]
        return int(self.run("sources", "add", org, connector,
                            *words).stdout.strip())

    def source(self, sid):
        for s in self.json("sources", "list"):
            if s["id"] == sid:
                return s
        raise AssertionError("no source %d" % sid)

    def threads(self, org=None):
        args = ["threads"] + (["--org", org] if org else [])
        return self.json(*args)

    def thread(self, tid):
        return self.json("thread", str(tid))

    def start(self, *extra):
        self.logf = open(self.log, "a")
        self.daemon = subprocess.Popen(
            [HEARD, "-c", self.conf, "serve"] + list(extra),
            stdout=self.logf, stderr=subprocess.STDOUT)

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def wait_log(self, needle, timeout=20.0):
        return wait_for(lambda: needle in self.log_text(), timeout,
                        "log line %r" % needle)

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if self.daemon is None:
            return None
        self.daemon.send_signal(sig)
        rc = self.daemon.wait(timeout)
        self.daemon = None
        self.logf.close()
        return rc

    def close(self):
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait()
            self.logf.close()
        self.dir.cleanup()


class HeardTestCase(unittest.TestCase):
    """Gives each test a fresh Heard and a fresh feed server."""

    config_extra = ""

    def setUp(self):
        from feedserver import FeedServer
        self.srv = FeedServer()
        self.h = Heard(self.config_extra)
        self.h.add_org()

    def tearDown(self):
        self.h.close()
        self.srv.close()
