#!/usr/bin/env python3
"""Writes the libFuzzer seed corpora under tests/fuzz_seeds/<target>/ (rerun after editing).

Shapes come from the codec unit tests (common/codecs/*_test.cc) and the fake upstream
(tools/fake_upstream/render_*.cc). Seeds stay small (<64 KB) so the fuzzer mutates real
structure; the deep-nesting seeds are the exception: they reach the recursion class of bug
(a 1,000,000-deep array once crashed the gateway).

Input formats of the targets that are not plain bodies:
  routeall_upstream_stream_fuzz     events split at blank lines, each "<event name>\\n<data>"
  routeall_*_upstream_fuzz          optional "<3-digit HTTP status>\\n" line, then the raw body
                                    (a unary JSON body or an SSE stream)
  routeall_gateway_request_fuzz     a raw HTTP/1.1 request (head and body)
"""
import json
import os
import shutil

ROOT = os.path.dirname(os.path.abspath(__file__))


def dump(j):
    return json.dumps(j, separators=(",", ":"))


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, (dict, list)):
        data = dump(data)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def deep_array(depth, leaf="1"):
    return "[" * depth + leaf + "]" * depth


def deep_object(depth):
    return '{"a":' * depth + "1" + "}" * depth


def with_raw(body, key, raw):
    """body with one more field whose value is raw JSON text (too deep for json.dumps)."""
    text = dump(body)
    return text[:-1] + ',"%s":%s}' % (key, raw)


PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
DEEP = 5000
# Far beyond any sane limit: these overflow the stack until the codecs bound nesting depth,
# so they live in deep/<target>/ and scripts/fuzz reads them only with ROUTEALL_FUZZ_DEEP=1.
VERY_DEEP = 100000

# ---- OpenAI chat requests ----------------------------------------------------------------
T = "routeall_openai_request_fuzz"
oa_min = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
write(T, "minimal.json", oa_min)
write(T, "full.json", {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "no markdown"}]},
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG_B64, "detail": "high"}}]},
        {"role": "assistant", "content": None, "reasoning_content": "hmm",
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"a\":1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
        {"role": "assistant", "content": "a cat", "refusal": None, "name": "bot"}],
    "temperature": 0.5, "top_p": 1, "max_completion_tokens": 100, "stop": ["END", "STOP"],
    "seed": 7, "n": 2, "user": "u1", "stream": True, "stream_options": {"include_usage": True},
    "tools": [{"type": "function", "function": {"name": "look", "description": "looks", "strict": True,
                                                  "parameters": {"type": "object", "properties": {"a": {"type": "integer"}},
                                                                 "required": ["a"]}}}],
    "tool_choice": "required", "parallel_tool_calls": False, "response_format": {"type": "json_object"},
    "frequency_penalty": 0.3, "logit_bias": {"50256": -100}, "reasoning_effort": "low", "metadata": {"k": "v"}})
write(T, "tool_choice_function.json", dict(oa_min, tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
                                            tool_choice={"type": "function", "function": {"name": "f"}}, max_tokens=5,
                                            stop="x", logprobs=True))
write(T, "json_schema.json", dict(oa_min, response_format={"type": "json_schema", "json_schema": {
    "name": "s", "strict": True, "schema": {"type": "object", "properties": {"x": {"type": "string"}}}}},
    stream=True, stream_options={"include_usage": False}, temperature=2, n=1))
write(T, "bad_role.json", {"model": "m", "messages": [{"role": "robot", "content": "x"}]})
write(T, "bad_types.json", {"model": 1, "messages": {}, "temperature": "hot", "n": -1})
write(T, "deep_extra.json", with_raw(oa_min, "x", deep_array(DEEP)))
write(T, "deep_content.json", '{"model":"m","messages":[{"role":"user","content":%s}]}' % deep_array(DEEP))
write(T, "deep_object_schema.json", '{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",'
      '"function":{"name":"f","parameters":%s}}]}' % deep_object(DEEP))
write("deep/" + T, "very_deep_extra.json", with_raw(oa_min, "x", deep_array(VERY_DEEP)))

# ---- Anthropic messages requests ---------------------------------------------------------
T = "routeall_anthropic_request_fuzz"
an_min = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
write(T, "minimal.json", an_min)
write(T, "full.json", {
    "model": "claude-sonnet-4-5", "max_tokens": 4096,
    "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "be kind"}],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "let me look"},
            {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"a": 1}},
            {"type": "tool_use", "id": "toolu_2", "name": "look", "input": {"a": 2}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a cat"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "no"}], "is_error": True},
            {"type": "text", "text": "thanks"}]}],
    "temperature": 0.5, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"], "stream": True,
    "metadata": {"user_id": "u1"},
    "tools": [{"name": "look", "description": "looks", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}}},
              {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
    "tool_choice": {"type": "tool", "name": "look", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 2048}, "service_tier": "auto"})
