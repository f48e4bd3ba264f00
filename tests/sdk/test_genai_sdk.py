"""Conformance of RouteAll's Gemini generateContent API with the official `google-genai` Python SDK.

The client only changes base_url and api_key (http_options). Every test taking `upstream` runs once
per upstream dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM): a Gemini client must reach OpenAI,
Anthropic and Gemini providers alike. Expected values are exact (tools/fake_upstream/README.md,
docs/dialect-mapping.md): promptTokenCount includes cached tokens, candidatesTokenCount EXCLUDES
thoughtsTokenCount, totalTokenCount is the sum of all.
"""

from __future__ import annotations

import pytest
from google.genai import errors, types

from conftest import make_genai_client
from sdk_helpers import echo_of, marker, words

SYSTEM = "You are a terse assistant."

WEATHER_FN = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather for a location",
    parameters_json_schema={
        "type": "object",
        "properties": {"location": {"type": "string", "description": "City name"}},
        "required": ["location"],
    },
)
# The same declaration in the older OpenAPI-style `parameters` (types upper-case).
WEATHER_FN_OPENAPI = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather for a location",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"location": types.Schema(type=types.Type.STRING, description="City name")},
        required=["location"],
    ),
)


def config(**kw) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(system_instruction=SYSTEM, **kw)


def prompt_tokens(user_text: str) -> int:
    """The fake's prompt count P for SYSTEM + one user message (words + 3 each)."""
    return words(SYSTEM) + 3 + words(user_text) + 3


def visible_text(parts) -> str:
    return "".join(p.text or "" for p in parts or [] if p.text is not None and not p.thought)


def response_text(resp) -> str:
    return visible_text(resp.candidates[0].content.parts)


def assert_usage_consistent(um):
    assert um is not None
    thoughts = um.thoughts_token_count or 0
    assert um.total_token_count == um.prompt_token_count + um.candidates_token_count + thoughts + (
        um.tool_use_prompt_token_count or 0
    )


# --- plain call ---------------------------------------------------------------------------------


def test_plain_generate_content(genai_client, upstream_model):
    user = f"Say hello to the conformance suite {marker()}"
    resp = genai_client.models.generate_content(model=upstream_model, contents=user, config=config())
    assert len(resp.candidates) == 1
    cand = resp.candidates[0]
    assert cand.content.role == "model"
    text = resp.text
    assert text and echo_of(user) in text
    assert text == response_text(resp)
    assert cand.finish_reason == types.FinishReason.STOP
    assert not resp.function_calls
    assert resp.model_version == upstream_model, "modelVersion must be the model the client asked for"

    um = resp.usage_metadata
    assert um.prompt_token_count == prompt_tokens(user)
    assert um.candidates_token_count == words(text)
    assert not um.cached_content_token_count and not um.thoughts_token_count
    assert_usage_consistent(um)


def test_plain_generate_content_multi_turn(genai_client, upstream_model):
    user = f"And now the second question {marker()}"
    contents = [
        types.Content(role="user", parts=[types.Part(text="first question")]),
        types.Content(role="model", parts=[types.Part(text="first answer")]),
        types.Content(role="user", parts=[types.Part(text=user)]),
    ]
    resp = genai_client.models.generate_content(model=upstream_model, contents=contents, config=config())
    assert echo_of(user) in resp.text
    n = words(SYSTEM) + 3 + (2 + 3) + (2 + 3) + words(user) + 3
    assert resp.usage_metadata.prompt_token_count == n


# --- streaming ----------------------------------------------------------------------------------


def test_stream_chunks_concatenate_to_non_stream_text(genai_client, upstream_model):
    user = f"Stream this sentence back please {marker()}"
    plain = genai_client.models.generate_content(model=upstream_model, contents=user, config=config())
    chunks = list(genai_client.models.generate_content_stream(model=upstream_model, contents=user, config=config()))
    assert len(chunks) > 1, "the answer should arrive in several chunks"

    text = "".join(visible_text(c.candidates[0].content.parts if c.candidates and c.candidates[0].content else []) for c in chunks)
    assert text == plain.text
    assert echo_of(user) in text

    last = chunks[-1]
    finishes = [c.candidates[0].finish_reason for c in chunks if c.candidates and c.candidates[0].finish_reason]
    assert finishes == [types.FinishReason.STOP], "only the last chunk has a finish reason"
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    um = last.usage_metadata
    assert um is not None, "the last chunk carries the complete usage"
    assert um.prompt_token_count == plain.usage_metadata.prompt_token_count == prompt_tokens(user)
    assert um.candidates_token_count == plain.usage_metadata.candidates_token_count == words(text)
    assert um.total_token_count == plain.usage_metadata.total_token_count
    assert_usage_consistent(um)
    for c in chunks:
        assert c.model_version == upstream_model


