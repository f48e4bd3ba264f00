// Tests for text helpers, knobs/directives, request parsing, reply planning and request routing.
#include <gtest/gtest.h>

#include "chat_request.h"
#include "fake_upstream.h"
#include "knobs.h"
#include "reply_plan.h"
#include "text_util.h"

namespace routeall::fake_upstream {
namespace {

TEST(TextUtilTest, SplitWordsPreservesSpacingAndCountsWords) {
  const std::string text = "Hello  from\nfake model. ";
  std::vector<std::string> pieces = SplitWords(text);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[0], "Hello");
  EXPECT_EQ(pieces[1], "  from");
  EXPECT_EQ(pieces[3], " model. ");
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, text);
  EXPECT_EQ(CountWords(text), 4);
  EXPECT_EQ(CountWords("   "), 0);
  EXPECT_TRUE(SplitWords("").empty());
}

TEST(TextUtilTest, TruncateUtf8KeepsWholeCodePoints) {
  EXPECT_EQ(TruncateUtf8("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(TruncateUtf8("abc", 10), "abc");
  for (const auto& piece : ChunkUtf8("\xC3\xA9\xC3\xA9\xC3\xA9", 3)) {
    EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80u);
  }
}

TEST(DirectiveTest, ParsesKeyValuesAndLaterDirectivesWin) {
  auto d = ParseDirective("hi [[fake status=429 latency_ms=5]] and [[fake status=503 words=3]]");
  EXPECT_EQ(d["status"], "503");
  EXPECT_EQ(d["latency_ms"], "5");
  EXPECT_EQ(d["words"], "3");
  EXPECT_TRUE(ParseDirective("no directive [[fakeish x=1]] [[fake unterminated").empty());
  EXPECT_EQ(StripDirectives("  say hi [[fake words=2]] please "), "say hi  please");
}

TEST(DirectiveTest, ApplyIgnoresUnknownAndBadValues) {
  Knobs knobs;
  ApplyDirective({{"bogus", "1"}, {"ttft_ms", "abc"}, {"reasoning_tokens", "4"}}, &knobs);
  EXPECT_FALSE(knobs.ttft_ms.has_value());
  EXPECT_EQ(knobs.reasoning_tokens.value_or(-1), 4);
}

TEST(KnobsTest, JsonParsingAndOverlayPrecedence) {
  Knobs base;
  std::string error;
  ASSERT_TRUE(ParseKnobsJson(Json::parse(R"({"latency_ms":10,"omit_usage":true,"status":"500"})"), &base, &error));
  EXPECT_EQ(*base.omit_usage, 1);
  EXPECT_EQ(*base.status, 500);
  Knobs top;
  top.latency_ms = 99;
  base.OverlayWith(top);
  EXPECT_EQ(*base.latency_ms, 99);
  EXPECT_EQ(*base.status, 500);  // untouched by the overlay
  EXPECT_FALSE(ParseKnobsJson(Json::parse(R"({"latncy_ms":1})"), &base, &error));
  EXPECT_NE(error.find("latncy_ms"), std::string::npos);
  EXPECT_FALSE(ParseKnobsJson(Json::parse(R"([1])"), &base, &error));
}

// The same conversation must cost the same prompt tokens in every dialect.
TEST(ChatRequestTest, PromptTokensAgreeAcrossDialects) {
  ChatRequest openai, anthropic, gemini;
  std::string error;
  ASSERT_TRUE(ParseOpenAiRequest(Json::parse(R"({"model":"m","messages":[
      {"role":"system","content":"You are helpful"},
      {"role":"user","content":[{"type":"text","text":"hello there"}]}]})"),
                                 &openai, &error));
  ASSERT_TRUE(ParseAnthropicRequest(Json::parse(R"({"model":"m","max_tokens":5,"system":"You are helpful",
      "messages":[{"role":"user","content":"hello there"}]})"),
                                    &anthropic, &error));
  ASSERT_TRUE(ParseGeminiRequest(Json::parse(R"({"systemInstruction":{"parts":[{"text":"You are helpful"}]},
      "contents":[{"role":"user","parts":[{"text":"hello there"}]}]})"),
                                 "gemini-x", false, &gemini, &error));
  EXPECT_EQ(openai.prompt_tokens, 3 + 3 + 3 + 2);
  EXPECT_EQ(anthropic.prompt_tokens, openai.prompt_tokens);
  EXPECT_EQ(gemini.prompt_tokens, openai.prompt_tokens);
  EXPECT_EQ(openai.last_user_text, "hello there");
  EXPECT_EQ(gemini.model, "gemini-x");
}