write(T, "system_string.json", dict(an_min, system="be brief", tool_choice={"type": "auto"}, thinking={"type": "disabled"},
                                     tools=[{"name": "f", "input_schema": {"type": "object"}}]))
write(T, "tool_choice_any.json", dict(an_min, tool_choice={"type": "any"}, tools=[{"name": "f", "input_schema": {}}]))
write(T, "bad_block.json", {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "video"}]}]})
write(T, "deep_extra.json", with_raw(an_min, "x", deep_array(DEEP)))
write(T, "deep_tool_input.json", '{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use",'
      '"id":"t","name":"f","input":{"a":%s}}]}]}' % deep_array(DEEP))
write(T, "deep_content.json", '{"model":"m","max_tokens":1,"messages":[{"role":"user","content":%s}]}' % deep_array(DEEP))
write("deep/" + T, "very_deep_tool_input.json", '{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":'
      '[{"type":"tool_use","id":"t","name":"f","input":{"a":%s}}]}]}' % deep_array(VERY_DEEP))

# ---- Gemini generateContent requests ------------------------------------------------------
T = "routeall_gemini_request_fuzz"
ge_min = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
write(T, "minimal.json", ge_min)
write(T, "full.json", {
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "contents": [
        {"role": "user", "parts": [{"text": "what is this?"}, {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
                                   {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x/y.jpg"}}]},
        {"role": "model", "parts": [{"text": "hmm", "thought": True, "thoughtSignature": "c2ln"},
                                    {"functionCall": {"id": "c1", "name": "look", "args": {"a": 1}}}]},
        {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "look", "response": {"result": "a cat"}}}]}],
    "tools": [{"functionDeclarations": [{"name": "look", "description": "looks",
                                         "parameters": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}}]}],
    "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["look"]}},
    "generationConfig": {"temperature": 0.5, "topP": 0.9, "topK": 40, "maxOutputTokens": 100, "stopSequences": ["END"],
                         "candidateCount": 1, "seed": 7, "responseMimeType": "application/json",
                         "responseSchema": {"type": "OBJECT"},
                         "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]})
write(T, "snake_case.json", {
    "system_instruction": {"parts": [{"text": "s"}]},
    "contents": [{"role": "user", "parts": [{"inline_data": {"mime_type": "image/png", "data": PNG_B64}}, {"text": "x"}]},
                 {"role": "model", "parts": [{"function_call": {"name": "f", "args": {}}}]},
                 {"role": "user", "parts": [{"function_response": {"name": "f", "response": {}}}]}],
    "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}],
    "tool_config": {"function_calling_config": {"mode": "AUTO"}},
    "generation_config": {"max_output_tokens": 5, "response_json_schema": {"type": "object"},
                          "thinking_config": {"thinking_level": "low"}, "top_k": 1}})
write(T, "no_tools_mode_none.json", dict(ge_min, toolConfig={"functionCallingConfig": {"mode": "NONE"}},
                                         generationConfig={"thinkingConfig": {"thinkingLevel": "high"}}))
write(T, "deep_extra.json", with_raw(ge_min, "x", deep_array(DEEP)))
write(T, "deep_args.json", '{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":%s}}}]}]}'
      % deep_array(DEEP))
write(T, "deep_schema.json", '{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseSchema":%s}}' % deep_object(DEEP))
write("deep/" + T, "very_deep_extra.json", with_raw(ge_min, "x", deep_array(VERY_DEEP)))

# ---- Upstream responses (unary and SSE), through each provider ------------------------------
def sse(events, crlf=False):
    nl = "\r\n" if crlf else "\n"
    out = ""
    for name, data in events:
        if name:
            out += "event: " + name + nl
        out += "data: " + (data if isinstance(data, str) else dump(data)) + nl + nl
    return out


T = "routeall_openai_upstream_fuzz"
oa_usage = {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
            "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 10, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
oa_res = {"id": "chatcmpl-1", "object": "chat.completion", "created": 5, "model": "gpt-4o", "system_fingerprint": "fp",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello", "reasoning_content": "hmm", "refusal": None},
                       "logprobs": None, "finish_reason": "stop"},
                      {"index": 1, "message": {"role": "assistant", "content": None, "tool_calls": [
                          {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"a\":1}"}}]},
                       "finish_reason": "tool_calls"}],
          "usage": oa_usage}
write(T, "unary.json", oa_res)
write(T, "unary_length.json", dict(oa_res, choices=[{"index": 0, "message": {"role": "assistant", "content": "he"},
                                                     "finish_reason": "length"}], usage={"prompt_tokens": 1, "completion_tokens": 1,
                                                                                          "prompt_cache_hit_tokens": 1}))


def oa_chunk(delta, finish=None, usage=None, index=0):
    c = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": index, "delta": delta, "finish_reason": finish}] if delta is not None else []}
    if usage:
        c["usage"] = usage
    return c


write(T, "stream.sse", sse([
    (None, oa_chunk({"role": "assistant", "content": ""})),
    (None, oa_chunk({"reasoning_content": "hm"})),
    (None, oa_chunk({"content": "hel"})),
    (None, oa_chunk({"content": "lo"})),
    (None, oa_chunk({}, "stop")),
    (None, oa_chunk(None, usage=oa_usage)),
    (None, "[DONE]")]))
write(T, "stream_tools.sse", sse([
    (None, oa_chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                          "function": {"name": "look", "arguments": ""}}]})),
    (None, oa_chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]})),
    (None, oa_chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})),
    (None, oa_chunk({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "f", "arguments": "{}"}}]})),
    (None, oa_chunk({}, "tool_calls")),
    (None, "[DONE]")], crlf=True))
