"""End-to-end billing: what a client is told it was charged is what the ledger holds, exactly
once, through crashes of billing, a Kafka outage, client hang-ups and failover.

Money is checked to the micro-credit. Charges are recomputed here with the rule of
common/pricing.h (every kind priced exactly, summed, times the group multiplier, rounded once,
half up) from the seeded prices, which the tests read back from the admin API."""

import json
import os
import random
import signal
import threading
import time
import uuid
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import raw_chat

PRICED = ("gpt-4o-mini", "gpt-4o")
TOPUP = 100_000_000  # 100 credits


# ---------------------------------------------------------------- helpers

def micros(credits):
    """'0.001810' -> 1810, exactly (no floats)."""
    neg = credits.startswith("-")
    whole, _, frac = credits.lstrip("-").partition(".")
    assert len(frac) == 6, f"charge {credits!r} is not a 6-decimal credit amount"
    v = int(whole) * 1_000_000 + int(frac)
    return -v if neg else v


def charge_of(price, prompt, cached, completion, reasoning, cache_write=0, multiplier_ppm=1_000_000):
    """common/pricing.h ComputeChargeMicros, in Python integers."""
    prompt = max(0, prompt)
    cache_read = min(max(cached, 0), prompt)
    cache_write = min(max(cache_write, 0), prompt - cache_read)
    completion = max(0, completion)
    reasoning = min(max(reasoning, 0), completion)
    rrate = price["reasoning"] if price["reasoning"] is not None else price["output"]
    total = ((prompt - cache_read - cache_write) * price["input"] + cache_read * price["cache_read"]
             + cache_write * price["cache_write"] + (completion - reasoning) * price["output"] + reasoning * rrate)
    denom = 10 ** 12
    return (total * max(0, multiplier_ppm) + denom // 2) // denom


@pytest.fixture(scope="module", autouse=True)
def _demo_instance_without_knobs(fake):
    """Starts from a demo fake instance without faults another test may have left."""
    fake.config(os.environ.get("ROUTEALL_E2E_FAKE_INSTANCE", "openai"), {})


@pytest.fixture(scope="module")
def prices(admin):
    out = {}
    for p in admin.call("GET", "/admin/prices")["prices"]:
        if p["model"] in PRICED:
            out[p["model"]] = {
                "input": int(p["input_per_mtok"]), "cache_read": int(p["cache_read_per_mtok"]),
                "cache_write": int(p["cache_write_per_mtok"]), "output": int(p["output_per_mtok"]),
                "reasoning": int(p["reasoning_per_mtok"]) if p.get("reasoning_per_mtok") not in (None, "", "0", 0)
                else None,
                "version": int(p["version"])}
    assert set(out) == set(PRICED), f"prices missing: {out}"
    return out


class Billed:
    """One answered request as the client saw it: request id, usage and charge."""

    def __init__(self, model, r, stream):
        self.model, self.stream, self.status = model, stream, r.status
        self.request_id = r.headers.get("x-request-id", "")
        self.error = None
        if r.status != 200:
            try:
                self.error = r.json()["error"]
            except Exception:  # noqa: BLE001 - keep the raw body for the assertion message
                self.error = {"raw": r.body[:300]}
            return
        f = r.trailers if stream else r.headers
        for name in ("x-routeall-charge-credit", "x-routeall-usage-prompt", "x-routeall-usage-completion",
                     "x-routeall-usage-cached-tokens", "x-routeall-usage-reasoning-tokens"):
            assert name in f, f"{'trailer' if stream else 'header'} {name} missing: {f}"
        self.charge = micros(f["x-routeall-charge-credit"])
        self.prompt = int(f["x-routeall-usage-prompt"])
        self.completion = int(f["x-routeall-usage-completion"])
        self.cached = int(f["x-routeall-usage-cached-tokens"])
        self.reasoning = int(f["x-routeall-usage-reasoning-tokens"])
        # The body's usage must say the same as the headers/trailers.
        if stream:
            data = r.sse_data()
            assert data and data[-1] == "[DONE]", f"stream did not end with [DONE]: {data[-3:]}"
            chunks = [json.loads(d) for d in data[:-1]]
            usage_chunks = [c for c in chunks if c.get("usage")]
            assert len(usage_chunks) == 1 and usage_chunks[0]["choices"] == [], "one final usage chunk expected"
            usage = usage_chunks[0]["usage"]
        else:
            usage = r.json()["usage"]
        assert usage["prompt_tokens"] == self.prompt and usage["completion_tokens"] == self.completion, (usage, f)
        assert (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0) == self.cached, (usage, f)
        assert (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0) == self.reasoning, (usage, f)


def fire(base_url, key, model, content, stream=False, **extra):
    return Billed(model, raw_chat(base_url, key, model, content, stream=stream, **extra), stream)


def ledger_usage(ledger, account_id):
    """{request_id: row} of the account's usage rows; asserts no request id appears twice."""
    rows = ledger.query(
        "SELECT request_id, -amount_micros, prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens,"
        " channel_id, model, price_version, entry_key FROM billing.ledger WHERE kind = 1 AND account_id = "
        f"{int(account_id)} ORDER BY id")
    out = {}
    for r in rows:
        assert r[0] not in out, f"request {r[0]} billed twice"
        assert r[9] == "usage:" + r[0], r
        out[r[0]] = {"charge": int(r[1]), "prompt": int(r[2]), "cached": int(r[3]), "completion": int(r[4]),
                     "reasoning": int(r[5]), "channel_id": int(r[6]), "model": r[7], "price_version": int(r[8])}
    return out


def wait_ledger(ledger, account_id, count, timeout=90):
    deadline = time.time() + timeout
    rows = {}
    while time.time() < deadline:
        rows = ledger_usage(ledger, account_id)
        if len(rows) >= count:
            return rows
        time.sleep(0.3)
    return rows


def barrier(base_url, admin, ledger, model):
    """Waits until billing has consumed every usage event published before this call: the topic
    is ordered, so once a fresh sentinel request is in the ledger, all earlier events are too."""
    acct, key = admin.new_account(TOPUP)
    b = fire(base_url, key, model, "barrier")
    assert b.status == 200, b.error
    assert len(wait_ledger(ledger, acct, 1)) == 1, "the sentinel request never reached the ledger"


def assert_ledger_matches(ledger, admin, account_id, billed, topup=TOPUP, timeout=90):
    """Every successful request is in the ledger exactly once with its header charge and usage;
    nothing else is; the balance is the top-up minus the sum."""
    ok = {b.request_id: b for b in billed if b.status == 200}
    assert len(ok) == len([b for b in billed if b.status == 200]), "duplicate X-Request-Id"
    rows = wait_ledger(ledger, account_id, len(ok), timeout)
    missing = set(ok) - set(rows)
    extra = set(rows) - set(ok)
    assert not missing, f"{len(missing)} successful requests never billed, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{len(extra)} ledger rows for requests that were not answered 200, e.g. {sorted(extra)[:5]}"
    for rid, b in ok.items():
        row = rows[rid]
        seen = (b.charge, b.prompt, b.cached, b.completion, b.reasoning, b.model)
        got = (row["charge"], row["prompt"], row["cached"], row["completion"], row["reasoning"], row["model"])
        assert seen == got, f"request {rid} (stream={b.stream}): client saw {seen}, ledger has {got}"
    total = sum(b.charge for b in ok.values())
    assert sum(r["charge"] for r in rows.values()) == total
    # The balance follows the ledger (give the in-memory book a moment after the last batch).
    deadline = time.time() + 10
    while admin.balance(account_id) != topup - total and time.time() < deadline:
        time.sleep(0.2)
    assert admin.balance(account_id) == topup - total
    return rows, total


class Traffic:
    """Fires requests from a few threads until stopped; keeps every outcome."""

    def __init__(self, base_url, key, threads=4, model="gpt-4o-mini", pause=0.01):
        self.base_url, self.key, self.model, self.pause = base_url, key, model, pause
        self.results, self.errors = [], []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, t):
        i = 0
        while not self._stop.is_set():
            i += 1
            stream = (i + t) % 2 == 0
            try:
                b = fire(self.base_url, self.key, self.model, f"traffic {t}.{i} [[fake completion_tokens={i % 7 + 1}]]",
                         stream=stream, timeout=30)
            except Exception as e:  # noqa: BLE001 - a transport error is a result too
                with self._lock:
                    self.errors.append(repr(e))
                continue
            with self._lock:
                self.results.append(b)
            time.sleep(self.pause)

    def __enter__(self):
        for th in self._threads:
            th.start()
        return self

    def count(self):
        with self._lock:
            return len(self.results)

    def __exit__(self, *exc):
        self._stop.set()
        for th in self._threads:
            th.join(60)