TEST(ChatRequestTest, RejectsMalformedRequests) {
  ChatRequest req;
  std::string error;
  EXPECT_FALSE(ParseAnthropicRequest(Json::parse(R"({"model":"m","messages":[]})"), &req, &error));
  EXPECT_NE(error.find("max_tokens"), std::string::npos);
  EXPECT_FALSE(ParseOpenAiRequest(Json::parse(R"({"messages":[{"role":"user","content":"x"}]})"), &req, &error));
  EXPECT_FALSE(ParseGeminiRequest(Json::parse(R"({"contents":[]})"), "g", false, &req, &error));
}

ChatRequest OpenAiRequest(const std::string& body) {
  ChatRequest req;
  std::string error;
  EXPECT_TRUE(ParseOpenAiRequest(Json::parse(body), &req, &error)) << error;
  return req;
}

TEST(ReplyPlanTest, EchoesLastUserTextWithoutDirective) {
  ChatRequest req = OpenAiRequest(
      R"({"model":"gpt-x","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},
          {"role":"user","content":"ping me [[fake latency_ms=1]]"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  EXPECT_EQ(plan.text, "Hello from fake openai model gpt-x. You said: ping me");
  EXPECT_EQ(plan.finish, Finish::kStop);
  EXPECT_EQ(plan.usage.output, 10);
  EXPECT_EQ(plan.pieces.size(), 10u);
}

TEST(ReplyPlanTest, EchoIsTruncatedTo200Chars) {
  ChatRequest req = OpenAiRequest(R"({"model":"m","messages":[{"role":"user","content":")" +
                                  std::string(500, 'a') + R"("}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  EXPECT_EQ(plan.text, "Hello from fake openai model m. You said: " + std::string(200, 'a'));
}

TEST(ReplyPlanTest, MaxTokensTruncatesWithLengthFinish) {
  ChatRequest req = OpenAiRequest(R"({"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  EXPECT_EQ(plan.text, "Hello from fake");
  EXPECT_EQ(plan.finish, Finish::kLength);
  EXPECT_EQ(plan.usage.output, 3);
}

TEST(ReplyPlanTest, StopSequenceCutsBeforeIt) {
  ChatRequest req =
      OpenAiRequest(R"({"model":"m","stop":["zzz","model"],"messages":[{"role":"user","content":"hi"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  EXPECT_EQ(plan.text, "Hello from fake openai ");
  EXPECT_EQ(plan.finish, Finish::kStopSequence);
  EXPECT_EQ(plan.matched_stop, "model");
  EXPECT_EQ(plan.usage.output, 4);
  // max_tokens reached before the stop sequence wins.
  req.max_tokens = 2;
  plan = PlanReply(req, Knobs());
  EXPECT_EQ(plan.finish, Finish::kLength);
  EXPECT_EQ(plan.text, "Hello from");
}

TEST(ReplyPlanTest, WordsKnobAndUsageOverrides) {
  ChatRequest req = OpenAiRequest(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  Knobs knobs;
  knobs.words = 5;
  knobs.prompt_tokens = 972;
  knobs.cached_tokens = 896;
  knobs.reasoning_tokens = 2;
  ReplyPlan plan = PlanReply(req, knobs);
  EXPECT_EQ(plan.text, "w1 w2 w3 w4 w5");
  EXPECT_EQ(plan.usage.output, 5);
  EXPECT_EQ(plan.usage.prompt, 972);
  EXPECT_EQ(plan.usage.cached, 896);
  EXPECT_EQ(plan.thinking_pieces.size(), 2u);
  knobs.completion_tokens = 40;
  EXPECT_EQ(PlanReply(req, knobs).usage.output, 40);
}

TEST(ReplyPlanTest, SynthesizesArgumentsFromRequiredProperties) {
  Json schema = Json::parse(R"({"type":"object","properties":{
      "city":{"type":"string"},"days":{"type":"INTEGER"},"metric":{"type":"boolean"},
      "note":{"type":"string"},"temp":{"type":["number","null"]}},
      "required":["city","days","metric","temp"]})");
  Json args = SynthesizeArguments(schema);
  EXPECT_EQ(DumpJson(args), R"({"city":"test","days":1,"metric":true,"temp":1})");
  EXPECT_EQ(DumpJson(SynthesizeArguments(Json())), "{}");
}

TEST(ReplyPlanTest, ToolsTriggerCallUnlessLastMessageIsToolResult) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
          "properties":{"city":{"type":"string"}},"required":["city"]}}},
          {"type":"function","function":{"name":"other"}}])";
  ChatRequest req = OpenAiRequest(R"({"model":"m",)" + tools +
                                  R"(,"messages":[{"role":"user","content":"weather?"}]})");
  ReplyPlan plan = PlanReply(req, Knobs());
  ASSERT_TRUE(plan.tool_call.has_value());
  EXPECT_EQ(plan.tool_call->name, "get_weather");
  EXPECT_EQ(plan.tool_call->arguments_json, R"({"city":"test"})");
  EXPECT_EQ(plan.finish, Finish::kToolCall);
  EXPECT_EQ(plan.usage.output, 1);

  req = OpenAiRequest(R"({"model":"m",)" + tools + R"(,"messages":[{"role":"user","content":"weather?"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"get_weather","arguments":"{\"city\":\"test\"}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"sunny and 20C"}]})");
  plan = PlanReply(req, Knobs());
  EXPECT_FALSE(plan.tool_call.has_value());
  EXPECT_EQ(plan.text, "Tool result received: sunny and 20C");

  req = OpenAiRequest(R"({"model":"m","tool_choice":"none",)" + tools +
                      R"(,"messages":[{"role":"user","content":"weather?"}]})");
  EXPECT_FALSE(PlanReply(req, Knobs()).tool_call.has_value());
}