# --- tools --------------------------------------------------------------------------------------


@pytest.mark.parametrize("decl", [WEATHER_FN, WEATHER_FN_OPENAPI], ids=["json-schema", "openapi-schema"])
def test_function_call_round_trip(genai_client, upstream_model, decl):
    tools = [types.Tool(function_declarations=[decl])]
    cfg = config(tools=tools, automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    user = types.Content(role="user", parts=[types.Part(text=f"What is the weather like? {marker()}")])
    resp = genai_client.models.generate_content(model=upstream_model, contents=[user], config=cfg)
    cand = resp.candidates[0]
    assert cand.finish_reason == types.FinishReason.STOP
    calls = resp.function_calls
    assert calls is not None and len(calls) == 1, cand.content
    assert calls[0].name == "get_weather"
    assert calls[0].args == {"location": "test"}
    assert_usage_consistent(resp.usage_metadata)

    tool_result = "Sunny and 22 degrees in test"
    contents = [
        user,
        cand.content,
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name="get_weather", response={"result": tool_result})],
        ),
    ]
    final = genai_client.models.generate_content(model=upstream_model, contents=contents, config=cfg)
    assert final.candidates[0].finish_reason == types.FinishReason.STOP
    assert not final.function_calls
    assert final.text and tool_result in final.text