# ---------------------------------------------------------------- 1. header == ledger

def test_headers_equal_ledger_under_mixed_concurrent_load(base_url, admin, ledger, prices):
    n_requests = 2000
    acct, key = admin.new_account(TOPUP)
    rng = random.Random(20261125)
    specs = []
    for i in range(n_requests):
        model = rng.choice(PRICED)
        stream = rng.random() < 0.5
        knobs, extra = {}, {}
        kind = rng.randrange(6)
        if kind == 1:
            p = rng.randrange(50, 3000)
            knobs = {"prompt_tokens": p, "cached_tokens": rng.randrange(0, p + 1)}
        elif kind == 2:
            knobs = {"reasoning_tokens": rng.randrange(1, 500), "completion_tokens": rng.randrange(1, 200)}
        elif kind == 3:
            extra["n"] = 2
        elif kind == 4:
            knobs = {"prompt_tokens": rng.randrange(1, 100000), "completion_tokens": rng.randrange(0, 5000)}
        elif kind == 5:
            knobs = {"words": rng.randrange(1, 40)}
        directive = " [[fake " + " ".join(f"{k}={v}" for k, v in knobs.items()) + "]]" if knobs else ""
        specs.append((model, stream, f"mixed {i}{directive}", extra, knobs))

    def one(spec):
        model, stream, content, extra, knobs = spec
        b = fire(base_url, key, model, content, stream=stream, **extra)
        b.knobs, b.extra = knobs, extra
        return b

    t0 = time.time()
    with ThreadPoolExecutor(16) as pool:
        billed = list(pool.map(one, specs))
    served = time.time() - t0
    bad = [(b.status, b.error) for b in billed if b.status != 200]
    assert not bad, f"{len(bad)} requests failed, e.g. {bad[:3]}"
    for b in billed:
        # The header is the pricing rule applied to the reported usage, to the micro-credit.
        assert b.charge == charge_of(prices[b.model], b.prompt, b.cached, b.completion, b.reasoning), vars(b)
        # And the usage is the upstream's (the knobs), not something the gateway made up.
        if "prompt_tokens" in b.knobs:
            assert b.prompt == b.knobs["prompt_tokens"], vars(b)
        if "cached_tokens" in b.knobs:
            assert b.cached == b.knobs["cached_tokens"], vars(b)
        if "reasoning_tokens" in b.knobs:
            assert b.reasoning == b.knobs["reasoning_tokens"]
            assert b.completion == b.knobs["completion_tokens"] + b.reasoning, vars(b)
        if "words" in b.knobs:
            assert b.completion == b.knobs["words"], vars(b)
        if b.extra.get("n") == 2:
            assert b.completion > 0 and b.completion % 2 == 0, vars(b)
    rows, total = assert_ledger_matches(ledger, admin, acct, billed)
    assert total > 0
    prices_v = {m: p["version"] for m, p in prices.items()}
    assert all(r["price_version"] == prices_v[r["model"]] for r in rows.values())
    print(f"\n[billing] {n_requests} requests ({sum(b.stream for b in billed)} streamed) in {served:.1f} s;"
          f" header sum = ledger sum = {total} micro-credits")