write(T, "stream_no_done.sse", sse([(None, oa_chunk({"content": "x"})), (None, oa_chunk({}, "content_filter"))]))
write(T, "stream_error.sse", sse([(None, oa_chunk({"content": "x"})), (None, {"error": {"message": "overloaded",
                                                                                       "type": "server_error"}})]))
write(T, "stream_comments.sse", ": keep-alive\n\nretry: 100\nid: 1\ndata: " + dump(oa_chunk({"content": "a"})) + "\n\ndata: [DONE]\n\n")
oa_err = {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}}
write(T, "error_429.txt", "429\n" + dump(oa_err))
write(T, "error_400.txt", "400\n" + dump({"error": {"message": "bad", "type": "invalid_request_error", "param": "messages",
                                                    "code": None}}))
write(T, "error_500_html.txt", "500\n<html>oops</html>")
write(T, "error_200_body.json", oa_err)
write(T, "deep_unary.json", '{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":%s}}]}' % deep_array(DEEP))
write(T, "deep_stream.sse", "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s}}]}\n\n" % deep_array(DEEP))
write("deep/" + T, "very_deep_unary.json", '{"id":"x","choices":[],"x":%s}' % deep_array(VERY_DEEP))

T = "routeall_anthropic_upstream_fuzz"
an_usage = {"input_tokens": 10, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3, "output_tokens": 20,
            "server_tool_use": {"web_search_requests": 1}}
write(T, "unary.json", {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                        "content": [{"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                                    {"type": "redacted_thinking", "data": "opaque"},
                                    {"type": "text", "text": "hello"},
                                    {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"a": 1}}],
                        "stop_reason": "tool_use", "stop_sequence": None, "usage": an_usage})
write(T, "unary_stop_sequence.json", {"id": "msg_2", "type": "message", "role": "assistant", "model": "m",
                                      "content": [{"type": "text", "text": "x"}], "stop_reason": "stop_sequence",
                                      "stop_sequence": "END", "usage": {"input_tokens": 1, "output_tokens": 1}})
an_msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
          "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "cache_read_input_tokens": 3, "output_tokens": 1}}


def an_ev(t, **kw):
    return (t, dict({"type": t}, **kw))