def test_function_call_stream(genai_client, upstream_model):
    cfg = config(
        tools=[types.Tool(function_declarations=[WEATHER_FN])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    chunks = list(
        genai_client.models.generate_content_stream(
            model=upstream_model, contents=f"Weather please {marker()}", config=cfg
        )
    )
    calls = [
        p.function_call
        for c in chunks
        if c.candidates and c.candidates[0].content
        for p in c.candidates[0].content.parts or []
        if p.function_call
    ]
    assert len(calls) == 1, "a Gemini stream carries each functionCall whole, in one part"
    assert calls[0].name == "get_weather" and calls[0].args == {"location": "test"}
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert_usage_consistent(chunks[-1].usage_metadata)


# --- cache and reasoning usage ------------------------------------------------------------------


def test_usage_cached_tokens(genai_client, upstream_model):
    user = f"Cached prompt {marker()} [[fake prompt_tokens=972 cached_tokens=896]]"
    resp = genai_client.models.generate_content(model=upstream_model, contents=user, config=config())
    um = resp.usage_metadata
    assert um.prompt_token_count == 972, "promptTokenCount includes the cached tokens"
    assert um.cached_content_token_count == 896
    assert um.candidates_token_count == words(resp.text)
    assert um.total_token_count == 972 + words(resp.text)


def test_usage_reasoning_tokens(genai_client, upstream, upstream_model):
    user = f"Think first {marker()} [[fake prompt_tokens=972 cached_tokens=896 reasoning_tokens=12]]"
    resp = genai_client.models.generate_content(model=upstream_model, contents=user, config=config())
    text = response_text(resp)
    assert echo_of(user) in text
    um = resp.usage_metadata
    assert um.prompt_token_count == 972
    assert um.cached_content_token_count == 896
    assert um.total_token_count == 972 + words(text) + 12
    if upstream == "anthropic":
        # Anthropic reports thinking inside output_tokens without splitting it out (MAPPING.md):
        # all output is candidates.
        assert (um.candidates_token_count or 0) + (um.thoughts_token_count or 0) == words(text) + 12
    else:
        assert um.thoughts_token_count == 12
        assert um.candidates_token_count == words(text), "candidatesTokenCount excludes the thoughts"


def test_usage_reasoning_tokens_stream(genai_client, upstream, upstream_model):
    user = f"Think first {marker()} [[fake reasoning_tokens=12]]"
    chunks = list(genai_client.models.generate_content_stream(model=upstream_model, contents=user, config=config()))
    text = "".join(visible_text(c.candidates[0].content.parts if c.candidates and c.candidates[0].content else []) for c in chunks)
    assert echo_of(user) in text
    um = chunks[-1].usage_metadata
    assert um.prompt_token_count == prompt_tokens(user)
    assert um.total_token_count == prompt_tokens(user) + words(text) + 12
    if upstream != "anthropic":
        assert um.thoughts_token_count == 12
        assert um.candidates_token_count == words(text)


# --- stop sequences and max_output_tokens --------------------------------------------------------


def test_stop_sequence_and_max_output_tokens(genai_client, upstream_model):
    user = f"Stop before the echo {marker()}"
    resp = genai_client.models.generate_content(
        model=upstream_model, contents=user, config=types.GenerateContentConfig(stop_sequences=["said:"])
    )
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    assert resp.text.endswith("You ") and "said:" not in resp.text, repr(resp.text)
    assert resp.usage_metadata.candidates_token_count == words(resp.text)

    resp = genai_client.models.generate_content(
        model=upstream_model, contents=user, config=types.GenerateContentConfig(max_output_tokens=3)
    )
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert resp.text == "Hello from fake"
    assert resp.usage_metadata.candidates_token_count == 3


def test_api_version_v1_path(e2e, upstream_model):
    from google import genai

    c = genai.Client(
        api_key=e2e.api_key,
        http_options=types.HttpOptions(base_url=e2e.base_url + "/", api_version="v1", timeout=30_000),
    )
    try:
        user = f"Over the v1 path {marker()}"
        resp = c.models.generate_content(model=upstream_model, contents=user)
        assert echo_of(user) in resp.text
    finally:
        c.close()


def test_upstream_failure_mid_stream_raises(genai_client, upstream_model):
    """An upstream error after the stream started arrives as a Gemini error chunk, which the SDK raises."""
    user = f"w1 w2 w3 w4 w5 w6 {marker()} [[fake error_event_after_chunks=3]]"
    received = []
    with pytest.raises(errors.APIError) as ei:
        for c in genai_client.models.generate_content_stream(model=upstream_model, contents=user):
            received.append(c.text or "")
    assert "".join(received) == "Hello from fake", "the chunks before the failure were delivered"
    assert ei.value.code >= 500 and ei.value.message, (ei.value.code, ei.value.message)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.gateway_only
def test_bad_api_key_is_client_error_401(e2e, upstream_model):
    bad = make_genai_client(e2e, api_key="sk-ra-invalid-conformance-key-0000000000000000")
    try:
        with pytest.raises(errors.ClientError) as ei:
            bad.models.generate_content(model=upstream_model, contents="hello")
    finally:
        bad.close()
    assert ei.value.code == 401
    assert ei.value.status == "UNAUTHENTICATED"
    assert ei.value.message


@pytest.mark.gateway_only
def test_temperature_out_of_range_is_400(genai_client, upstream_model):
    with pytest.raises(errors.ClientError) as ei:
        genai_client.models.generate_content(
            model=upstream_model, contents="hello", config=types.GenerateContentConfig(temperature=3)
        )
    assert ei.value.code == 400
    assert ei.value.status == "INVALID_ARGUMENT"
    assert "temperature" in (ei.value.message or ""), ei.value.message


@pytest.mark.gateway_only
def test_unknown_model_is_rejected(genai_client):
    unknown = f"routeall-conformance-no-such-model-{marker()}"
    with pytest.raises(errors.APIError) as ei:
        genai_client.models.generate_content(model=unknown, contents="hello")
    assert 400 <= ei.value.code < 500 or ei.value.code == 503, f"unexpected status {ei.value.code}"
    assert ei.value.status, "Gemini envelope error.status missing"
    assert unknown in (ei.value.message or "")


# --- models -------------------------------------------------------------------------------------


@pytest.mark.gateway_only
def test_models_list_contains_every_upstream_model(e2e, genai_client):
    names = [m.name for m in genai_client.models.list()]
    for m in e2e.models_by_upstream.values():
        assert f"models/{m}" in names, f"models/{m} not in the Gemini model list: {names}"