# ---------------------------------------------------------------- 2. cache reads

@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_cached_tokens_bill_at_cache_read_rate(base_url, admin, ledger, prices, stream):
    p = prices["gpt-4o"]
    assert (p["input"], p["cache_read"], p["output"]) == (2500000, 1250000, 10000000), "seeded gpt-4o price changed"
    acct, key = admin.new_account(TOPUP)
    b = fire(base_url, key, "gpt-4o", "cache me [[fake prompt_tokens=972 cached_tokens=896 completion_tokens=50]]",
             stream=stream)
    assert b.status == 200, b.error
    assert (b.prompt, b.cached, b.completion, b.reasoning) == (972, 896, 50, 0)
    # 76 x 2.5 + 896 x 1.25 + 50 x 10 = 190 + 1120 + 500 micro-credits.
    assert b.charge == 1810
    assert b.charge != 972 * 25 // 10 + 500  # never the full input rate (2930)
    rows, _ = assert_ledger_matches(ledger, admin, acct, [b])
    assert rows[b.request_id]["cached"] == 896
    # Free-form reply length (no completion knob): still exact.
    b2 = fire(base_url, key, "gpt-4o", "again [[fake prompt_tokens=972 cached_tokens=896]]", stream=stream)
    assert b2.status == 200 and b2.completion > 0
    assert b2.charge == 190 + 1120 + 10 * b2.completion
    assert_ledger_matches(ledger, admin, acct, [b, b2])