TEST(ReplyPlanTest, AnthropicAndGeminiToolResultsAreDetected) {
  ChatRequest req;
  std::string error;
  ASSERT_TRUE(ParseAnthropicRequest(Json::parse(R"({"model":"c","max_tokens":9,
      "tools":[{"name":"t","input_schema":{"type":"object"}}],
      "messages":[{"role":"user","content":"go"},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"t","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
          "content":[{"type":"text","text":"42 apples"}]}]}]})"),
                                    &req, &error));
  EXPECT_EQ(PlanReply(req, Knobs()).text, "Tool result received: 42 apples");
  ASSERT_TRUE(ParseGeminiRequest(Json::parse(R"({"contents":[{"role":"user","parts":[{"text":"go"}]},
      {"role":"model","parts":[{"functionCall":{"name":"t","args":{}}}]},
      {"role":"user","parts":[{"functionResponse":{"name":"t","response":{"n":42}}}]}],
      "tools":[{"functionDeclarations":[{"name":"t"}]}]})"),
                                 "g", false, &req, &error));
  EXPECT_EQ(PlanReply(req, Knobs()).text, R"(Tool result received: {"n":42})");
}

TEST(ReplyPlanTest, GeminiSchemaMayComeAsParametersJsonSchema) {
  // google-genai sends Python-function tools as snake_case parameters_json_schema.
  ChatRequest req;
  std::string error;
  ASSERT_TRUE(ParseGeminiRequest(Json::parse(R"({"contents":[{"role":"user","parts":[{"text":"go"}]}],
      "tools":[{"functionDeclarations":[{"name":"get_weather","parameters_json_schema":{"type":"object",
        "properties":{"city":{"type":"string"}},"required":["city"]}}]}]})"),
                                 "g", false, &req, &error));
  ReplyPlan plan = PlanReply(req, Knobs());
  ASSERT_TRUE(plan.tool_call.has_value());
  EXPECT_EQ(plan.tool_call->arguments_json, R"({"city":"test"})");
}

// --- FakeUpstream routing ---

HttpRequest Post(const std::string& target, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.headers = std::move(headers);
  r.body = body;
  return r;
}

HttpRequest Get(const std::string& target) {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  return r;
}

const char kOpenAiBody[] = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";
const char kAnthropicBody[] =
    R"({"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":"hi"}]})";
const char kGeminiBody[] = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";

