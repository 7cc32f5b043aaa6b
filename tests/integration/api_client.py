"""A small client of heard's JSON API for the integration tests.

Two ways in, as the web inbox and scripts use them:

    c = ApiClient(h.url)
    c.login("lead@example.nhs.uk", "a long password")  # cookie + CSRF
    status, headers, body = c.get("/api/v1/me")

    t = ApiClient(h.url, token="...")                  # Bearer, no CSRF

Every call returns (status, headers, body): body is the parsed JSON when
the answer is JSON, else the raw bytes (b"" for none). HTTP errors are
answers like any other, never exceptions.
"""

import http.client
import json
import urllib.parse


class ApiClient:
    def __init__(self, base_url, token=None, timeout=15.0, source=None):
        u = urllib.parse.urlsplit(base_url)
        self.host = u.hostname
        self.port = u.port or 80
        self.token = token
        self.timeout = timeout
        # Another loopback address (127.0.0.2...) to appear as another
        # client, e.g. for per-address limits.
        self.source = (source, 0) if source else None
        self.session = None     # the heard_session cookie's value
        self.csrf = None        # sent as X-CSRF-Token on writes
        self.set_cookie = None  # the last Set-Cookie header seen

    def request(self, method, path, body=None, headers=None, raw=None,
                csrf=True):
        """One request. body: a value sent as JSON; raw: bytes sent as
        they are (with headers saying what they are); csrf=False leaves
        the CSRF header out even when logged in."""
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
        if self.token is not None:
            h["Authorization"] = "Bearer " + self.token
        if self.session is not None:
            h["Cookie"] = "heard_session=" + self.session
        if (csrf and self.csrf is not None and
                method not in ("GET", "HEAD")):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout,
                                          source_address=self.source)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            payload = r.read()
            headers = r.headers
            status = r.status
        finally:
            conn.close()
        self._keep_cookie(headers)
        ctype = headers.get("Content-Type", "")
        if payload and ctype.startswith("application/json"):
            return status, headers, json.loads(payload)
        return status, headers, payload

    def _keep_cookie(self, headers):
        for v in headers.get_all("Set-Cookie") or []:
            self.set_cookie = v
            name, _, rest = v.partition("=")
            if name.strip() != "heard_session":
                continue
            value = rest.split(";", 1)[0]
            # An emptied cookie (Max-Age=0) is the server logging us out.
            self.session = value or None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, email, password, check=True):
        """Logs in, keeping the cookie and the CSRF token."""
        status, headers, body = self.post(
            "/api/v1/login", {"email": email, "password": password})
        if status == 200:
            self.csrf = body["csrf"]
        elif check:
            raise AssertionError("login %s: %d %r" % (email, status, body))
        return status, headers, body

    def logout(self):
        return self.post("/api/v1/logout")

    def new_token(self, name="script"):
        """A new API token (needs a session); returns its secret."""
        status, _, body = self.post("/api/v1/tokens", {"name": name})
        if status != 201:
            raise AssertionError("token: %d %r" % (status, body))
        return body["token"]