# ---------------------------------------------------------------- 3. 402 before any upstream call

@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_insufficient_balance_is_402_before_upstream(base_url, admin, ledger, fake, model, stream):
    instance = os.environ.get("ROUTEALL_E2E_FAKE_INSTANCE", "openai")
    for credit in (1, 0):
        acct, key = admin.new_account(credit)
        before = fake.stats(instance).get("requests", 0)
        r = raw_chat(base_url, key, model, "too poor", stream=stream)
        assert r.status == 402, (r.status, r.body)
        err = r.json()["error"]
        assert err["code"] == "insufficient_balance" and err["type"] == "insufficient_balance", err
        assert "message" in err and "param" in err, err
        assert r.headers.get("x-request-id")
        assert "x-routeall-charge-credit" not in r.headers
        assert fake.stats(instance).get("requests", 0) == before, "the upstream was called for a 402"
        barrier(base_url, admin, ledger, model)
        assert ledger_usage(ledger, acct) == {}
        assert admin.balance(acct) == credit


# ---------------------------------------------------------------- 4. stream cut by the client

def test_client_abort_bills_what_was_produced(base_url, admin, ledger, prices, model):
    acct, key = admin.new_account(TOPUP)
    # The whole 400-word reply as the gateway's tokenizer counts it (no upstream usage).
    full = fire(base_url, key, model, "long [[fake words=400 omit_usage=1]]")
    assert full.status == 200 and full.completion >= 400
    r = raw_chat(base_url, key, model, "long [[fake words=400 chunk_delay_ms=5]]", stream=True, abort_after_events=6)
    assert r.aborted and r.status == 200
    rid = r.headers["x-request-id"]
    rows = wait_ledger(ledger, acct, 2)
    assert set(rows) == {full.request_id, rid}, rows
    row = rows[rid]
    assert 0 < row["completion"] < full.completion, (row, full.completion)
    assert row["prompt"] > 0
    assert row["charge"] == charge_of(prices[model], row["prompt"], row["cached"], row["completion"], row["reasoning"])
    assert row["charge"] > 0
    time.sleep(2)  # nothing more may arrive for the aborted request
    assert len(ledger_usage(ledger, acct)) == 2
    assert admin.balance(acct) == TOPUP - full.charge - row["charge"]


# ---------------------------------------------------------------- 5. billing restarted / killed

def test_billing_restart_and_kill_under_traffic_loses_and_duplicates_nothing(base_url, admin, ledger, stack):
    acct, key = admin.new_account(TOPUP)
    pidfile = os.path.join(os.environ["ROUTEALL_E2E_STACK_DIR"], "pids", "billing.pid")
    phases = {}
    with Traffic(base_url, key) as t:
        time.sleep(2)
        t0 = time.time()
        stack.restart("billing")  # SIGTERM: drains, finishes its batch, commits
        phases["graceful restart"] = time.time() - t0
        time.sleep(2)
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)  # no goodbye: offsets may be uncommitted
        time.sleep(1.5)
        t0 = time.time()
        stack.start("billing")
        phases["start after kill"] = time.time() - t0
        back = t.count()
        time.sleep(3)
    t0 = time.time()
    assert not t.errors, t.errors[:3]
    ok = [b for b in t.results if b.status == 200]
    refused = [b for b in t.results if b.status != 200]
    assert all(b.status == 503 and b.error.get("code") == "billing_unavailable" for b in refused), \
        {(b.status, json.dumps(b.error)) for b in refused}
    assert len(ok) > 50, len(ok)
    assert any(b.status == 200 for b in t.results[back:]), "nothing succeeded after billing came back"
    assert refused, "no request arrived while billing was down: the test did not test the outage"
    _, total = assert_ledger_matches(ledger, admin, acct, t.results, timeout=120)
    phases["ledger caught up"] = time.time() - t0
    print(f"\n[billing] restart+kill: {len(ok)} billed ({total} micro-credits), {len(refused)} refused with 503;"
          + ", ".join(f" {k} {v:.1f} s" for k, v in phases.items()))


# ---------------------------------------------------------------- 6. Kafka outage

