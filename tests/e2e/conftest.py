"""Fixtures for end-to-end tests against the running stack that scripts/test starts.

Reads the env file scripts/stack writes (ROUTEALL_E2E_*). Gives tests: a fresh funded account
and key per test (so tests never share balances), the admin API, direct ledger queries, the
fake upstream's control endpoints, and control over stack processes and the Kafka broker."""

import json
import os
import subprocess
import time
import uuid

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _env(name):
    value = os.environ.get(name, "")
    if not value:
        if os.environ.get("ROUTEALL_TEST_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{name} is not set but integration tests are required")
        pytest.skip(f"{name} is not set (run scripts/test)")
    return value


class Admin:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None, expect=(200, 201)):
        r = requests.request(method, self.base + path, json=body, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def new_account(self, credits_micros, group="default", name=None):
        """Creates an account with a key and a balance; returns (account_id, key)."""
        acct = self.call("POST", "/admin/accounts", {"name": name or f"e2e-{uuid.uuid4().hex[:8]}",
                                                      "group": group})["account"]["id"]
        key = self.call("POST", "/admin/keys", {"account_id": acct, "name": "e2e"})["secret"]
        if credits_micros:
            self.call("POST", "/admin/topups", {"account_id": acct, "amount_micros": credits_micros,
                                                "reference": f"e2e-{uuid.uuid4().hex}"})
        return int(acct), key

    def balance(self, account_id):
        return int(self.call("GET", f"/admin/accounts/{account_id}/balance")["balance_micros"])


class Ledger:
    """Direct reads of billing's ledger (the source of truth for money)."""

    def __init__(self, pg_url):
        self.pg_url = pg_url

    def query(self, sql):
        out = subprocess.run(["psql", self.pg_url, "-At", "-F", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def usage_rows(self, account_id):
        return self.query("SELECT request_id, amount_micros, prompt_tokens, cached_tokens, completion_tokens,"
                          " reasoning_tokens FROM billing.ledger WHERE kind = 1 AND account_id = "
                          f"{int(account_id)} ORDER BY id")

    def wait_for_rows(self, account_id, count, timeout=60):
        deadline = time.time() + timeout
        rows = []
        while time.time() < deadline:
            rows = self.usage_rows(account_id)
            if len(rows) >= count:
                return rows
            time.sleep(0.2)
        return rows


class Stack:
    """Stops and starts stack processes and the Kafka broker under the tests' feet."""

    def restart(self, service):
        subprocess.run([os.path.join(ROOT, "scripts", "stack"), "restart", service], check=True,
                       capture_output=True)

    def stop(self, service):
        subprocess.run([os.path.join(ROOT, "scripts", "stack"), "stop", service], check=True, capture_output=True)

    def start(self, service):
        subprocess.run([os.path.join(ROOT, "scripts", "stack"), "start", service], check=True, capture_output=True)

    def _kafka(self, fn):
        d = _env("ROUTEALL_E2E_KAFKA_DIR")
        port = _env("ROUTEALL_E2E_KAFKA_PORT")
        ctrl = _env("ROUTEALL_E2E_KAFKA_CONTROLLER_PORT")
        script = (f'source "{ROOT}/scripts/lib/kafka.sh"; '
                  + (f'kafka_stop "{d}"' if fn == "stop" else
                     f'kafka_start "{d}" {port} {ctrl} && kafka_wait_ready {port}'))
        subprocess.run(["bash", "-c", script], check=True, capture_output=True)

    def stop_kafka(self):
        self._kafka("stop")

    def start_kafka(self):
        self._kafka("start")


class Fake:
    """The fake upstream's control endpoints (per-instance knobs, counters, last request)."""

    def __init__(self, base):
        self.base = base

    def config(self, instance, knobs):
        r = requests.post(f"{self.base}/_fake/config/{instance}", json=knobs, timeout=10)
        assert r.status_code == 200, r.text

    def stats(self, instance):
        return requests.get(f"{self.base}/_fake/stats/{instance}", timeout=10).json()

    def last(self, instance):
        return requests.get(f"{self.base}/_fake/last/{instance}", timeout=10).json()


@pytest.fixture(scope="session")
def base_url():
    return _env("ROUTEALL_E2E_BASE_URL")


@pytest.fixture(scope="session")
def admin(base_url):
    return Admin(base_url, _env("ROUTEALL_E2E_ADMIN_TOKEN"))


@pytest.fixture(scope="session")
def ledger():
    return Ledger(_env("ROUTEALL_E2E_PG_URL"))


@pytest.fixture(scope="session")
def stack():
    _env("ROUTEALL_E2E_STACK_DIR")
    return Stack()


@pytest.fixture(scope="session")
def fake():
    return Fake(_env("ROUTEALL_E2E_FAKE_URL"))


@pytest.fixture(scope="session")
def model():
    return _env("ROUTEALL_E2E_MODEL")


def chat(base_url, key, model, content, stream=False, timeout=60, **extra):
    """One chat request with requests (raw HTTP, so tests see headers and trailers' effects)."""
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    if stream:
        body["stream"] = True
        body.setdefault("stream_options", {"include_usage": True})
    return requests.post(f"{base_url}/v1/chat/completions", json=body, stream=stream, timeout=timeout,
                         headers={"Authorization": f"Bearer {key}"})


# --- Raw HTTP/1.1 client (appended for test_billing.py; usable by any test) ---
# requests/urllib3 drop HTTP trailers and cannot hang up at a chosen point of a stream; this
# client reads chunked bodies itself, returns the trailers, and can abort after N SSE events.

class RawResponse:
    def __init__(self):
        self.status, self.headers, self.body, self.trailers, self.aborted = 0, {}, b"", {}, False

    def json(self):
        return json.loads(self.body)

    def sse_data(self):
        """Payloads of the SSE `data:` lines, in order (e.g. '[DONE]' or a JSON chunk)."""
        return [line[5:].strip() for line in self.body.decode("utf-8", "replace").splitlines()
                if line.startswith("data:")]


def _raw_line(f):
    line = f.readline(1 << 16)
    if not line:
        raise ConnectionError("connection closed in the middle of the response")
    return line.decode("latin-1").rstrip("\r\n")


def _raw_fields(f, into):
    while True:
        line = _raw_line(f)
        if not line:
            return
        k, _, v = line.partition(":")
        into[k.strip().lower()] = v.strip()


_raw_conns = __import__("threading").local()


def _raw_connect(u, timeout, fresh):
    """A keep-alive connection per thread and address (thousands of requests would otherwise
    leave thousands of TIME_WAIT sockets whose ports a restarted service may need)."""
    import socket
    key = (u.hostname, u.port or 80)
    pool = getattr(_raw_conns, "pool", None)
    if pool is None:
        pool = _raw_conns.pool = {}
    old = pool.pop(key, None)
    # Reuse only a recently used connection: the gateway closes idle ones.
    if old is not None and not fresh and time.time() - old[2] < 5:
        old[0].settimeout(timeout)
        return old
    if old is not None:
        old[1].close()
        old[0].close()
    s = socket.create_connection(key, timeout=timeout)
    return s, s.makefile("rb"), time.time()


def raw_post(base_url, path, key, body, abort_after_events=None, timeout=60):
    """POSTs JSON (keep-alive, one connection per thread). Headers and trailers come back
    lower-cased. With abort_after_events=N (on a connection of its own), resets the connection
    once N SSE `data:` events have arrived (the client going away mid-stream); the response
    then has aborted=True."""
    import socket
    import struct
    import urllib.parse
    u = urllib.parse.urlsplit(base_url)
    data = json.dumps(body).encode()
    s, f, _ = _raw_connect(u, timeout, fresh=abort_after_events is not None)
    keep = False
    try:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Bearer {key}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nTE: trailers\r\n"
                   "\r\n").encode() + data)
        r = RawResponse()
        r.status = int(_raw_line(f).split()[1])
        _raw_fields(f, r.headers)
        if r.headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(_raw_line(f).split(";")[0], 16)
                if size == 0:
                    _raw_fields(f, r.trailers)
                    break
                body += f.read(size)
                f.read(2)
                if abort_after_events is not None and body.count(b"data:") >= abort_after_events:
                    r.aborted = True
                    # RST rather than FIN: the gateway's next write fails at once.
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
            r.body = bytes(body)
        else:
            r.body = f.read(int(r.headers.get("content-length", "0")))
        keep = not r.aborted and r.headers.get("connection", "").lower() != "close"
        return r
    finally:
        if keep:
            _raw_conns.pool[(u.hostname, u.port or 80)] = (s, f, time.time())
        else:
            f.close()  # the socket's fd closes only once its file objects are closed too
            s.close()


def raw_chat(base_url, key, model, content, stream=False, abort_after_events=None, timeout=60, **extra):
    """chat() over raw_post: streamed answers come back with their HTTP trailers."""
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    if stream:
        body["stream"] = True
        body.setdefault("stream_options", {"include_usage": True})
    return raw_post(base_url, "/v1/chat/completions", key, body, abort_after_events, timeout)


# --- Routing helpers (tests/e2e/test_routing.py, scripts/bench-failover) ---------------------

def fake_port():
    """The fake upstream's port (channels address its instances as /x/<instance>)."""
    from urllib.parse import urlparse
    return urlparse(_env("ROUTEALL_E2E_FAKE_URL")).port


def add_routed_model(admin, fake, channels, prefix="e2e-route"):
    """Creates a fresh model (with a price) served by one new channel per entry of `channels`
    (dicts with optional "priority", "weight", "knobs", and "channel": extra channel fields such
    as {"timeout": "2s", "stream_idle_timeout": "1s"}), each on its own fake instance whose
    knobs are set first. Returns (model, [{"id", "name", "instance"}...]) in the given order."""
    tag = uuid.uuid4().hex[:10]
    model = f"{prefix}-{tag}"
    admin.call("POST", "/admin/prices", {"model": model, "input_per_mtok": 1_000_000,
                                          "output_per_mtok": 2_000_000})
    created = []
    for i, spec in enumerate(channels):
        instance = f"rt{tag}{i}"
        fake.config(instance, spec.get("knobs", {}))
        body = {"name": f"{model}-{i}", "provider": "DIALECT_OPENAI",
                "base_url": f"http://127.0.0.1:{fake_port()}/x/{instance}", "api_key": "fake-upstream-key",
                "models": [{"model": model}], "priority": spec.get("priority", 0),
                "weight": spec.get("weight", 1), "enabled": True, **spec.get("channel", {})}
        ch = admin.call("POST", "/admin/channels", body)["channel"]
        created.append({"id": int(ch["id"]), "name": ch["name"], "instance": instance})
    return model, created


def disable_channels(admin, channels):
    for ch in channels:
        admin.call("POST", f"/admin/channels/{ch['id']}/disable", {})


def channel_health(admin, channel_id):
    """The channel's health as GET /admin/channels shows it."""
    for ch in admin.call("GET", "/admin/channels")["channels"]:
        if int(ch["id"]) == int(channel_id):
            return ch.get("health", {})
    raise AssertionError(f"channel {channel_id} not listed")


def fake_requests(fake, instance):
    return int(fake.stats(instance).get("requests", 0))
