"""End-to-end usage durability: a gateway killed with SIGKILL while Kafka is down loses no usage.

Every usage event is written to the gateway's local spool (a write-ahead log) before the Kafka
producer sees it, so an answered request is billed even when the process dies with the event
still in librdkafka's memory (5-13 s of traffic when the broker is down). The ledger is
idempotent on request_id, so replaying a segment that was partly delivered is harmless."""

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from test_billing import TOPUP, Traffic, assert_ledger_matches, fire, wait_ledger

N = 40


def _stack_dir():
    return os.environ["ROUTEALL_E2E_STACK_DIR"]


def _spool_bytes():
    d = os.path.join(_stack_dir(), "spool")
    if not os.path.isdir(d):
        return 0
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def _gateway_metric(name):
    text = requests.get(os.environ["ROUTEALL_E2E_GATEWAY_METRICS_URL"], timeout=10).text
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert m, f"metric {name} not exported"
    return float(m.group(1))


def _sigkill_gateway():
    with open(os.path.join(_stack_dir(), "pids", "gateway.pid")) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"gateway {pid} still alive after SIGKILL")


def test_sigkill_with_kafka_down_loses_no_answered_usage(base_url, admin, ledger, stack, model):
    acct, key = admin.new_account(TOPUP)
    results = []
    try:
        stack.stop_kafka()
        down_at = time.time()
        # Half streamed, half unary; all answered while the broker is gone.
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(
                lambda i: fire(base_url, key, model, f"durable {i} [[fake completion_tokens={i % 5 + 1}]]",
                               stream=i % 2 == 0),
                range(N)))
        answered_in = time.time() - down_at
        failed = [(b.status, b.error) for b in results if b.status != 200]
        assert not failed, f"requests failed while Kafka was down: {failed[:3]}"
        assert sum(b.stream for b in results) == N // 2
        # Written ahead: on disk already, not only in the producer's memory.
        assert _spool_bytes() > 0, "answered usage is not in the spool"
        _sigkill_gateway()  # no drain, no flush: whatever only lived in memory is gone
        killed_after = time.time() - down_at
        stack.start("gateway")  # replays the dead process's segments (into a broker still down)
    finally:
        stack.start_kafka()
    assert len(results) == N
    _, total = assert_ledger_matches(ledger, admin, acct, results, timeout=150)
    assert _gateway_metric("routeall_gateway_usage_events_lost_total") == 0
    # Once everything is acknowledged the spool empties (segments rotate every 2 s).
    deadline = time.time() + 30
    while _spool_bytes() > 0 and time.time() < deadline:
        time.sleep(0.5)
    assert _spool_bytes() == 0, "spool not drained after the replay was acknowledged"
    print(f"\n[usage] {N} requests answered in {answered_in:.1f} s with Kafka down, gateway SIGKILLed"
          f" {killed_after:.1f} s after the outage began; all {N} billed once ({total} micro-credits)")


def test_sigkill_under_traffic_with_kafka_up_loses_no_answered_usage(base_url, admin, ledger, stack):
    acct, key = admin.new_account(TOPUP)
    with Traffic(base_url, key, threads=4, pause=0) as t:
        time.sleep(2)
        _sigkill_gateway()  # mid-traffic: some events were produced milliseconds ago, not yet acked
        at_kill = t.count()
        stack.start("gateway")
        time.sleep(1.5)
    ok = {b.request_id: b for b in t.results if b.status == 200}
    refused = [(b.status, b.error) for b in t.results if b.status != 200]
    assert not refused, refused[:3]
    assert at_kill > 50 and len(ok) > at_kill, (at_kill, len(ok))
    rows = wait_ledger(ledger, acct, len(ok), timeout=120)  # asserts no request id billed twice
    missing = set(ok) - set(rows)
    assert not missing, f"{len(missing)} answered requests never billed, e.g. {sorted(missing)[:5]}"
    for rid, b in ok.items():
        assert rows[rid]["charge"] == b.charge, (rid, rows[rid], b.charge)
    # A request cut by the kill after its usage was written is billed for what was produced,
    # though its client saw a broken connection: at most one per connection open at the kill.
    extra = set(rows) - set(ok)
    cut = [e for e in t.errors if "ConnectionRefused" not in e]  # the others found no gateway
    assert len(extra) <= len(cut), (len(extra), cut[:3])
    assert _gateway_metric("routeall_gateway_usage_events_lost_total") == 0
    print(f"\n[usage] SIGKILL under traffic with Kafka up: {len(ok)} answered (at the kill {at_kill}), all billed"
          f" once; {len(cut)} cut by the kill, {len(extra)} of them billed")