def _spool_bytes():
    d = os.path.join(os.environ["ROUTEALL_E2E_STACK_DIR"], "spool")
    if not os.path.isdir(d):
        return 0
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def test_kafka_outage_spools_and_replays_exactly_once(base_url, admin, ledger, stack, model):
    acct, key = admin.new_account(TOPUP)
    peak, spooled_at, outage = 0, 0.0, 0.0
    try:
        with Traffic(base_url, key, threads=3) as t:
            time.sleep(1.5)
            stack.stop_kafka()
            down_at = time.time()
            # Undelivered events must reach the spool once the producer gives up on them (its
            # message timeout is 5 s; librdkafka takes ~13 s here). Serve a few seconds more.
            while time.time() < down_at + 45 and (peak == 0 or time.time() < spooled_at + 3):
                peak = max(peak, _spool_bytes())
                if peak and not spooled_at:
                    spooled_at = time.time()
                time.sleep(0.2)
            outage = time.time() - down_at
            during = [b for b in t.results]
        assert not t.errors, t.errors[:3]
        failed = [(b.status, b.error) for b in t.results if b.status != 200]
        assert not failed, f"requests failed while Kafka was down: {failed[:3]}"
        assert len(during) > 20
        assert peak > 0, "usage events were neither delivered nor spooled while Kafka was down"
    finally:
        stack.start_kafka()
    # The replayer backs off up to 30 s while the broker is down, and billing's consumer reconnects.
    _, total = assert_ledger_matches(ledger, admin, acct, t.results, timeout=150)
    deadline = time.time() + 45
    while _spool_bytes() > 0 and time.time() < deadline:
        time.sleep(0.5)
    assert _spool_bytes() == 0, "spool not drained after Kafka came back"
    # And the pipeline works normally again.
    after = fire(base_url, key, model, "after the outage")
    assert after.status == 200
    assert_ledger_matches(ledger, admin, acct, t.results + [after], timeout=60)
    print(f"\n[billing] Kafka outage: {len(t.results)} requests served, {outage:.0f} s without Kafka"
          f" (spooled after {spooled_at - down_at:.0f} s), spool peaked at {peak} bytes, ledger sum {total}")


# ---------------------------------------------------------------- 7. no upstream usage

@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_missing_upstream_usage_is_counted_not_free(base_url, admin, ledger, prices, model, stream):
    acct, key = admin.new_account(TOPUP)
    b = fire(base_url, key, model, "count me please [[fake omit_usage=1 words=20]]", stream=stream)
    assert b.status == 200, b.error
    assert b.prompt > 0 and b.completion >= 20, vars(b)
    assert b.charge == charge_of(prices[model], b.prompt, b.cached, b.completion, b.reasoning) > 0
    assert_ledger_matches(ledger, admin, acct, [b])


# ---------------------------------------------------------------- 8. usage API

