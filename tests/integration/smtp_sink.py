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
"""

import asyncio
import email
import email.policy
import json
import os
import socket
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:  # a python3 not Debian's (pyenv) misses Debian's modules
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller


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
        n = self.sink.save(envelope)
        if self.sink.held.is_set():
            # Saved, not yet answered: the client does not know it went.
            self.sink.holding.set()
            await asyncio.get_running_loop().run_in_executor(
                None, self.sink.released.wait)
        return "250 OK: queued as %04d" % n


class SmtpSink:
    """Keeps messages in folder; see the module's note for the API."""

    def __init__(self, folder):
        self.folder = folder
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
        self.controller = Controller(_Handler(self), hostname="127.0.0.1",
                                     port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self):
        self.released.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def save(self, envelope):
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
            json.dump({"mail_from": envelope.mail_from,
                       "rcpt_tos": list(envelope.rcpt_tos),
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
