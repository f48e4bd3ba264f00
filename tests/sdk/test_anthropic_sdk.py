"""Conformance of RouteAll's Anthropic Messages API with the official `anthropic` Python SDK.

The client only changes base_url and api_key. Every test taking `upstream` runs once per upstream
dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM): an Anthropic client must reach OpenAI, Anthropic and
Gemini providers alike. The fake upstream's replies and usage are deterministic, so the expected
values are exact (tools/fake_upstream/README.md, docs/dialect-mapping.md): Anthropic
usage.input_tokens EXCLUDES cache reads and writes, output_tokens includes thinking.
"""

from __future__ import annotations

import json

import anthropic
import pytest

from conftest import make_anthropic_client
from sdk_helpers import echo_of, marker, words

SYSTEM = "You are a terse assistant."
MAX_TOKENS = 256

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "City name"}},
        "required": ["location"],
    },
}

# The raw event types of an Anthropic stream (the SDK's MessageStream adds derived events such as
# "text" and "input_json", which are not on the wire).
RAW_EVENTS = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}


def prompt_tokens(user_text: str, system: str | None = SYSTEM) -> int:
    """The fake's prompt count P: the system prompt counts as one message (words + 3)."""
    return words(user_text) + 3 + (words(system) + 3 if system else 0)


def full_input(u) -> int:
    """All input tokens: Anthropic input_tokens excludes cache reads and writes."""
    return u.input_tokens + (u.cache_read_input_tokens or 0) + (u.cache_creation_input_tokens or 0)


def text_of(message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


def error_envelope(exc: anthropic.APIStatusError) -> dict:
    """The Anthropic error envelope {"type":"error","error":{"type","message"}} of a failed response."""
    try:
        body = exc.response.json()
    except ValueError:
        pytest.fail(f"HTTP {exc.status_code} error body is not JSON: {exc.response.text[:300]!r}")
    assert isinstance(body, dict) and body.get("type") == "error" and isinstance(body.get("error"), dict), (
        f"error body is not an Anthropic envelope: {body!r}"
    )
    err = body["error"]
    assert isinstance(err.get("type"), str) and err["type"], f"error.type missing: {body!r}"
    assert isinstance(err.get("message"), str) and err["message"], f"error.message missing: {body!r}"
    return err


def raw_events(stream) -> list:
    return [e for e in stream if e.type in RAW_EVENTS]


def assert_event_sequence(events, block_types: list[str]):
    """message_start, then per block start/delta.../stop, then message_delta, message_stop."""
    types = [e.type for e in events]
    assert types[0] == "message_start", types
    assert types[-2:] == ["message_delta", "message_stop"], types
    body = types[1:-2]
    seen_blocks = []
    i = 0
    while i < len(body):
        assert body[i] == "content_block_start", f"expected content_block_start at {i + 1}: {types}"
        index = events[1 + i].index
        seen_blocks.append(events[1 + i].content_block.type)
        i += 1
        n_deltas = 0
        while i < len(body) and body[i] == "content_block_delta":
            assert events[1 + i].index == index, "delta for a block that is not open"
            i += 1
            n_deltas += 1
        assert n_deltas >= 1, f"block {index} has no delta: {types}"
        assert i < len(body) and body[i] == "content_block_stop", f"block {index} not stopped: {types}"
        assert events[1 + i].index == index
        i += 1
    assert seen_blocks == block_types, f"content blocks {seen_blocks}, expected {block_types}"
    assert [e.index for e in events if e.type == "content_block_start"] == list(range(len(block_types)))


# --- plain call ---------------------------------------------------------------------------------


def test_plain_message(anthropic_client, upstream_model):
    user = f"Say hello to the conformance suite {marker()}"
    msg = anthropic_client.messages.create(
        model=upstream_model,
        max_tokens=MAX_TOKENS,
        system=SYSTEM,
        messages=[{"role": "user", "content": user}],
    )
    assert msg.type == "message"
    assert msg.role == "assistant"
    assert msg.id
    assert msg.model == upstream_model, "response model must be the model the client asked for"
    assert [b.type for b in msg.content] == ["text"]
    assert echo_of(user) in msg.content[0].text
    assert msg.stop_reason == "end_turn"
    assert msg.stop_sequence is None

    u = msg.usage
    assert full_input(u) == prompt_tokens(user)
    assert (u.cache_read_input_tokens or 0) == 0 and (u.cache_creation_input_tokens or 0) == 0
    assert u.output_tokens == words(msg.content[0].text)


def test_plain_message_with_bearer_auth(e2e, upstream_model):
    """Anthropic's SDK can authenticate with auth_token (Authorization: Bearer) instead of x-api-key."""
    c = anthropic.Anthropic(base_url=e2e.base_url, auth_token=e2e.api_key, max_retries=0, timeout=30)
    try:
        user = f"Bearer hello {marker()}"
        msg = c.messages.create(model=upstream_model, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": user}])
        assert echo_of(user) in text_of(msg)
    finally:
        c.close()


# --- streaming ----------------------------------------------------------------------------------


def test_stream_events_and_text_match_non_stream(anthropic_client, upstream_model):
    user = f"Stream this sentence back please {marker()}"
    kwargs = dict(
        model=upstream_model,
        max_tokens=MAX_TOKENS,
        system=SYSTEM,
        messages=[{"role": "user", "content": user}],
    )
    plain = anthropic_client.messages.create(**kwargs)
    with anthropic_client.messages.stream(**kwargs) as stream:
        events = raw_events(stream)
        final = stream.get_final_message()

    assert_event_sequence(events, ["text"])
    start = events[0].message
    assert start.role == "assistant" and start.id
    assert start.model == upstream_model
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert all(d.type == "text_delta" for d in deltas)
    streamed = "".join(d.text for d in deltas)
    assert streamed == text_of(plain)
    assert echo_of(user) in streamed

    md = events[-2]
    assert md.delta.stop_reason == "end_turn"
    assert md.usage.output_tokens == plain.usage.output_tokens

    assert text_of(final) == text_of(plain)
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert full_input(final.usage) == full_input(plain.usage) == prompt_tokens(user)


# --- tools --------------------------------------------------------------------------------------


def test_tool_use_round_trip(anthropic_client, upstream_model):
    messages = [{"role": "user", "content": f"What is the weather like? {marker()}"}]
    resp = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL]
    )
    assert resp.stop_reason == "tool_use"
    uses = [b for b in resp.content if b.type == "tool_use"]
    assert len(uses) == 1, resp.content
    use = uses[0]
    assert use.id and use.name == "get_weather"
    assert use.input == {"location": "test"}
    assert resp.usage.output_tokens >= 1

    tool_result = "Sunny and 22 degrees in test"
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in resp.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": tool_result}]},
    ]
    final = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL]
    )
    assert final.stop_reason == "end_turn"
    assert [b.type for b in final.content] == ["text"]
    assert tool_result in final.content[0].text