write(T, "stream.sse", sse([
    an_ev("message_start", message=an_msg),
    an_ev("content_block_start", index=0, content_block={"type": "thinking", "thinking": "", "signature": ""}),
    ("ping", {"type": "ping"}),
    an_ev("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hm"}),
    an_ev("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "c2ln"}),
    an_ev("content_block_stop", index=0),
    an_ev("content_block_start", index=1, content_block={"type": "text", "text": ""}),
    an_ev("content_block_delta", index=1, delta={"type": "text_delta", "text": "hello"}),
    an_ev("content_block_stop", index=1),
    an_ev("content_block_start", index=2, content_block={"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}}),
    an_ev("content_block_delta", index=2, delta={"type": "input_json_delta", "partial_json": "{\"a\":"}),
    an_ev("content_block_delta", index=2, delta={"type": "input_json_delta", "partial_json": "1}"}),
    an_ev("content_block_stop", index=2),
    an_ev("message_delta", delta={"stop_reason": "tool_use", "stop_sequence": None}, usage={"output_tokens": 20}),
    an_ev("message_stop")]))
write(T, "stream_error.sse", sse([an_ev("message_start", message=an_msg),
                                  ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]))
write(T, "stream_truncated.sse", sse([an_ev("message_start", message=an_msg),
                                      an_ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
                                      an_ev("content_block_delta", index=0, delta={"type": "text_delta", "text": "hel"})]))
write(T, "stream_server_tool.sse", sse([
    an_ev("message_start", message=an_msg),
    an_ev("content_block_start", index=0, content_block={"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
                                                         "input": {}}),
    an_ev("content_block_stop", index=0),
    an_ev("message_delta", delta={"stop_reason": "pause_turn"}, usage={"output_tokens": 2, "server_tool_use":
                                                                       {"web_search_requests": 1}}),
    an_ev("message_stop")]))
an_err = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"}}
write(T, "error_429.txt", "429\n" + dump(an_err))
write(T, "error_529.txt", "529\n" + dump({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
write(T, "error_200_body.json", an_err)
write(T, "deep_unary.json", '{"id":"m","type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":%s}}]}'
      % deep_array(DEEP))
write(T, "deep_stream.sse", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":%s}}\n\n"
      % deep_array(DEEP))
write("deep/" + T, "very_deep_tool_input.json", '{"id":"m","type":"message","content":[{"type":"tool_use","id":"t",'
      '"name":"f","input":{"a":%s}}]}' % deep_array(VERY_DEEP))

T = "routeall_gemini_upstream_fuzz"
ge_usage = {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 35, "cachedContentTokenCount": 4,
            "thoughtsTokenCount": 5, "toolUsePromptTokenCount": 1,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}]}
ge_res = {"candidates": [{"content": {"role": "model", "parts": [
    {"text": "hmm", "thought": True}, {"text": "hello", "thoughtSignature": "c2ln"},
    {"functionCall": {"name": "look", "args": {"a": 1}}}]}, "finishReason": "STOP", "index": 0}],
    "usageMetadata": ge_usage, "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
write(T, "unary.json", ge_res)
write(T, "unary_blocked.json", {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}})
write(T, "unary_two_candidates.json", dict(ge_res, candidates=[
    {"content": {"role": "model", "parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS", "index": 0},
    {"content": {"role": "model", "parts": [{"text": "b"}]}, "finishReason": "RECITATION", "index": 1}]))


def ge_chunk(parts, finish=None, usage=None):
    c = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        c["finishReason"] = finish
    out = {"candidates": [c], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if usage:
        out["usageMetadata"] = usage
    return out


write(T, "stream.sse", sse([
    (None, ge_chunk([{"text": "hm", "thought": True}])),
    (None, ge_chunk([{"text": "hel"}], usage={"promptTokenCount": 10})),
    (None, ge_chunk([{"text": "lo", "thoughtSignature": "c2ln"}])),
    (None, ge_chunk([{"functionCall": {"name": "look", "args": {"a": 1}}}])),
    (None, ge_chunk([{"text": ""}], "STOP", ge_usage))], crlf=True))
write(T, "stream_no_finish.sse", sse([(None, ge_chunk([{"text": "x"}]))]))
write(T, "stream_error.sse", sse([(None, ge_chunk([{"text": "x"}])),
                                  (None, {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})]))
ge_err = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}
write(T, "error_429.txt", "429\n" + dump(ge_err))
write(T, "error_400.txt", "400\n" + dump({"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT",
                                                    "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest"}]}}))
write(T, "error_array.txt", "503\n[" + dump(ge_err) + "]")
write(T, "error_200_body.json", ge_err)
write(T, "deep_unary.json", '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":%s}}}]}}]}' % deep_array(DEEP))
write(T, "deep_stream.sse", "data: {\"candidates\":[{\"content\":{\"parts\":%s}}]}\r\n\r\n" % deep_array(DEEP))
write("deep/" + T, "very_deep_args.json", '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":%s}}}]}}]}'
      % deep_array(VERY_DEEP))

# ---- Codec-level upstream stream events ("<event name>\n<data>" split at blank lines) -----------
T = "routeall_upstream_stream_fuzz"


def events(evs):
    return "\n\n".join((n or "") + "\n" + (d if isinstance(d, str) else dump(d)) for n, d in evs)


write(T, "anthropic.txt", events([
    an_ev("message_start", message=an_msg),
    an_ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    an_ev("content_block_delta", index=0, delta={"type": "text_delta", "text": "hello"}),
    an_ev("content_block_stop", index=0),
    an_ev("content_block_start", index=1, content_block={"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}}),
    an_ev("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": "{\"a\":1}"}),
    an_ev("content_block_stop", index=1),
    an_ev("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 20}),
    an_ev("message_stop")]))
write(T, "gemini.txt", events([
    (None, ge_chunk([{"text": "hm", "thought": True}])),
    (None, ge_chunk([{"functionCall": {"name": "look", "args": {"a": 1}}}])),
    (None, ge_chunk([{"text": "x"}], "STOP", ge_usage))]))
write(T, "openai.txt", events([
    (None, oa_chunk({"role": "assistant", "content": "he"})),
    (None, oa_chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}]})),
    (None, oa_chunk({}, "tool_calls")),
    (None, oa_chunk(None, usage=oa_usage))]))