std::string HeaderOf(const ResponsePlan& plan, const std::string& name) {
  for (const auto& [k, v] : plan.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(FakeUpstreamTest, AuthenticatesEachDialectWithItsOwnCredential) {
  Options options;
  options.api_key = "sekret";
  FakeUpstream app(options);
  ResponsePlan p = app.Handle(Post("/v1/chat/completions", kOpenAiBody));
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(Json::parse(p.body)["error"]["code"], "invalid_api_key");
  p = app.Handle(Post("/v1/chat/completions", kOpenAiBody, {{"authorization", "Bearer sekret"}}));
  EXPECT_EQ(p.status, 200);

  p = app.Handle(Post("/v1/messages", kAnthropicBody, {{"anthropic-version", "2023-06-01"}}));
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(Json::parse(p.body)["error"]["type"], "authentication_error");
  p = app.Handle(Post("/v1/messages", kAnthropicBody, {{"anthropic-version", "2023-06-01"}, {"x-api-key", "sekret"}}));
  EXPECT_EQ(p.status, 200);

  p = app.Handle(Post("/v1beta/models/gemini-2.0-flash:generateContent", kGeminiBody));
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(Json::parse(p.body)["error"]["status"], "UNAUTHENTICATED");
  p = app.Handle(Post("/v1beta/models/gemini-2.0-flash:generateContent?key=sekret", kGeminiBody));
  EXPECT_EQ(p.status, 200);
  p = app.Handle(Post("/v1/models/gemini-2.0-flash:generateContent", kGeminiBody, {{"x-goog-api-key", "sekret"}}));
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(Json::parse(p.body)["modelVersion"], "gemini-2.0-flash");
}

TEST(FakeUpstreamTest, BadRequestsGetDialectErrors) {
  FakeUpstream app(Options{});
  ResponsePlan p = app.Handle(Post("/v1/messages", kAnthropicBody));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(Json::parse(p.body)["error"]["type"], "invalid_request_error");
  p = app.Handle(Post("/v1/chat/completions", "{not json"));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(Json::parse(p.body)["error"]["type"], "invalid_request_error");
  p = app.Handle(Post("/v1beta/models/g:generateContent", "[1,"));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(Json::parse(p.body)["error"]["status"], "INVALID_ARGUMENT");
  p = app.Handle(Post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})"));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(app.Handle(Get("/nope")).status, 404);
}

TEST(FakeUpstreamTest, InstancesHaveSeparateKnobsAndStats) {
  FakeUpstream app(Options{});
  ResponsePlan p = app.Handle(Post("/_fake/config/chanA", R"({"status":503})"));
  ASSERT_EQ(p.status, 200);
  EXPECT_EQ(app.Handle(Post("/x/chanA/v1/chat/completions", kOpenAiBody)).status, 503);
  EXPECT_EQ(app.Handle(Post("/v1/chat/completions", kOpenAiBody)).status, 200);
  EXPECT_EQ(app.Handle(Post("/x/chanB/v1/chat/completions", kOpenAiBody)).status, 200);

  Json stats = Json::parse(app.Handle(Get("/_fake/stats/chanA")).body);
  EXPECT_EQ(stats["requests"], 1);
  EXPECT_EQ(stats["by_path"]["/v1/chat/completions"], 1);
  Json last = Json::parse(app.Handle(Get("/_fake/last/chanA")).body);
  EXPECT_EQ(last["path"], "/x/chanA/v1/chat/completions");
  EXPECT_EQ(last["body"]["model"], "gpt-4o");

  EXPECT_EQ(app.Handle(Post("/_fake/config/chanA", "{}")).status, 200);
  EXPECT_EQ(app.Handle(Post("/x/chanA/v1/chat/completions", kOpenAiBody)).status, 200);
  EXPECT_EQ(app.Handle(Post("/_fake/config/chanA", R"({"nope":1})")).status, 400);

  EXPECT_EQ(app.Handle(Post("/_fake/reset", "")).status, 200);
  EXPECT_EQ(Json::parse(app.Handle(Get("/_fake/stats/chanA")).body)["requests"], 0);
  EXPECT_EQ(app.Handle(Get("/_fake/last/chanA")).status, 404);
}

TEST(FakeUpstreamTest, FailFirstNFailsThenRecovers) {
  FakeUpstream app(Options{});
  app.Handle(Post("/_fake/config/flaky", R"({"fail_first_n":2,"status":429})"));
  ResponsePlan p = app.Handle(Post("/x/flaky/v1/messages", kAnthropicBody, {{"anthropic-version", "2023-06-01"}}));
  EXPECT_EQ(p.status, 429);
  EXPECT_EQ(HeaderOf(p, "retry-after"), "1");
  EXPECT_EQ(Json::parse(p.body)["error"]["type"], "rate_limit_error");
  EXPECT_EQ(app.Handle(Post("/x/flaky/v1/chat/completions", kOpenAiBody)).status, 429);
  EXPECT_EQ(app.Handle(Post("/x/flaky/v1/chat/completions", kOpenAiBody)).status, 200);
  EXPECT_EQ(app.Handle(Post("/x/flaky/v1/chat/completions", kOpenAiBody)).status, 200);
}

TEST(FakeUpstreamTest, DirectiveOverridesInstanceAndDefaults) {
  Options options;
  options.default_knobs.latency_ms = 7;
  FakeUpstream app(options);
  app.Handle(Post("/_fake/config/default", R"({"ttft_ms":20,"chunk_delay_ms":3})"));
  ResponsePlan p = app.Handle(Post("/v1/chat/completions",
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x [[fake ttft_ms=50]]"}]})"));
  EXPECT_EQ(p.latency_ms, 7);
  EXPECT_EQ(p.ttft_ms, 50);
  EXPECT_EQ(p.chunk_delay_ms, 3);
  EXPECT_TRUE(p.streaming);
  p = app.Handle(Post("/v1/chat/completions",
      R"({"model":"m","messages":[{"role":"user","content":"x [[fake status=529]]"}]})"));
  EXPECT_EQ(p.status, 529);
  p = app.Handle(Post("/v1/chat/completions",
      R"({"model":"m","messages":[{"role":"user","content":"x [[fake reset=1]]"}]})"));
  EXPECT_TRUE(p.reset_connection);
}

TEST(FakeUpstreamTest, FailAfterChunksAbortsAfterNthContentEvent) {
  FakeUpstream app(Options{});
  ResponsePlan p = app.Handle(Post("/v1/chat/completions",
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"[[fake words=6 fail_after_chunks=2]]"}]})"));
  ASSERT_TRUE(p.abort_after.has_value());
  // role chunk + 2 content chunks, then the socket closes.
  EXPECT_EQ(*p.abort_after, 3u);
  EXPECT_NE(p.chunks[2].find(R"("content":" w2")"), std::string::npos);
}