def test_tool_use_stream_input_json_delta(anthropic_client, upstream_model):
    messages = [{"role": "user", "content": f"Weather please {marker()}"}]
    with anthropic_client.messages.stream(
        model=upstream_model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL]
    ) as stream:
        events = raw_events(stream)
        final = stream.get_final_message()

    block_types = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert block_types == ["tool_use"], block_types
    assert_event_sequence(events, ["tool_use"])
    start = next(e for e in events if e.type == "content_block_start").content_block
    assert start.id and start.name == "get_weather"
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert all(d.type == "input_json_delta" for d in deltas), [d.type for d in deltas]
    assert json.loads("".join(d.partial_json for d in deltas)) == {"location": "test"}
    assert events[-2].delta.stop_reason == "tool_use"

    assert final.stop_reason == "tool_use"
    uses = [b for b in final.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].input == {"location": "test"} and uses[0].id == start.id


# --- cache and reasoning usage ------------------------------------------------------------------


def test_usage_cache_read_excluded_from_input_tokens(anthropic_client, upstream_model):
    user = f"Cached prompt {marker()} [[fake prompt_tokens=972 cached_tokens=896]]"
    msg = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, system=SYSTEM, messages=[{"role": "user", "content": user}]
    )
    u = msg.usage
    assert u.input_tokens == 972 - 896
    assert u.cache_read_input_tokens == 896
    assert (u.cache_creation_input_tokens or 0) == 0
    assert u.output_tokens == words(text_of(msg))


def test_usage_cache_read_stream(anthropic_client, upstream_model):
    user = f"Cached prompt {marker()} [[fake prompt_tokens=972 cached_tokens=896]]"
    with anthropic_client.messages.stream(
        model=upstream_model, max_tokens=MAX_TOKENS, system=SYSTEM, messages=[{"role": "user", "content": user}]
    ) as stream:
        final = stream.get_final_message()
    u = final.usage
    assert (u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens or 0) == (76, 896, 0)
    assert u.output_tokens == words(text_of(final))


def test_usage_cache_write_from_anthropic_upstream(e2e, anthropic_client):
    # Only an Anthropic upstream reports cache writes (the other dialects have no such figure).
    upstream_model = e2e.models_by_upstream.get("anthropic")
    if upstream_model is None:
        pytest.skip("ROUTEALL_E2E_MODELS_BY_UPSTREAM has no anthropic upstream")
    user = f"Cache write {marker()} [[fake prompt_tokens=972 cached_tokens=896 cache_write_tokens=50]]"
    msg = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": user}]
    )
    u = msg.usage
    assert (u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens) == (26, 896, 50)


def test_usage_reasoning_counts_as_output(anthropic_client, upstream_model):
    user = f"Think first {marker()} [[fake reasoning_tokens=12]]"
    msg = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, system=SYSTEM, messages=[{"role": "user", "content": user}]
    )
    text = text_of(msg)
    assert echo_of(user) in text
    assert msg.usage.output_tokens == words(text) + 12, "output_tokens includes the reasoning tokens"
    assert full_input(msg.usage) == prompt_tokens(user)
    assert msg.content[-1].type == "text"


