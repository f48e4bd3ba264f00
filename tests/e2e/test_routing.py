"""Routing and failover against the running stack: weights, silent failover (unary and
streaming), the circuit breaker opening and closing, no retry on client errors, no double billing.

Every test makes its own model, price, funded account and channels on its own fake instances,
so tests never see each other's traffic or circuits."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import add_routed_model, channel_health, chat, disable_channels, fake_requests

FAIL_500 = {"status": 500}


@pytest.fixture
def account(admin):
    return admin.new_account(50_000_000)  # (account_id, key)


@pytest.fixture
def routed(admin, fake):
    """Factory: routed(channel specs) -> (model, channels); channels are disabled afterwards."""
    made = []

    def make(specs):
        model, channels = add_routed_model(admin, fake, specs)
        made.extend(channels)
        return model, channels

    yield make
    disable_channels(admin, made)


def settle_reports():
    # Outcome reports are fire-and-forget from the gateway: give them a moment to land.
    time.sleep(0.3)


def test_weights_split_traffic_three_to_one(base_url, fake, account, routed):
    _, key = account
    model, (heavy, light) = routed([{"weight": 3}, {"weight": 1}])
    n = 400

    def one(i):
        return chat(base_url, key, model, f"weights {i}", max_tokens=3).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(n)))
    assert codes == [200] * n
    a, b = fake_requests(fake, heavy["instance"]), fake_requests(fake, light["instance"])
    assert a + b == n  # no failover happened, so every request hit exactly one channel
    assert abs(a / n - 0.75) <= 0.08, (a, b)


@pytest.mark.parametrize("knobs", [FAIL_500, {"reset": 1}], ids=["http500", "connection_reset"])
def test_failing_top_channel_is_skipped_silently(base_url, fake, ledger, account, routed, knobs):
    account_id, key = account
    model, (top, backup) = routed([{"priority": 10, "knobs": knobs}, {"priority": 0}])
    r = chat(base_url, key, model, "hello failover")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == model
    assert body["choices"][0]["message"]["content"].startswith("Hello from fake openai model")
    assert "error" not in body
    # A reset on a reused pooled connection looks stale, so the adapter's HTTP client resends
    # once on a fresh connection before reporting the failure: one gateway attempt either way.
    assert fake_requests(fake, top["instance"]) in ((1,) if "status" in knobs else (1, 2))
    assert fake_requests(fake, backup["instance"]) == 1
    rows = ledger.wait_for_rows(account_id, 1)
    time.sleep(1)  # a second row would be a double charge: give it the chance to appear
    assert len(ledger.usage_rows(account_id)) == 1, rows


def test_circuit_opens_then_closes_when_healed(base_url, admin, fake, account, routed):
    _, key = account
    model, (top, backup) = routed([{"priority": 10, "knobs": FAIL_500}, {"priority": 0}])
    for i in range(3):  # the default threshold: 3 consecutive failures
        assert chat(base_url, key, model, f"trip {i}").status_code == 200
    settle_reports()
    assert fake_requests(fake, top["instance"]) == 3
    health = channel_health(admin, top["id"])
    assert health["state"] == "CIRCUIT_STATE_OPEN", health
    assert health["consecutive_failures"] == 3
    assert "500" in health["last_error"]
    assert health["opened_at"] and health["retry_at"]

    # Open: the failing channel gets nothing more, clients still get clean answers.
    for i in range(5):
        assert chat(base_url, key, model, f"open {i}").status_code == 200
    assert fake_requests(fake, top["instance"]) == 3
    assert fake_requests(fake, backup["instance"]) == 8

    # Healed: after the cooldown one probe request goes through, succeeds and closes the circuit.
    fake.config(top["instance"], {})
    deadline = time.time() + 60
    while fake_requests(fake, top["instance"]) == 3:
        assert time.time() < deadline, "the circuit never let a probe through"
        assert chat(base_url, key, model, "probe?").status_code == 200
        time.sleep(0.5)
    settle_reports()
    health = channel_health(admin, top["id"])
    assert health["state"] == "CIRCUIT_STATE_CLOSED", health
    assert "opened_at" not in health
    assert "latency" in health
    before = fake_requests(fake, backup["instance"])
    for i in range(3):
        assert chat(base_url, key, model, f"closed {i}").status_code == 200
    assert fake_requests(fake, top["instance"]) == 7
    assert fake_requests(fake, backup["instance"]) == before


def test_client_error_is_not_retried_and_not_held_against_the_channel(base_url, admin, fake, account, routed):
    _, key = account
    model, (top, backup) = routed([{"priority": 10, "knobs": {"status": 400}}, {"priority": 0}])
    for _ in range(4):
        r = chat(base_url, key, model, "bad request")
        assert r.status_code == 400, r.text
    assert fake_requests(fake, top["instance"]) == 4  # +1 per request: never retried
    assert fake_requests(fake, backup["instance"]) == 0
    settle_reports()
    health = channel_health(admin, top["id"])
    assert health["state"] == "CIRCUIT_STATE_CLOSED", health
    assert health["consecutive_failures"] == 0
    assert health["window_requests"] == 0


def test_streaming_fails_over_before_the_first_byte(base_url, fake, ledger, account, routed):
    account_id, key = account
    model, (top, backup) = routed([{"priority": 10, "knobs": {"status": 503}}, {"priority": 0}])
    r = chat(base_url, key, model, "stream me please", stream=True)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    events, text = [], ""
    for line in r.iter_lines(decode_unicode=True):
        if not line:
            continue
        assert line.startswith("data: "), line
        payload = line[len("data: "):]
        events.append(payload)
        if payload == "[DONE]":
            continue
        chunk = json.loads(payload)
        assert "error" not in chunk, chunk
        for choice in chunk.get("choices", []):
            text += choice.get("delta", {}).get("content") or ""
    assert events[-1] == "[DONE]"
    assert text.startswith("Hello from fake openai model")
    assert fake_requests(fake, top["instance"]) == 1
    assert fake_requests(fake, backup["instance"]) == 1
    ledger.wait_for_rows(account_id, 1)
    time.sleep(1)
    assert len(ledger.usage_rows(account_id)) == 1


def test_failover_never_double_bills(base_url, admin, fake, ledger, account, routed):
    account_id, key = account
    start = admin.balance(account_id)
    # fail_first_n keeps the top channel failing for a while without opening the circuit early
    # for every request: the first requests fail over, later ones may be served by either.
    model, (top, backup) = routed([{"priority": 10, "knobs": {"fail_first_n": 2, "status": 502}},
                                   {"priority": 0}])
    ids = []
    for i in range(6):
        r = chat(base_url, key, model, f"bill me once {i}", stream=(i % 2 == 1))
        assert r.status_code == 200
        if i % 2 == 1:
            for _ in r.iter_lines():
                pass
        ids.append(r.headers["X-Request-Id"])
    assert fake_requests(fake, top["instance"]) + fake_requests(fake, backup["instance"]) == 6 + 2
    rows = ledger.wait_for_rows(account_id, 6)
    time.sleep(1)
    rows = ledger.usage_rows(account_id)
    assert len(rows) == 6, rows
    assert sorted(row[0] for row in rows) == sorted(ids)
    charged = -sum(int(row[1]) for row in rows)  # usage rows are debits (negative amounts)
    assert charged > 0
    deadline = time.time() + 10
    while admin.balance(account_id) != start - charged and time.time() < deadline:
        time.sleep(0.2)
    assert admin.balance(account_id) == start - charged