TEST(FakeUpstreamTest, ErrorEventAfterChunksEndsStreamWithDialectError) {
  FakeUpstream app(Options{});
  ResponsePlan p = app.Handle(Post("/v1/messages",
      R"({"model":"c","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"[[fake words=5 error_event_after_chunks=1]]"}]})",
      {{"anthropic-version", "2023-06-01"}}));
  ASSERT_EQ(p.chunks.size(), 5u);  // message_start, block_start, ping, 1 delta, error
  EXPECT_EQ(p.chunks.back().rfind("event: error\ndata: ", 0), 0u);
  EXPECT_NE(p.chunks.back().find("overloaded_error"), std::string::npos);

  p = app.Handle(Post("/v1beta/models/g:streamGenerateContent?alt=sse",
      R"({"contents":[{"parts":[{"text":"[[fake words=5 error_event_after_chunks=2]]"}]}]})"));
  ASSERT_EQ(p.chunks.size(), 3u);
  EXPECT_NE(p.chunks.back().find(R"("status":"INTERNAL")"), std::string::npos);
}

TEST(FakeUpstreamTest, GeminiStreamWithoutAltSseIsAJsonArray) {
  FakeUpstream app(Options{});
  ResponsePlan p = app.Handle(Post("/v1beta/models/g:streamGenerateContent",
      R"({"contents":[{"parts":[{"text":"[[fake words=3]]"}]}]})"));
  std::string all;
  for (const auto& c : p.chunks) all += c;
  Json array = Json::parse(all);
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.size(), 3u);
  EXPECT_EQ(array[2]["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(HeaderOf(p, "content-type"), "application/json; charset=UTF-8");
}

TEST(FakeUpstreamTest, ModelsAndCountTokensEndpoints) {
  FakeUpstream app(Options{});
  EXPECT_EQ(Json::parse(app.Handle(Get("/v1/models")).body)["object"], "list");
  HttpRequest anthropic_models = Get("/v1/models");
  anthropic_models.headers["anthropic-version"] = "2023-06-01";
  EXPECT_EQ(Json::parse(app.Handle(anthropic_models).body)["data"][0]["type"], "model");
  EXPECT_TRUE(Json::parse(app.Handle(Get("/v1beta/models")).body).contains("models"));
  ResponsePlan p = app.Handle(Post("/v1/messages/count_tokens",
      R"({"model":"c","messages":[{"role":"user","content":"one two"}]})", {{"anthropic-version", "2023-06-01"}}));
  EXPECT_EQ(Json::parse(p.body)["input_tokens"], 5);
  EXPECT_EQ(app.Handle(Get("/healthz")).body, "ok");
}

}  // namespace
}  // namespace routeall::fake_upstream