# --- stop sequences and max_tokens ---------------------------------------------------------------


def test_stop_sequence_cuts_the_text(anthropic_client, upstream, upstream_model):
    user = f"Stop before the echo {marker()}"
    msg = anthropic_client.messages.create(
        model=upstream_model, max_tokens=MAX_TOKENS, stop_sequences=["said:"], messages=[{"role": "user", "content": user}]
    )
    text = text_of(msg)
    assert "said:" not in text and text.endswith("You "), repr(text)
    assert msg.usage.output_tokens == words(text)
    if upstream == "anthropic":
        assert (msg.stop_reason, msg.stop_sequence) == ("stop_sequence", "said:")
    else:
        # OpenAI/Gemini upstreams do not say that (or which) stop sequence matched (MAPPING.md).
        assert (msg.stop_reason, msg.stop_sequence) in (("end_turn", None), ("stop_sequence", "said:"))


def test_max_tokens_truncates(anthropic_client, upstream_model):
    msg = anthropic_client.messages.create(
        model=upstream_model, max_tokens=3, messages=[{"role": "user", "content": f"Too long an answer {marker()}"}]
    )
    assert msg.stop_reason == "max_tokens"
    assert text_of(msg) == "Hello from fake"
    assert msg.usage.output_tokens == 3


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.gateway_only
def test_bad_api_key_is_authentication_error(e2e, upstream_model):
    bad = make_anthropic_client(e2e, api_key="sk-ra-invalid-conformance-key-0000000000000000")
    try:
        with pytest.raises(anthropic.AuthenticationError) as ei:
            bad.messages.create(model=upstream_model, max_tokens=16, messages=[{"role": "user", "content": "hello"}])
    finally:
        bad.close()
    assert ei.value.status_code == 401
    assert error_envelope(ei.value)["type"] == "authentication_error"


@pytest.mark.gateway_only
def test_temperature_out_of_range_is_400(anthropic_client, upstream_model):
    # Anthropic's temperature range is 0-1 (OpenAI's 0-2 does not apply to this dialect). This SDK
    # version has no `temperature` argument any more, so it goes in through extra_body.
    with pytest.raises(anthropic.BadRequestError) as ei:
        anthropic_client.messages.create(
            model=upstream_model,
            max_tokens=16,
            messages=[{"role": "user", "content": "hello"}],
            extra_body={"temperature": 1.5},
        )
    assert ei.value.status_code == 400
    err = error_envelope(ei.value)
    assert err["type"] == "invalid_request_error"
    assert "temperature" in err["message"], err


@pytest.mark.gateway_only
def test_missing_max_tokens_is_400(anthropic_client, upstream_model):
    # The SDK will not send a request without max_tokens, so post the raw body through it.
    with pytest.raises(anthropic.BadRequestError) as ei:
        anthropic_client.post(
            "/v1/messages",
            body={"model": upstream_model, "messages": [{"role": "user", "content": "hello"}]},
            cast_to=object,
        )
    assert ei.value.status_code == 400
    assert "max_tokens" in error_envelope(ei.value)["message"]


@pytest.mark.gateway_only
def test_unknown_model_is_rejected(anthropic_client):
    unknown = f"routeall-conformance-no-such-model-{marker()}"
    with pytest.raises(anthropic.APIStatusError) as ei:
        anthropic_client.messages.create(model=unknown, max_tokens=16, messages=[{"role": "user", "content": "hello"}])
    status = ei.value.status_code
    assert 400 <= status < 500 or status == 503, f"unexpected status {status}"
    assert unknown in error_envelope(ei.value)["message"]


def test_upstream_failure_mid_stream_raises(anthropic_client, upstream_model):
    """An upstream error after the stream started arrives as Anthropic `event: error`, which the SDK raises."""
    user = f"w1 w2 w3 w4 w5 w6 {marker()} [[fake error_event_after_chunks=3]]"
    received = []
    with pytest.raises(anthropic.APIStatusError) as ei:
        with anthropic_client.messages.stream(
            model=upstream_model, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": user}]
        ) as stream:
            for ev in stream:
                if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                    received.append(ev.delta.text)
    assert "".join(received) == "Hello from fake", "the events before the failure were delivered"
    body = ei.value.body
    assert isinstance(body, dict) and body.get("type") == "error" and body["error"].get("type"), body
    assert body["error"].get("message"), body


# --- models -------------------------------------------------------------------------------------


@pytest.mark.gateway_only
def test_models_list_contains_every_upstream_model(e2e, anthropic_client):
    ids = [m.id for m in anthropic_client.models.list()]
    for m in e2e.models_by_upstream.values():
        assert m in ids, f"{m!r} not in the Anthropic model list: {ids}"
