// Tests for the per-dialect wire rendering: usage semantics, stream framing and event order.
#include <gtest/gtest.h>

#include "chat_request.h"
#include "render.h"
#include "reply_plan.h"

namespace routeall::fake_upstream {
namespace {

Usage CacheUsage() {
  Usage u;
  u.prompt = 972;
  u.cached = 896;
  u.output = 10;
  return u;
}

TEST(UsageTest, OpenAiIncludesCachedInPromptAndReasoningInCompletion) {
  Usage u = CacheUsage();
  u.reasoning = 5;
  u.cache_write = 50;  // not representable in OpenAI usage
  Json j = OpenAiUsage(u, 1);
  EXPECT_EQ(j["prompt_tokens"], 972);
  EXPECT_EQ(j["prompt_tokens_details"]["cached_tokens"], 896);
  EXPECT_EQ(j["completion_tokens"], 15);
  EXPECT_EQ(j["completion_tokens_details"]["reasoning_tokens"], 5);
  EXPECT_EQ(j["total_tokens"], 987);
  EXPECT_EQ(j["completion_tokens_details"]["audio_tokens"], 0);
}

TEST(UsageTest, AnthropicExcludesCacheFromInputTokens) {
  Json j = AnthropicUsage(CacheUsage());
  EXPECT_EQ(j["input_tokens"], 76);
  EXPECT_EQ(j["cache_read_input_tokens"], 896);
  EXPECT_EQ(j["cache_creation_input_tokens"], 0);
  EXPECT_EQ(j["output_tokens"], 10);
  Usage u = CacheUsage();
  u.cache_write = 50;
  u.reasoning = 4;
  j = AnthropicUsage(u);
  EXPECT_EQ(j["input_tokens"], 26);
  EXPECT_EQ(j["cache_creation_input_tokens"], 50);
  EXPECT_EQ(j["output_tokens"], 14);
}

TEST(UsageTest, GeminiSeparatesThoughtsFromCandidates) {
  Usage u = CacheUsage();
  u.reasoning = 7;
  Json j = GeminiUsage(u, true, 0, 0);
  EXPECT_EQ(j["promptTokenCount"], 972);
  EXPECT_EQ(j["cachedContentTokenCount"], 896);
  EXPECT_EQ(j["candidatesTokenCount"], 10);
  EXPECT_EQ(j["thoughtsTokenCount"], 7);
  EXPECT_EQ(j["totalTokenCount"], 989);
  EXPECT_FALSE(GeminiUsage(Usage{}, true, 0, 0).contains("thoughtsTokenCount"));
}

ChatRequest ParseOpenAi(const std::string& body) {
  ChatRequest req;
  std::string error;
  EXPECT_TRUE(ParseOpenAiRequest(Json::parse(body), &req, &error)) << error;
  return req;
}

// Strips "data: " and the blank-line terminator from an OpenAI SSE event.
Json OpenAiData(const std::string& event) {
  EXPECT_EQ(event.rfind("data: ", 0), 0u);
  EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
  return Json::parse(event.substr(6, event.size() - 8));
}

TEST(OpenAiRenderTest, NonStreamingCompletionShape) {
  ChatRequest req = ParseOpenAi(R"({"model":"gpt-4o","n":2,"messages":[{"role":"user","content":"hi"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  Json body = Json::parse(RenderOpenAiCompletion(req, plan, RenderContext{7, 1700000000}));
  EXPECT_EQ(body["id"], "chatcmpl-fake7");
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "gpt-4o");
  ASSERT_EQ(body["choices"].size(), 2u);
  EXPECT_EQ(body["choices"][1]["index"], 1);
  EXPECT_EQ(body["choices"][0]["message"]["content"], plan.text);
  EXPECT_TRUE(body["choices"][0]["message"]["refusal"].is_null());
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["completion_tokens"], 2 * plan.usage.output);
}

TEST(OpenAiRenderTest, StreamEndsWithUsageChunkThenDone) {
  ChatRequest req = ParseOpenAi(
      R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},
          "messages":[{"role":"user","content":"hi"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  std::vector<StreamEvent> events = RenderOpenAiStream(req, plan, RenderContext{1, 1});
  ASSERT_EQ(events.size(), plan.pieces.size() + 4);  // role, pieces, finish, usage, DONE
  EXPECT_EQ(events.back().bytes, "data: [DONE]\n\n");

  Json first = OpenAiData(events[0].bytes);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(first["choices"][0]["delta"]["content"], "");
  std::string text;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    Json chunk = OpenAiData(events[i].bytes);
    ASSERT_TRUE(chunk.contains("usage"));
    EXPECT_TRUE(chunk["usage"].is_null());
    if (i >= 1 && i <= plan.pieces.size()) {
      EXPECT_TRUE(events[i].content);
      text += chunk["choices"][0]["delta"]["content"].get<std::string>();
    }
  }
  EXPECT_EQ(text, plan.text);
  Json finish = OpenAiData(events[events.size() - 3].bytes);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  Json usage = OpenAiData(events[events.size() - 2].bytes);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], plan.usage.output);
}

