"""Conformance of RouteAll's OpenAI-compatible API with the official `openai` Python SDK.

The client only changes base_url and api_key. Behind the gateway sits the fake upstream
(tools/fake_upstream), whose replies and usage figures are deterministic, so the expected values
below are exact. Every test not marked gateway_only also holds against the fake directly.
The core tests (plain, streaming with usage, tools) take `upstream_model` and run once per upstream
dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM): an OpenAI client must reach any provider.
"""

from __future__ import annotations

import json
import time

import openai
import pytest
import requests

from sdk_helpers import echo_of, fake_prompt_tokens, marker, words

SYSTEM = "You are a terse assistant."

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name"}},
            "required": ["location"],
        },
    },
}


def conversation(user_text: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_text}]


def usage_tuple(usage) -> tuple[int, int, int]:
    return (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def collect_stream(stream) -> list:
    chunks = list(stream)
    assert chunks, "stream produced no chunks"
    return chunks


def streamed_text(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def error_envelope(exc: openai.APIStatusError) -> dict:
    """The OpenAI error envelope {"error": {"message", "type", ...}} of a failed response."""
    try:
        body = exc.response.json()
    except ValueError:
        pytest.fail(f"HTTP {exc.status_code} error body is not JSON: {exc.response.text[:300]!r}")
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"error body is not an OpenAI envelope: {body!r}"
    )
    err = body["error"]
    assert isinstance(err.get("message"), str) and err["message"], f"error.message missing: {body!r}"
    assert isinstance(err.get("type"), str) and err["type"], f"error.type missing: {body!r}"
    return err


# --- 1. plain call ------------------------------------------------------------------------------


def test_plain_chat_completion(client, upstream_model):
    user = f"Say hello to the conformance suite {marker()}"
    messages = conversation(user)
    resp = client.chat.completions.create(model=upstream_model, messages=messages)

    assert resp.object == "chat.completion"
    assert resp.model == upstream_model, "response model must be the model the client asked for"
    assert resp.id
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content and echo_of(user) in choice.message.content
    assert not choice.message.tool_calls
    assert choice.finish_reason == "stop"

    u = resp.usage
    assert u is not None
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    # Exact figures from the fake's counting: the gateway forwards the messages unchanged and
    # reports the upstream's usage unchanged.
    assert u.prompt_tokens == fake_prompt_tokens(messages)
    assert u.completion_tokens == words(choice.message.content)


@pytest.mark.needs_fake_url
def test_one_upstream_request_per_call(client, model, fake):
    before = fake.chat_requests()
    user = f"Count me once {marker()}"
    client.chat.completions.create(model=model, messages=conversation(user))
    assert fake.chat_requests() - before == 1, "a successful call must reach the upstream exactly once"
    last = fake.last()
    assert last["path"].endswith("/chat/completions")
    assert user in json.dumps(last["body"])


# --- 2./3. streaming ----------------------------------------------------------------------------


def test_stream_with_include_usage_matches_non_stream(client, upstream_model):
    user = f"Stream this sentence back please {marker()}"
    messages = conversation(user)
    plain = client.chat.completions.create(model=upstream_model, messages=messages)
    chunks = collect_stream(
        client.chat.completions.create(
            model=upstream_model, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )

    for c in chunks:
        assert c.object == "chat.completion.chunk"
        assert c.model == upstream_model
    assert len({c.id for c in chunks}) == 1, "all chunks of one stream share one id"

    usage_chunks = [c for c in chunks if c.usage is not None]
    empty_choice_chunks = [c for c in chunks if not c.choices]
    assert len(usage_chunks) == 1, f"expected exactly one usage chunk, got {len(usage_chunks)}"
    assert empty_choice_chunks == usage_chunks, "the usage chunk is the only one with empty choices"
    assert chunks[-1] is usage_chunks[0], "the usage chunk is the last chunk"

    content_chunks = chunks[:-1]
    assert content_chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in content_chunks if c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert streamed_text(chunks) == plain.choices[0].message.content
    assert echo_of(user) in streamed_text(chunks)

    u = usage_chunks[0].usage
    assert usage_tuple(u) == usage_tuple(plain.usage)
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_stream_without_include_usage_has_no_usage(client, model):
    user = f"No usage in this stream {marker()}"
    chunks = collect_stream(
        client.chat.completions.create(model=model, messages=conversation(user), stream=True)
    )
    assert [c for c in chunks if c.usage is not None] == []
    assert all(c.choices for c in chunks), "without include_usage no chunk has empty choices"
    assert echo_of(user) in streamed_text(chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_raw_sse_stream_is_incremental_and_ends_with_done(e2e, model):
    n_words, delay_ms = 30, 20
    body = {
        "model": model,
        "messages": [{"role": "user", "content": f"count [[fake words={n_words} chunk_delay_ms={delay_ms}]]"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t0 = time.monotonic()
    with requests.post(
        f"{e2e.api_base}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {e2e.api_key}", "Accept": "text/event-stream"},
        stream=True,
        timeout=30,
    ) as r:
        assert r.status_code == 200, r.text[:500]
        assert r.headers.get("content-type", "").startswith("text/event-stream")
        # chunk_size=1: hand over bytes as they arrive (larger reads block until they are full).
        events: list[tuple[float, str]] = []
        for line in r.iter_lines(chunk_size=1, decode_unicode=False):
            line = line.decode("utf-8")
            if line.startswith("data:"):
                events.append((time.monotonic() - t0, line[len("data:"):].strip()))
            else:
                assert line == "" or line.startswith(":"), f"unexpected SSE line: {line!r}"
    total = time.monotonic() - t0

    assert events, "no SSE data events"
    assert events[-1][1] == "[DONE]", "the stream must end with data: [DONE]"
    assert [e for e in events if e[1] == "[DONE]"] == [events[-1]]
    chunks = [json.loads(payload) for _, payload in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c["choices"])
    assert text == " ".join(f"w{i}" for i in range(1, n_words + 1))
    assert not chunks[-1]["choices"] and chunks[-1]["usage"]["completion_tokens"] == n_words

    # Events are relayed as they are produced, not buffered until the end.
    content_times = [t for (t, _), c in zip(events, chunks) if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content_times) == n_words
    ttfc = events[0][0]
    min_spread = (n_words - 1) * delay_ms / 1000 * 0.5
    assert ttfc < total - min_spread, f"first chunk at {ttfc:.3f}s of {total:.3f}s: stream was buffered"
    assert content_times[-1] - content_times[0] >= min_spread, (
        f"content events arrived within {content_times[-1] - content_times[0]:.3f}s: stream was buffered"
    )
    separate = sum(1 for a, b in zip(content_times, content_times[1:]) if b - a >= delay_ms / 1000 / 2)
    assert separate >= (n_words - 1) // 2, f"only {separate} of {n_words - 1} events arrived separately"


# --- 4. tools -----------------------------------------------------------------------------------


def test_tool_call_round_trip(client, upstream_model):
    messages = [{"role": "user", "content": f"What is the weather like? {marker()}"}]
    resp = client.chat.completions.create(model=upstream_model, messages=messages, tools=[WEATHER_TOOL])
    assert resp.model == upstream_model
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "test"}
    u = resp.usage
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens

    tool_result = "Sunny and 22 degrees in test"
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": tool_result},
    ]
    final = client.chat.completions.create(model=upstream_model, messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].finish_reason == "stop"
    assert not final.choices[0].message.tool_calls
    assert tool_result in final.choices[0].message.content


def test_tool_call_streaming_arguments(client, upstream_model):
    messages = [{"role": "user", "content": f"Weather please {marker()}"}]
    chunks = collect_stream(
        client.chat.completions.create(model=upstream_model, messages=messages, tools=[WEATHER_TOOL], stream=True)
    )
    calls: dict[int, dict] = {}
    finishes = []
    for c in chunks:
        assert c.object == "chat.completion.chunk"
        assert c.model == upstream_model
        for ch in c.choices:
            if ch.finish_reason:
                finishes.append(ch.finish_reason)
            for tc in ch.delta.tool_calls or []:
                acc = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                if tc.id:
                    acc["id"] = tc.id
                if tc.function and tc.function.name:
                    acc["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    acc["arguments"] += tc.function.arguments
    assert finishes == ["tool_calls"]
    assert list(calls) == [0]
    assert calls[0]["id"] and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "test"}


# --- 5. errors ----------------------------------------------------------------------------------


@pytest.mark.gateway_only
def test_bad_api_key_is_401(client_with_key, model):
    bad = client_with_key("sk-ra-invalid-conformance-key-0000000000000000")
    with pytest.raises(openai.AuthenticationError) as ei:
        bad.chat.completions.create(model=model, messages=conversation("hello"))
    assert ei.value.status_code == 401
    error_envelope(ei.value)


@pytest.mark.gateway_only
def test_invalid_temperature_is_400(client, model):
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model=model, messages=conversation("hello"), temperature=3)
    assert ei.value.status_code == 400
    err = error_envelope(ei.value)
    assert "temperature" in err["message"]


def test_missing_messages_is_400(client, model):
    # The SDK will not send a request without messages, so post the raw body through it.
    with pytest.raises(openai.BadRequestError) as ei:
        client.post("/chat/completions", body={"model": model}, cast_to=object)
    assert ei.value.status_code == 400
    err = error_envelope(ei.value)
    assert "messages" in err["message"]


@pytest.mark.gateway_only
def test_unknown_model_is_rejected(client):
    unknown = f"routeall-conformance-no-such-model-{marker()}"
    with pytest.raises(openai.APIStatusError) as ei:
        client.chat.completions.create(model=unknown, messages=conversation("hello"))
    status = ei.value.status_code
    assert 400 <= status < 500 or status == 503, f"unexpected status {status}"
    err = error_envelope(ei.value)
    assert unknown in err["message"], f"error message should name the model: {err['message']!r}"


# --- 6. models ----------------------------------------------------------------------------------


def test_models_list_contains_model(client, model):
    ids = [m.id for m in client.models.list()]
    assert model in ids, f"{model!r} not in /v1/models: {ids}"


# --- 7. cache and reasoning usage ---------------------------------------------------------------

USAGE_DIRECTIVE = "[[fake prompt_tokens=972 cached_tokens=896 reasoning_tokens=12]]"


def assert_detailed_usage(u, content: str):
    assert u.prompt_tokens == 972
    assert u.prompt_tokens_details is not None and u.prompt_tokens_details.cached_tokens == 896
    assert u.completion_tokens_details is not None and u.completion_tokens_details.reasoning_tokens == 12
    assert u.completion_tokens == words(content) + 12, "completion tokens include reasoning tokens"
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def test_usage_cached_and_reasoning_tokens(client, model):
    messages = conversation(f"Cached prompt {marker()} {USAGE_DIRECTIVE}")
    resp = client.chat.completions.create(model=model, messages=messages)
    assert_detailed_usage(resp.usage, resp.choices[0].message.content)


def test_usage_cached_and_reasoning_tokens_stream(client, model):
    messages = conversation(f"Cached prompt {marker()} {USAGE_DIRECTIVE}")
    chunks = collect_stream(
        client.chat.completions.create(
            model=model, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1
    assert_detailed_usage(usage_chunks[0].usage, streamed_text(chunks))


# --- 8. pass-through ----------------------------------------------------------------------------


@pytest.mark.needs_fake_url
def test_extra_body_passes_through_unchanged(client, model, fake):
    user = f"Pass my parameters through {marker()}"
    client.chat.completions.create(
        model=model,
        messages=conversation(user),
        extra_body={"frequency_penalty": 0.25, "logit_bias": {"50256": -100}},
    )
    last = fake.last()
    body = last["body"]
    assert isinstance(body, dict), f"upstream body is not JSON: {body!r}"
    assert user in json.dumps(body["messages"]), "the fake's last request is not this test's request"
    assert body.get("frequency_penalty") == 0.25
    assert body.get("logit_bias") == {"50256": -100}


# --- 9. every upstream dialect ------------------------------------------------------------------

UPSTREAM_PATH_SUFFIX = {
    "openai": "/chat/completions",
    "anthropic": "/v1/messages",
    "gemini": ":generateContent",
}


@pytest.mark.needs_fake_url
@pytest.mark.gateway_only
def test_reaches_upstream_in_its_own_dialect(client, upstream, upstream_model, upstream_fake):
    before = upstream_fake.stats().get("requests", 0)
    user = f"Translate me to the upstream dialect {marker()}"
    client.chat.completions.create(model=upstream_model, messages=conversation(user))
    assert upstream_fake.stats().get("requests", 0) - before == 1, "exactly one upstream request per call"
    last = upstream_fake.last()
    if upstream in UPSTREAM_PATH_SUFFIX:
        assert last["path"].endswith(UPSTREAM_PATH_SUFFIX[upstream]), last["path"]
    assert user in json.dumps(last["body"]), "the fake's last request is not this test's request"
