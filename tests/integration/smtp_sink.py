"""A real SMTP server on 127.0.0.1 that keeps every message it is given.

It is Debian's python3-aiosmtpd (aiosmtpd.controller.Controller, its own
thread and asyncio loop) with a handler that writes each message to a
folder as NNNN.eml (the bytes as received) and NNNN.json (the envelope).
Tests use it through SmtpSink:

    sink = SmtpSink(folder).start()      # sink.port, sink.url
    ...heard sends...
    sink.wait_for(2, timeout=20)          # two messages, or AssertionError
    for env, msg in sink.messages():      # env: mail_from, rcpt_tos
        msg["Message-ID"]                 # msg: email.message.Message

Faults for the tests that need them: hold() keeps the final reply to
DATA back (the message is already saved) until release(), so a test can
kill the client between the server taking a mail and the client hearing
so; reject(code, text) answers RCPT TO with it (a 550, say).

SmtpSink(folder, tls=(cert, key), auth=(user, password)) offers
STARTTLS with that certificate and requires it, and requires AUTH (PLAIN
or LOGIN, only over TLS) with those credentials; each envelope then
says whether the session was TLS and who logged in.
"""

import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import threading
import time
import warnings

# aiosmtpd 1.4 warns about its own use of a field it deprecated.
warnings.filterwarnings("ignore", message="Session.login_data")

try:
    from aiosmtpd.controller import Controller
except ImportError:  # a python3 not Debian's (pyenv) misses Debian's modules
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


def free_port():
    """A port nobody listens on now; aiosmtpd's readiness check needs one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.sink.rejection is not None:
            return self.sink.rejection
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = self.sink.save(envelope, session)
        if self.sink.held.is_set():
            # Saved, not yet answered: the client does not know it went.
            self.sink.holding.set()
            await asyncio.get_running_loop().run_in_executor(
                None, self.sink.released.wait)
        return "250 OK: queued as %04d" % n


class SmtpSink:
    """Keeps messages in folder; see the module's note for the API."""

    def __init__(self, folder, tls=None, auth=None):
        self.folder = folder
        self.tls = tls
        self.auth = auth
        os.makedirs(folder, exist_ok=True)
        self.lock = threading.Lock()
        self.count = 0
        self.rejection = None
        self.held = threading.Event()
        self.holding = threading.Event()
        self.released = threading.Event()
        self.controller = None
        self.port = None

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self):
        self.port = free_port()
        kw = {}
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.tls)
            kw.update(tls_context=ctx, require_starttls=True)
        if self.auth is not None:
            kw.update(auth_required=True, authenticator=self._authenticate)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1",
                                     port=self.port, ready_timeout=10, **kw)
        self.controller.start()
        return self

    def stop(self):
        self.released.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and \
            (data.login.decode(), data.password.decode()) == self.auth
        return AuthResult(success=ok, auth_data=data if ok else None)

    def save(self, envelope, session=None):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.folder, "%04d" % n)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            auth = getattr(session, "auth_data", None)
            json.dump({"mail_from": envelope.mail_from,
                       "rcpt_tos": list(envelope.rcpt_tos),
                       "tls": bool(getattr(session, "ssl", None)),
                       "login": auth.login.decode() if auth else None,
                       "received_at": time.time()}, f)
        # The .eml appears whole or not at all: readers count those.
        os.rename(base + ".eml.tmp", base + ".eml")
        return n

    def hold(self):
        self.released.clear()
        self.holding.clear()
        self.held.set()

    def release(self):
        self.held.clear()
        self.released.set()

    def reject(self, code=550, text="5.1.1 no such user"):
        self.rejection = "%d %s" % (code, text)

    def accept(self):
        self.rejection = None

    def files(self):
        return sorted(f for f in os.listdir(self.folder)
                      if f.endswith(".eml"))

    def messages(self):
        """[(envelope dict, email.message.Message)], in arrival order."""
        out = []
        for name in self.files():
            base = os.path.join(self.folder, name[:-4])
            with open(base + ".json") as f:
                env = json.load(f)
            with open(base + ".eml", "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            msg.raw = raw
            out.append((env, msg))
        return out

    def wait_for(self, n, timeout=20.0):
        """Waits until at least n messages are kept; returns them."""
        deadline = time.monotonic() + timeout
        while len(self.files()) < n:
            if time.monotonic() > deadline:
                raise AssertionError("SMTP sink: %d messages after %.0fs, "
                                     "wanted %d" % (len(self.files()),
                                                    timeout, n))
            time.sleep(0.05)
        return self.messages()