TEST(OpenAiRenderTest, StreamWithoutIncludeUsageOrWithOmitUsageHasNoUsage) {
  ChatRequest req = ParseOpenAi(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  for (const auto& e : RenderOpenAiStream(req, PlanReply(req, Knobs()), RenderContext{})) {
    EXPECT_EQ(e.bytes.find("usage"), std::string::npos);
  }
  req.include_usage = true;
  Knobs knobs;
  knobs.omit_usage = 1;
  for (const auto& e : RenderOpenAiStream(req, PlanReply(req, knobs), RenderContext{})) {
    EXPECT_EQ(e.bytes.find("usage"), std::string::npos);
  }
}

TEST(OpenAiRenderTest, ToolCallStreamNamesCallThenStreamsArguments) {
  ChatRequest req = ParseOpenAi(R"({"model":"m","stream":true,"tools":[{"type":"function","function":
      {"name":"lookup","parameters":{"type":"object","properties":{"query":{"type":"string"},
      "limit":{"type":"integer"}},"required":["query","limit"]}}}],
      "messages":[{"role":"user","content":"find"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  std::vector<StreamEvent> events = RenderOpenAiStream(req, plan, RenderContext{3, 1});
  Json first = OpenAiData(events[0].bytes);
  const Json& call = first["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(call["index"], 0);
  EXPECT_EQ(call["id"], "call_fake3_0");
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "lookup");
  std::string args;
  for (size_t i = 1; i + 2 < events.size(); ++i) {
    Json chunk = OpenAiData(events[i].bytes);
    args += chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(args, R"({"query":"test","limit":1})");
  EXPECT_GT(events.size(), 4u);  // arguments arrive in several fragments
  EXPECT_EQ(OpenAiData(events[events.size() - 2].bytes)["choices"][0]["finish_reason"], "tool_calls");
}

TEST(OpenAiRenderTest, ErrorBodies) {
  Json e = Json::parse(RenderOpenAiError(429, "slow down"));
  EXPECT_EQ(e["error"]["message"], "slow down");
  EXPECT_EQ(e["error"]["code"], "rate_limit_exceeded");
  EXPECT_TRUE(e["error"]["param"].is_null());
  EXPECT_EQ(Json::parse(RenderOpenAiError(500, "x"))["error"]["type"], "server_error");
}

ChatRequest ParseAnthropic(const std::string& body) {
  ChatRequest req;
  std::string error;
  EXPECT_TRUE(ParseAnthropicRequest(Json::parse(body), &req, &error)) << error;
  return req;
}

struct ParsedEvent {
  std::string name;
  Json data;
};

ParsedEvent ParseAnthropicEvent(const std::string& bytes) {
  const size_t newline = bytes.find('\n');
  EXPECT_EQ(bytes.rfind("event: ", 0), 0u);
  EXPECT_EQ(bytes.substr(newline + 1, 6), "data: ");
  EXPECT_EQ(bytes.substr(bytes.size() - 2), "\n\n");
  ParsedEvent e{bytes.substr(7, newline - 7), Json::parse(bytes.substr(newline + 7))};
  EXPECT_EQ(e.data["type"], e.name);  // the data's type always repeats the event name
  return e;
}

TEST(AnthropicRenderTest, StreamEventOrderIsExact) {
  ChatRequest req = ParseAnthropic(
      R"({"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  Knobs knobs;
  knobs.prompt_tokens = 972;
  knobs.cached_tokens = 896;
  ReplyPlan plan = PlanReply(req, knobs);
  std::vector<StreamEvent> events = RenderAnthropicStream(req, plan, RenderContext{5, 1});
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(ParseAnthropicEvent(e.bytes).name);
  std::vector<std::string> expected = {"message_start", "content_block_start", "ping"};
  for (size_t i = 0; i < plan.pieces.size(); ++i) expected.push_back("content_block_delta");
  expected.insert(expected.end(), {"content_block_stop", "message_delta", "message_stop"});
  EXPECT_EQ(names, expected);

  Json start = ParseAnthropicEvent(events[0].bytes).data;
  EXPECT_EQ(start["message"]["id"], "msg_fake5");
  EXPECT_TRUE(start["message"]["content"].empty());
  EXPECT_EQ(start["message"]["usage"]["input_tokens"], 76);
  EXPECT_EQ(start["message"]["usage"]["cache_read_input_tokens"], 896);
  EXPECT_EQ(start["message"]["usage"]["output_tokens"], 1);
  EXPECT_EQ(ParseAnthropicEvent(events[1].bytes).data["content_block"]["type"], "text");
  EXPECT_EQ(ParseAnthropicEvent(events[3].bytes).data["delta"]["type"], "text_delta");
  Json delta = ParseAnthropicEvent(events[events.size() - 2].bytes).data;
  EXPECT_EQ(delta["delta"]["stop_reason"], "end_turn");
  EXPECT_TRUE(delta["delta"]["stop_sequence"].is_null());
  EXPECT_EQ(delta["usage"]["output_tokens"], plan.usage.output);
}

TEST(AnthropicRenderTest, ThinkingAndToolUseBlocksStreamInOrder) {
  ChatRequest req = ParseAnthropic(R"({"model":"c","max_tokens":100,"stream":true,
      "tools":[{"name":"get_time","input_schema":{"type":"object","properties":{"tz":{"type":"string"}},
        "required":["tz"]}}],
      "messages":[{"role":"user","content":"time?"}]})");
  Knobs knobs;
  knobs.reasoning_tokens = 3;
  ReplyPlan plan = PlanReply(req, knobs);
  std::vector<StreamEvent> events = RenderAnthropicStream(req, plan, RenderContext{2, 1});
  std::vector<std::string> sequence;
  std::string partial_json;
  for (const auto& e : events) {
    ParsedEvent p = ParseAnthropicEvent(e.bytes);
    std::string item = p.name;
    if (p.name == "content_block_start") item += ":" + p.data["content_block"]["type"].get<std::string>();
    if (p.name == "content_block_delta") {
      item = p.data["delta"]["type"].get<std::string>() + "@" + std::to_string(p.data["index"].get<int>());
      if (p.data["delta"]["type"] == "input_json_delta") {
        partial_json += p.data["delta"]["partial_json"].get<std::string>();
        continue;
      }
    }
    sequence.push_back(item);
  }
  std::vector<std::string> expected = {
      "message_start", "content_block_start:thinking", "ping", "thinking_delta@0", "thinking_delta@0",
      "thinking_delta@0", "signature_delta@0", "content_block_stop", "content_block_start:tool_use",
      "content_block_stop", "message_delta", "message_stop"};
  EXPECT_EQ(sequence, expected);
  EXPECT_EQ(Json::parse(partial_json), Json::parse(R"({"tz":"test"})"));
  Json delta = ParseAnthropicEvent(events[events.size() - 2].bytes).data;
  EXPECT_EQ(delta["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(delta["usage"]["output_tokens"], 1 + 3);
}

TEST(AnthropicRenderTest, NonStreamingMessageWithStopSequence) {
  ChatRequest req = ParseAnthropic(R"({"model":"claude-x","max_tokens":100,"stop_sequences":["model"],
      "messages":[{"role":"user","content":"hi"}]})");
  Knobs knobs;
  knobs.reasoning_tokens = 2;
  knobs.cache_write_tokens = 3;
  ReplyPlan plan = PlanReply(req, knobs);
  Json body = Json::parse(RenderAnthropicMessage(req, plan, RenderContext{9, 1}));
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["content"][0]["type"], "thinking");
  EXPECT_EQ(body["content"][0]["thinking"], "think think");
  EXPECT_FALSE(body["content"][0]["signature"].get<std::string>().empty());
  EXPECT_EQ(body["content"][1]["text"], "Hello from fake anthropic ");
  EXPECT_EQ(body["stop_reason"], "stop_sequence");
  EXPECT_EQ(body["stop_sequence"], "model");
  EXPECT_EQ(body["usage"]["input_tokens"], req.prompt_tokens - 3);
  EXPECT_EQ(body["usage"]["cache_creation_input_tokens"], 3);
  EXPECT_EQ(body["usage"]["output_tokens"], 4 + 2);
}

TEST(AnthropicRenderTest, ErrorTypesByStatus) {
  EXPECT_EQ(Json::parse(RenderAnthropicError(529, "x"))["error"]["type"], "overloaded_error");
  EXPECT_EQ(Json::parse(RenderAnthropicError(429, "x"))["error"]["type"], "rate_limit_error");
  EXPECT_EQ(Json::parse(RenderAnthropicError(500, "x"))["type"], "error");
  EXPECT_EQ(AnthropicErrorType(401), "authentication_error");
}

ChatRequest ParseGemini(const std::string& body, bool stream) {
  ChatRequest req;
  std::string error;
  EXPECT_TRUE(ParseGeminiRequest(Json::parse(body), "gemini-2.5-flash", stream, &req, &error)) << error;
  return req;
}

TEST(GeminiRenderTest, SseChunksCarryUsageAndLastIsComplete) {
  ChatRequest req = ParseGemini(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],
      "generationConfig":{"maxOutputTokens":4}})", true);
  Knobs knobs;
  knobs.reasoning_tokens = 2;
  ReplyPlan plan = PlanReply(req, knobs);
  std::vector<StreamEvent> events = RenderGeminiStream(req, plan, RenderContext{4, 1}, true);
  ASSERT_EQ(events.size(), 2u + 4u);  // two thought chunks, four words
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& bytes = events[i].bytes;
    ASSERT_EQ(bytes.rfind("data: ", 0), 0u);
    ASSERT_EQ(bytes.substr(bytes.size() - 4), "\r\n\r\n");
    Json chunk = Json::parse(bytes.substr(6, bytes.size() - 10));
    ASSERT_TRUE(chunk.contains("usageMetadata"));
    EXPECT_EQ(chunk["usageMetadata"]["promptTokenCount"], req.prompt_tokens);
    const Json& candidate = chunk["candidates"][0];
    EXPECT_EQ(candidate["content"]["role"], "model");
    const Json& part = candidate["content"]["parts"][0];
    if (i < 2) {
      EXPECT_EQ(part["thought"], true);
    } else {
      text += part["text"].get<std::string>();
    }
    EXPECT_EQ(candidate.contains("finishReason"), i + 1 == events.size());
    if (i + 1 == events.size()) {
      EXPECT_EQ(candidate["finishReason"], "MAX_TOKENS");
      EXPECT_EQ(chunk["usageMetadata"]["candidatesTokenCount"], 4);
      EXPECT_EQ(chunk["usageMetadata"]["thoughtsTokenCount"], 2);
      EXPECT_EQ(chunk["usageMetadata"]["totalTokenCount"], req.prompt_tokens + 6);
    }
  }
  EXPECT_EQ(text, "Hello from fake gemini");
}