write(T, "deep.txt", "\n" + '{"candidates":[{"content":{"parts":[{"text":"x"}]}}],"x":%s}' % deep_array(DEEP))

# ---- SSE parser -----------------------------------------------------------------------------
T = "routeall_sse_parser_fuzz"
write(T, "events.sse", "event: a\ndata: 1\ndata: 2\nid: 7\n\n: comment\nretry: 5\n\ndata:no-space\r\n\r\ndata\n\n")
write(T, "crlf.sse", "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\ndata: [DONE]\r\r")
write(T, "long_line.sse", "data: " + "x" * 100 + "\n\n")

# ---- Tokenizer ------------------------------------------------------------------------------
T = "routeall_tokenizer_fuzz"
write(T, "english.txt", "Hello, world! It's 2026 and I'm counting tokens:   spaces\n\nnewlines\ttabs 12345")
write(T, "unicode.txt", "日本語のテキスト, emojis 👩‍👩‍👧 and accents: café naïve — \u00a0nbsp")
write(T, "code.txt", "def f(x):\n    return x ** 2  # square\n\nif __name__ == '__main__':\n    print(f(3))\n")

# ---- Gateway HTTP requests (path, query, key, body) -------------------------------------------
T = "routeall_gateway_request_fuzz"


def http_req(method, target, headers, body=""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    if body or method == "POST":
        h += "Content-Length: %d\r\n" % len(body.encode())
    return "%s %s HTTP/1.1\r\nHost: gw\r\n%s\r\n%s" % (method, target, h, body)


write(T, "openai_chat.http", http_req("POST", "/v1/chat/completions",
                                      [("Authorization", "Bearer sk-ra-123"), ("Content-Type", "application/json")], dump(oa_min)))
write(T, "anthropic_messages.http", http_req("POST", "/v1/messages",
                                             [("x-api-key", "sk-ra-123"), ("anthropic-version", "2023-06-01")], dump(an_min)))
write(T, "anthropic_bearer.http", http_req("POST", "/v1/messages", [("Authorization", "bearer   sk-ra-1  ")], dump(an_min)))
write(T, "gemini_generate.http", http_req("POST", "/v1beta/models/gemini-2.5-pro:generateContent",
                                          [("x-goog-api-key", "sk-ra-123")], dump(ge_min)))
write(T, "gemini_stream_query_key.http", http_req("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=sk-ra-1",
                                                  [], dump(ge_min)))
write(T, "gemini_v1_bad_action.http", http_req("POST", "/v1/models/tunedModels/x:countTokens?key=&alt", [], dump(ge_min)))
write(T, "models_gemini.http", http_req("GET", "/v1beta/models?key=k&pageSize=5", []))
write(T, "models_anthropic.http", http_req("GET", "/v1/models", [("x-api-key", "k"), ("anthropic-version", "2023-06-01")]))
write(T, "usage.http", http_req("GET", "/v1/usage?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&limit=10",
                                [("Authorization", "Bearer k")]))
write(T, "admin.http", http_req("GET", "/admin/v1/usage?account_id=acct_1&&=x&account_id=2", [("Authorization", "Bearer a")]))
write(T, "chunked.http", "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer k\r\n"
      "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(dump(oa_min)), dump(oa_min)))
write("deep/" + T, "very_deep_body.http", http_req("POST", "/v1/messages", [("x-api-key", "k")],
                                                    with_raw(an_min, "x", deep_array(VERY_DEEP))))
write(T, "deep_body.http", http_req("POST", "/v1/chat/completions", [("Authorization", "Bearer k")],
                                    with_raw(oa_min, "x", deep_array(DEEP))))