def test_usage_api_shows_own_records_and_consistent_buckets(base_url, admin, ledger):
    acct, key = admin.new_account(TOPUP)
    other, other_key = admin.new_account(TOPUP)
    mine = [fire(base_url, key, m, f"usage {i} [[fake cached_tokens=3 reasoning_tokens=2 completion_tokens=9]]",
                 stream=i % 2 == 1) for i, m in enumerate(PRICED * 3)]
    theirs = [fire(base_url, other_key, "gpt-4o", f"other {i}") for i in range(3)]
    assert all(b.status == 200 for b in mine + theirs)
    assert_ledger_matches(ledger, admin, acct, mine)
    assert_ledger_matches(ledger, admin, other, theirs)

    r = requests.get(f"{base_url}/v1/usage", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 200, r.text
    u = r.json()
    records = u["records"]
    by_id = {x["requestId"]: x for x in records}
    assert set(by_id) == {b.request_id for b in mine}, "records must be exactly this key's account's requests"
    for b in mine:
        x = by_id[b.request_id]
        assert (int(x["promptTokens"]), int(x["cachedTokens"]), int(x["completionTokens"]),
                int(x["reasoningTokens"]), x["model"]) == (b.prompt, b.cached, b.completion, b.reasoning, b.model)
        assert micros(x["charge"]) == int(x["chargeMicros"]) == b.charge, x
    times = [datetime.fromisoformat(x["occurredAt"]) for x in records]
    assert times == sorted(times, reverse=True), "records are newest first"
    buckets = u["buckets"]
    assert {(bk["model"]) for bk in buckets} == set(PRICED)
    for field in ("requests", "promptTokens", "cachedTokens", "completionTokens", "reasoningTokens", "chargeMicros"):
        got = sum(int(bk[field]) for bk in buckets)
        want = len(records) if field == "requests" else sum(int(x[field]) for x in records)
        assert got == want, (field, got, want)
    for bk in buckets:
        assert micros(bk["charge"]) == int(bk["chargeMicros"])
        assert len(bk["day"]) == 10 and bk["day"] in {x["occurredAt"][:10] for x in records}
        in_bucket = [x for x in records if x["model"] == bk["model"] and x["occurredAt"][:10] == bk["day"]]
        assert int(bk["requests"]) == len(in_bucket)
        assert int(bk["chargeMicros"]) == sum(int(x["chargeMicros"]) for x in in_bucket)
    # limit and a range that excludes everything.
    r = requests.get(f"{base_url}/v1/usage?limit=2", headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert len(r["records"]) == 2 and sum(int(bk["requests"]) for bk in r["buckets"]) == len(mine)
    r = requests.get(f"{base_url}/v1/usage?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z",
                     headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert r.get("records", []) == [] and r.get("buckets", []) == []
    # The other account sees only its own.
    r = requests.get(f"{base_url}/v1/usage", headers={"Authorization": f"Bearer {other_key}"}, timeout=30).json()
    assert {x["requestId"] for x in r["records"]} == {b.request_id for b in theirs}
    assert requests.get(f"{base_url}/v1/usage", timeout=30).status_code == 401


# ---------------------------------------------------------------- 9. failover

@pytest.fixture
def failover_channels(admin, fake, prices):
    """A private model served by two channels on two fake instances: `first` (higher priority)
    and `second`. Disabled again afterwards so no other test routes to them."""
    tag = uuid.uuid4().hex[:8]
    model = f"e2e-failover-{tag}"
    p = prices["gpt-4o-mini"]
    admin.call("POST", "/admin/prices", {"model": model, "input_per_mtok": p["input"],
                                         "cache_read_per_mtok": p["cache_read"],
                                         "cache_write_per_mtok": p["cache_write"], "output_per_mtok": p["output"]})
    fake_url = os.environ["ROUTEALL_E2E_FAKE_URL"]
    chans = {}
    for name, prio in (("first", 10), ("second", 5)):
        inst = f"fo-{name}-{tag}"
        c = admin.call("POST", "/admin/channels", {
            "name": f"e2e-fo-{name}-{tag}", "provider": "DIALECT_OPENAI", "base_url": f"{fake_url}/x/{inst}",
            "api_key": "fake-upstream-key", "models": [{"model": model, "upstream_model": "gpt-4o-mini"}],
            "priority": prio, "weight": 1, "enabled": True})
        chans[name] = (int(c["channel"]["id"]), inst)
    yield model, chans, p
    for cid, _ in chans.values():
        admin.call("POST", f"/admin/channels/{cid}/disable")


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
def test_failover_bills_once_on_the_answering_channel(base_url, admin, ledger, fake, failover_channels, stream):
    model, chans, price = failover_channels
    (first_id, first), (second_id, second) = chans["first"], chans["second"]
    acct, key = admin.new_account(TOPUP)
    fake.config(first, {"fail_first_n": 1, "status": 500})
    b = fire(base_url, key, model, "fail over [[fake completion_tokens=11]]", stream=stream)
    assert b.status == 200, b.error
    assert fake.stats(first)["requests"] == 1 and fake.stats(second)["requests"] == 1
    assert b.completion == 11 and b.charge == charge_of(price, b.prompt, 0, 11, 0)
    rows, _ = assert_ledger_matches(ledger, admin, acct, [b])
    assert rows[b.request_id]["channel_id"] == second_id
    # The first channel has recovered (fail_first_n=1): the next request is billed to it, once.
    b2 = fire(base_url, key, model, "no failover", stream=stream)
    assert b2.status == 200
    rows, _ = assert_ledger_matches(ledger, admin, acct, [b, b2])
    assert rows[b2.request_id]["channel_id"] == first_id
    # Every channel failing: 503, nothing billed.
    fake.config(first, {"status": 500})
    fake.config(second, {"status": 503})
    b3 = fire(base_url, key, model, "all fail", stream=stream)
    fake.config(first, {})
    fake.config(second, {})
    assert b3.status == 503 and b3.error["code"] == "no_available_channel", b3.error
    barrier(base_url, admin, ledger, "gpt-4o-mini")
    assert_ledger_matches(ledger, admin, acct, [b, b2, b3])