TEST(GeminiRenderTest, FunctionCallResponse) {
  ChatRequest req = ParseGemini(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],
      "tools":[{"functionDeclarations":[{"name":"find","parameters":{"type":"OBJECT",
        "properties":{"q":{"type":"STRING"},"exact":{"type":"BOOLEAN"}},"required":["q","exact"]}}]}]})",
                                false);
  ReplyPlan plan = PlanReply(req, Knobs());
  Json body = Json::parse(RenderGeminiResponse(req, plan, RenderContext{1, 1}));
  const Json& call = body["candidates"][0]["content"]["parts"][0]["functionCall"];
  EXPECT_EQ(call["name"], "find");
  EXPECT_EQ(call["args"], Json::parse(R"({"q":"test","exact":true})"));
  EXPECT_EQ(body["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(body["responseId"], "fakeresp1");
}

TEST(GeminiRenderTest, ErrorStatusNames) {
  Json e = Json::parse(RenderGeminiError(429, "quota"));
  EXPECT_EQ(e["error"]["code"], 429);
  EXPECT_EQ(e["error"]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(GeminiStatus(503), "UNAVAILABLE");
  EXPECT_EQ(GeminiStatus(500), "INTERNAL");
}

}  // namespace
}  // namespace routeall::fake_upstream
