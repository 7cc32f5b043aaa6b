"""A real Dovecot IMAP server on 127.0.0.1, for heard's mail-in tests.

Debian's dovecot-imapd with a throwaway configuration in a temporary
folder: one user in a passwd-file, Maildir storage, no TLS (plain-text
log-in allowed, on the loopback only), every runtime file (base_dir,
state_dir, log) in the folder, the master in the foreground (-F).

Dovecot's login processes refuse to run as root and its mail processes
refuse uid 0, so under root (as in CI) both run as "nobody", which is
given the mail folder; otherwise everything runs as the current user.

    d = Dovecot()
    uid = d.deliver(b"From: ...\\r\\n...")   # IMAP APPEND; returns the UID
    d.url, d.user, d.password_file          # for heard's [mail] imap_*
    d.stop()
"""

import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

DOVECOT = os.environ.get("DOVECOT_BIN", "/usr/sbin/dovecot")

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused log-in answers at once, and the next is not slowed by the
# per-address penalty (anvil's, off below): tests need not wait.
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """One Dovecot with one mailbox user; stop() ends it."""

    def __init__(self, user="replies", password="imap-pass-1"):
        self.tmp = tempfile.TemporaryDirectory(prefix="heard-dovecot-")
        self.dir = self.tmp.name
        self.user, self.password = user, password
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            run_user, uid, gid = "nobody", pw.pw_uid, pw.pw_gid
        else:
            pw = pwd.getpwuid(os.geteuid())
            run_user, uid, gid = pw.pw_name, pw.pw_uid, pw.pw_gid
        group = grp.getgrgid(gid).gr_name
        for d in ("run", "state", "mail"):
            os.mkdir(os.path.join(self.dir, d))
        if os.geteuid() == 0:
            os.chown(os.path.join(self.dir, "mail"), uid, gid)
            # nobody must reach its mail below the temporary folder.
            os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s::::\n" % (user, password))
        self.password_file = os.path.join(self.dir, "imap-password")
        with open(self.password_file, "w") as f:
            f.write(password + "\n")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(dir=self.dir, user=run_user, group=group,
                                  uid=uid, gid=gid, port=self.port))
        self.log = os.path.join(self.dir, "dovecot.log")
        self.out = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self._wait_ready()
        self.url = "imap://127.0.0.1:%d/INBOX" % self.port

    def logs(self):
        text = []
        for name in ("stdout.log", "dovecot.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text.append(f.read())
            except OSError:
                pass
        return "\n".join(text)

    def _wait_ready(self, timeout=15.0):
        """Until a log-in works; the logs say why if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited (%d):\n%s" %
                                   (self.proc.returncode, self.logs()))
            try:
                m = self.connect()
                m.logout()
                return
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("dovecot never let us log in:\n%s"
                                       % self.logs())
                time.sleep(0.05)

    def connect(self):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        m.login(self.user, self.password)
        return m

    def deliver(self, data, mailbox="INBOX"):
        """APPENDs one message; returns its UID (from APPENDUID)."""
        m = self.connect()
        try:
            typ, resp = m.append(mailbox, None, None, data)
            if typ != "OK":
                raise RuntimeError("APPEND refused: %r" % resp)
            uid = re.search(rb"APPENDUID \d+ (\d+)", resp[0])
            return int(uid.group(1)) if uid else None
        finally:
            m.logout()

    def flags(self, uid, mailbox="INBOX"):
        """The flags of one message, e.g. b'\\\\Seen'."""
        m = self.connect()
        try:
            m.select(mailbox, readonly=True)
            typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
            return data[0] if data and data[0] else b""
        finally:
            m.logout()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            self.tmp.cleanup()
        except OSError:
            pass
