"""`heard users`, the real binary: accounts added, listed, changed, refused.

The stored password hash is checked with Python's own scrypt (hashlib), an
implementation independent of the OpenSSL one heard uses.
"""

import base64
import hashlib
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from harness import Heard, wait_for  # noqa: E402

PW = "correct horse battery staple"


def reap(pid, timeout=20.0):
    """The child's wait status; killed (so failed) if not done in time."""
    ended = []

    def done():
        p, status = os.waitpid(pid, os.WNOHANG)
        if p:
            ended.append(status)
        return p
    try:
        wait_for(done, timeout, "heard to end")
    except AssertionError:
        os.kill(pid, 9)
        ended.append(os.waitpid(pid, 0)[1])
    return ended[0]


def b64(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


class UsersTest(unittest.TestCase):

    def setUp(self):
        self.h = Heard()
        self.h.add_org()

    def tearDown(self):
        self.h.close()

    def sql(self, query, *args):
        con = sqlite3.connect(self.h.db, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def users(self):
        return {u["email"]: u for u in self.h.json("users", "list")}

    def run_in(self, stdin, *args, check=True):
        import subprocess
        p = subprocess.run([os.environ.get("HEARD_BIN", "heard"), "-c",
                            self.h.conf] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def refused(self, *args, stdin=None, want=None):
        """heard must fail with one line on stderr and change nothing."""
        before = self.sql("SELECT count(*) FROM audit_log")
        p = self.run_in(stdin, *args, check=False) if stdin is not None \
            else self.h.run(*args, check=False)
        self.assertNotEqual(p.returncode, 0, args)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("heard: users"), lines[0])
        if want is not None:
            self.assertIn(want, lines[0])
        self.assertEqual(self.sql("SELECT count(*) FROM audit_log"),
                         before)
        return lines[0]

    def test_add_and_list(self):
        p = self.h.run("users", "add", "admin@nhs.net", "--role", "admin")
        self.assertEqual(p.stdout, "1\n")
        p = self.h.run("users", "add", "Pat.Lead@NHS.net", "--name",
                       "Pat Lead", "--role", "lead", "--org", "rj1",
                       "--org", "RTD", "--notify", "digest")
        self.assertEqual(p.stdout, "2\n")
        u = self.users()["Pat.Lead@NHS.net"]
        self.assertEqual(u["role"], "lead")
        self.assertEqual(u["name"], "Pat Lead")
        self.assertFalse(u["has_password"])
        self.assertEqual([(o["code"], o["notify"]) for o in u["orgs"]],
                         [("RJ1", "digest"), ("RTD", "digest")])
        text = self.h.run("users", "list").stdout.splitlines()
        self.assertEqual(len(text), 3)
        self.assertIn("RJ1:digest,RTD:digest", text[2])
        self.assertIn("Pat Lead", text[2])
        rows = self.sql("SELECT action, object, user_id FROM audit_log"
                        " ORDER BY id")
        self.assertEqual(rows, [("user.add", "user:1", None),
                                ("user.add", "user:2", None)])

    def test_refusals(self):
        self.h.run("users", "add", "a@nhs.net", "--role", "admin")
        self.refused("users", "add", "l@nhs.net", "--role", "lead",
                     want="at least one organisation")
        self.refused("users", "add", "r@nhs.net", "--role", "reviewer",
                     "--org", "ZZZ99", want="'ZZZ99'")
        self.refused("users", "add", "A@NHS.NET", "--role", "admin",
                     want="already exists")
        self.refused("users", "add", "not an address", "--role", "admin",
                     want="email")
        self.refused("users", "add", "x@nhs.net", "--role", "boss",
                     want="unknown role 'boss'")
        self.refused("users", "add", "x@nhs.net", "--role", "lead",
                     "--org", "RJ1", "--notify", "hourly",
                     want="'hourly'")
        self.refused("users", "add", "x@nhs.net", "--role", "lead",
                     "--org", want="--org needs a value")
        self.refused("users", "add", "x@nhs.net", want="--role")
        self.refused("users", "add", "x@nhs.net", "--role", "admin",
                     "--colour", "blue", want="'--colour'")
        self.refused("users", "frobnicate")
        self.refused("users", "set", "nobody@nhs.net", "--disable",
                     want="no account")
        self.refused("users", "set", "a@nhs.net", "--disable",
                     want="last enabled admin")
        self.refused("users", "set", "a@nhs.net", "--role", "lead",
                     want="last enabled admin")
        self.refused("users", "set", "a@nhs.net", "--name", "a\tb",
                     want="control character")
        self.refused("users", "set", "a@nhs.net", want="nothing to change")
        self.assertEqual(self.sql("SELECT count(*) FROM users"), [(1,)])

    def test_passwords(self):
        self.run_in(PW + "\n", "users", "add", "a@nhs.net", "--role",
                    "admin", "--password-stdin")
        self.h.run("users", "add", "l@nhs.net", "--role", "lead", "--org",
                   "RJ1")
        self.refused("users", "passwd", "l@nhs.net", stdin="too short\n",
                     want="shorter than 10")
        self.refused("users", "passwd", "l@nhs.net", stdin="x" * 20 + "\n",
                     want="repeated")
        self.refused("users", "passwd", "l@nhs.net",
                     stdin="two lines of\npassword here\n", want="one line")
        self.refused("users", "passwd", "l@nhs.net", stdin="y" * 2000,
                     want="one line")
        self.refused("users", "passwd", "ghost@nhs.net", stdin=PW,
                     want="no account")
        self.run_in(PW + " 2\r\n", "users", "passwd", "L@nhs.net")
        self.assertTrue(self.users()["l@nhs.net"]["has_password"])
        for email, pw in (("a@nhs.net", PW), ("l@nhs.net", PW + " 2")):
            (h,), = self.sql("SELECT password_hash FROM users"
                             " WHERE email = ?", email)
            alg, params, salt, key = h.split("$")[1:]
            self.assertEqual((alg, params), ("scrypt", "ln=15,r=8,p=1"))
            self.assertEqual(len(b64(salt)), 16)
            want = hashlib.scrypt(pw.encode(), salt=b64(salt), n=1 << 15,
                                  r=8, p=1, maxmem=64 << 20, dklen=32)
            self.assertEqual(b64(key), want)
        details = self.sql("SELECT coalesce(detail, '') FROM audit_log")
        for (d,) in details:
            self.assertNotIn("horse", d)
            self.assertNotIn("scrypt", d)
        self.assertEqual(self.sql("SELECT count(*) FROM audit_log WHERE"
                                  " action = 'user.password'"), [(1,)])

    def test_passwd_on_a_terminal(self):
        """On a terminal heard asks, without echo, and reads one line."""
        import pty
        import select
        self.h.run("users", "add", "t@nhs.net", "--role", "admin")
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(os.environ.get("HEARD_BIN", "heard"),
                     ["heard", "-c", self.h.conf, "users", "passwd",
                      "t@nhs.net"])
        seen = b""
        try:
            while b"New password for t@nhs.net: " not in seen:
                r, _, _ = select.select([fd], [], [], 20)
                self.assertTrue(r, "no prompt: %r" % seen)
                seen += os.read(fd, 1024)
            os.write(fd, (PW + "\n").encode())
            while True:
                r, _, _ = select.select([fd], [], [], 20)
                self.assertTrue(r, "heard did not end: %r" % seen)
                try:
                    chunk = os.read(fd, 1024)
                except OSError:	# the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            status = reap(pid)
            os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, seen)
        self.assertNotIn(PW.encode(), seen)
        self.assertTrue(self.users()["t@nhs.net"]["has_password"])

    def test_set_and_orgs(self):
        self.h.run("users", "add", "a@nhs.net", "--role", "admin")
        self.h.run("users", "add", "r@nhs.net", "--role", "reviewer",
                   "--org", "RJ1")
        self.h.run("users", "set", "r@nhs.net", "--name", "Robin",
                   "--role", "lead", "--disable")
        u = self.users()["r@nhs.net"]
        self.assertEqual((u["name"], u["role"], u["disabled"]),
                         ("Robin", "lead", True))
        self.h.run("users", "set", "r@nhs.net", "--enable")
        self.assertFalse(self.users()["r@nhs.net"]["disabled"])
        self.h.run("users", "org", "r@nhs.net", "RTD", "--notify",
                   "message")
        self.h.run("users", "org", "r@nhs.net", "RJ1", "--notify", "none")
        # Without --notify an existing choice stays.
        self.h.run("users", "org", "r@nhs.net", "rj1")
        orgs = {o["code"]: o["notify"]
                for o in self.users()["r@nhs.net"]["orgs"]}
        self.assertEqual(orgs, {"RJ1": "none", "RTD": "message"})
        self.h.run("users", "org", "r@nhs.net", "RJ1", "--remove")
        self.refused("users", "org", "r@nhs.net", "RTD", "--remove",
                     want="only organisation")
        self.refused("users", "org", "r@nhs.net", "RJ1", "--remove",
                     want="not a member")
        self.refused("users", "org", "r@nhs.net", "NOPE9",
                     want="'NOPE9'")
        self.refused("users", "org", "r@nhs.net", "RTD", "--remove",
                     "--notify", "digest", want="--remove")
        actions = [a for (a,) in self.sql(
            "SELECT action FROM audit_log WHERE object = 'user:2'"
            " ORDER BY id")]
        self.assertEqual(actions, ["user.add", "user.name", "user.role",
                                   "user.disable", "user.enable",
                                   "user.org", "user.org",
                                   "user.org.remove"])

    def test_help(self):
        p = self.h.run("users", "add", "--help")
        self.assertIn("usage: heard", p.stdout)
        for word in ("add EMAIL", "list", "set EMAIL", "org EMAIL",
                     "passwd EMAIL", "--password-stdin"):
            self.assertIn(word, p.stdout)
        self.assertIn("users", self.h.run("--help", check=False).stdout +
                      self.h.run("--help", check=False).stderr)


if __name__ == "__main__":
    unittest.main()
