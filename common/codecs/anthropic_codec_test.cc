// Anthropic codec: validation names the field, mappings round-trip both ways, usage keeps
// its meaning (input_tokens excludes cache), streams re-encode to the exact event sequence.
#include "common/codecs/anthropic_codec.h"

#include "common/codecs/validation_case_test_util.h"

#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "common/codecs/openai_codec.h"

namespace routeall::codecs::anthropic {
namespace {

using nlohmann::json;
namespace v1 = ::routeall::llm::v1;

std::optional<ApiError> Decode(const json& body, v1::ChatRequest* out) { return DecodeMessagesRequest(body.dump(), out); }

json Minimal() {
  return {{"model", "claude-sonnet-4-5"}, {"max_tokens", 100}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
}

// (event name, data) pairs of an SSE text.
std::vector<std::pair<std::string, json>> ParseSse(const std::string& text) {
  std::vector<std::pair<std::string, json>> out;
  std::istringstream in(text);
  std::string line, event;
  while (std::getline(in, line)) {
    if (line.rfind("event: ", 0) == 0) event = line.substr(7);
    if (line.rfind("data: ", 0) == 0) out.emplace_back(event, json::parse(line.substr(6)));
  }
  return out;
}

TEST(AnthropicCodecTest, DecodesAFullRequest) {
  json body = {
      {"model", "claude-sonnet-4-5"},
      {"max_tokens", 4096},
      {"system", {{{"type", "text"}, {"text", "be brief"}}, {{"type", "text"}, {"text", "be kind"}}}},
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "what is this?"}},
           {{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "iVBOR"}}}},
           {{"type", "image"}, {"source", {{"type", "url"}, {"url", "https://x/y.png"}}}}}}},
        {{"role", "assistant"},
         {"content",
          {{{"type", "thinking"}, {"thinking", "hmm"}, {"signature", "sig1"}},
           {{"type", "redacted_thinking"}, {"data", "opaque"}},
           {{"type", "text"}, {"text", "let me look"}},
           {{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "look"}, {"input", {{"a", 1}}}},
           {{"type", "tool_use"}, {"id", "toolu_2"}, {"name", "look"}, {"input", {{"a", 2}}}}}}},
        {{"role", "user"},
         {"content",
          {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "a cat"}},
           {{"type", "tool_result"}, {"tool_use_id", "toolu_2"}, {"content", {{{"type", "text"}, {"text", "no"}}}}, {"is_error", true}},
           {{"type", "text"}, {"text", "thanks"}}}}}}},
      {"temperature", 0.5}, {"top_p", 0.9}, {"top_k", 40}, {"stop_sequences", {"END"}}, {"stream", true},
      {"metadata", {{"user_id", "u1"}}},
      {"tools", {{{"name", "look"}, {"description", "looks"}, {"input_schema", {{"type", "object"}}}}}},
      {"tool_choice", {{"type", "tool"}, {"name", "look"}, {"disable_parallel_tool_use", true}}},
      {"thinking", {{"type", "enabled"}, {"budget_tokens", 2048}}},
      {"service_tier", "auto"}};
  v1::ChatRequest req;
  auto err = Decode(body, &req);
  ASSERT_FALSE(err.has_value()) << err->message;
  EXPECT_EQ(req.source_dialect(), v1::DIALECT_ANTHROPIC);
  EXPECT_EQ(req.max_tokens(), 4096);
  ASSERT_EQ(req.messages_size(), 6);
  EXPECT_EQ(req.messages(0).role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(req.messages(0).parts_size(), 2);
  const auto& user = req.messages(1);
  ASSERT_EQ(user.parts_size(), 3);
  EXPECT_EQ(user.parts(1).image().mime_type(), "image/png");
  EXPECT_EQ(user.parts(1).image().data_base64(), "iVBOR");
  EXPECT_EQ(user.parts(2).image().url(), "https://x/y.png");
  const auto& asst = req.messages(2);
  EXPECT_EQ(asst.role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(asst.parts_size(), 3);
  EXPECT_EQ(asst.parts(0).thinking().text(), "hmm");
  EXPECT_EQ(asst.parts(0).thinking().signature(), "sig1");
  EXPECT_EQ(asst.parts(1).thinking().redacted_data(), "opaque");
  ASSERT_EQ(asst.tool_calls_size(), 2);
  EXPECT_EQ(asst.tool_calls(0).id(), "toolu_1");
  EXPECT_EQ(json::parse(asst.tool_calls(1).arguments_json()), json({{"a", 2}}));
  // Tool results become tool messages first, then the rest of the user turn.
  EXPECT_EQ(req.messages(3).role(), v1::ROLE_TOOL);
  EXPECT_EQ(req.messages(3).tool_call_id(), "toolu_1");
  EXPECT_EQ(req.messages(3).parts(0).text(), "a cat");
  EXPECT_EQ(req.messages(4).tool_call_id(), "toolu_2");
  EXPECT_TRUE(req.messages(4).is_error());
  EXPECT_EQ(req.messages(5).role(), v1::ROLE_USER);
  EXPECT_EQ(req.messages(5).parts(0).text(), "thanks");
  EXPECT_DOUBLE_EQ(req.temperature(), 0.5);
  EXPECT_DOUBLE_EQ(req.top_p(), 0.9);
  EXPECT_EQ(req.stop_size(), 1);
  EXPECT_TRUE(req.stream());
  EXPECT_EQ(req.user(), "u1");
  ASSERT_EQ(req.tools_size(), 1);
  EXPECT_EQ(json::parse(req.tools(0).parameters_json()), json({{"type", "object"}}));
  EXPECT_EQ(req.tool_choice().function_name(), "look");
  EXPECT_FALSE(req.parallel_tool_calls());
  EXPECT_EQ(req.thinking_budget_tokens(), 2048);
  json extra = json::parse(req.passthrough_json());
  EXPECT_EQ(extra["top_k"], 40);
  EXPECT_EQ(extra["service_tier"], "auto");
  EXPECT_FALSE(extra.contains("model"));
  EXPECT_FALSE(extra.contains("__routeall_cache_control"));
}

using BadCase = ::routeall::codecs::ValidationCase;

class AnthropicValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AnthropicValidationTest, Returns400NamingTheField) {
  json body = Minimal();
  GetParam().mutate(body);
  v1::ChatRequest req;
  auto err = Decode(body, &req);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->type, "invalid_request_error");
  EXPECT_EQ(err->param, GetParam().param);
  EXPECT_EQ(err->message.rfind(std::string(GetParam().param) + ": ", 0), 0u) << err->message;
}

json UserBlocks(json blocks) { return json::array({{{"role", "user"}, {"content", std::move(blocks)}}}); }

INSTANTIATE_TEST_SUITE_P(
    Fields, AnthropicValidationTest,
    ::testing::Values(
        BadCase{"NoModel", [](json& b) { b.erase("model"); }, "model"},
        BadCase{"NoMaxTokens", [](json& b) { b.erase("max_tokens"); }, "max_tokens"},
        BadCase{"MaxTokensZero", [](json& b) { b["max_tokens"] = 0; }, "max_tokens"},
        BadCase{"MaxTokensString", [](json& b) { b["max_tokens"] = "10"; }, "max_tokens"},
        BadCase{"NoMessages", [](json& b) { b.erase("messages"); }, "messages"},
        BadCase{"EmptyMessages", [](json& b) { b["messages"] = json::array(); }, "messages"},
        BadCase{"SystemRoleInMessages", [](json& b) { b["messages"][0]["role"] = "system"; }, "messages.0.role"},
        BadCase{"NoContent", [](json& b) { b["messages"][0].erase("content"); }, "messages.0.content"},
        BadCase{"BadBlockType", [](json& b) { b["messages"] = UserBlocks({{{"type", "video"}}}); }, "messages.0.content.0.type"},
        BadCase{"ToolUseFromUser",
                [](json& b) { b["messages"] = UserBlocks({{{"type", "tool_use"}, {"id", "x"}, {"name", "f"}, {"input", json::object()}}}); },
                "messages.0.content.0.type"},
        BadCase{"ToolResultWithoutId", [](json& b) { b["messages"] = UserBlocks({{{"type", "tool_result"}, {"content", "x"}}}); },
                "messages.0.content.0.tool_use_id"},
        BadCase{"SecondMessageBadText",
                [](json& b) {
                  b["messages"].push_back({{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", 5}}}}});
                },
                "messages.1.content.0.text"},
        BadCase{"ImageBadSource",
                [](json& b) { b["messages"] = UserBlocks({{{"type", "image"}, {"source", {{"type", "file"}}}}}); },
                "messages.0.content.0.source.type"},
        BadCase{"ImageSourceTypeNumber",  // once threw json::type_error
                [](json& b) { b["messages"] = UserBlocks({{{"type", "image"}, {"source", {{"type", 5}}}}}); },
                "messages.0.content.0.source.type"},
        BadCase{"ToolUseInputNotObject",
                [](json& b) {
                  b["messages"].push_back({{"role", "assistant"}, {"content", {{{"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", "x"}}}}});
                },
                "messages.1.content.0.input"},
        BadCase{"TemperatureAboveAnthropicRange", [](json& b) { b["temperature"] = 1.5; }, "temperature"},
        BadCase{"TemperatureString", [](json& b) { b["temperature"] = "hot"; }, "temperature"},
        BadCase{"TopPNegative", [](json& b) { b["top_p"] = -0.1; }, "top_p"},
        BadCase{"TopKFloat", [](json& b) { b["top_k"] = 1.5; }, "top_k"},
        BadCase{"StopSequenceNotString", [](json& b) { b["stop_sequences"] = {"a", 1}; }, "stop_sequences.1"},
        BadCase{"StreamString", [](json& b) { b["stream"] = "yes"; }, "stream"},
        BadCase{"SystemBadBlock", [](json& b) { b["system"] = {{{"type", "image"}}}; }, "system.0.type"},
        BadCase{"MetadataUserIdNumber", [](json& b) { b["metadata"] = {{"user_id", 3}}; }, "metadata.user_id"},
        BadCase{"ToolWithoutSchema", [](json& b) { b["tools"] = {{{"name", "f"}}}; }, "tools.0.input_schema"},
        BadCase{"ToolWithoutName", [](json& b) { b["tools"] = {{{"input_schema", json::object()}}}; }, "tools.0.name"},
        BadCase{"ToolChoiceBad", [](json& b) { b["tool_choice"] = {{"type", "sometimes"}}; }, "tool_choice.type"},
        BadCase{"ToolChoiceToolWithoutName", [](json& b) { b["tool_choice"] = {{"type", "tool"}}; }, "tool_choice.name"},
        BadCase{"ThinkingBudgetTooSmall", [](json& b) { b["thinking"] = {{"type", "enabled"}, {"budget_tokens", 100}}; },
                "thinking.budget_tokens"},
        BadCase{"ThinkingWithoutType", [](json& b) { b["thinking"] = json::object(); }, "thinking.type"},
        // Found by the round-trip fuzzer: the upstream encoding used to drop thinking instead.
        BadCase{"ThinkingBudgetNotBelowMaxTokens",
                [](json& b) { b["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}}; }, "max_tokens"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AnthropicCodecTest, InvalidJsonIs400) {
  v1::ChatRequest req;
  auto err = DecodeMessagesRequest("{nope", &req);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->code, "invalid_json");
}

TEST(AnthropicCodecTest, ServerToolsPassThroughOnlyToAnthropic) {
  json body = Minimal();
  body["tools"] = {{{"type", "web_search_20250305"}, {"name", "web_search"}, {"max_uses", 3}},
                   {{"name", "f"}, {"input_schema", {{"type", "object"}}}}};
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  ASSERT_EQ(req.tools_size(), 1);
  EXPECT_EQ(req.tools(0).name(), "f");
  json up = EncodeMessagesRequest(req, "claude-x");
  ASSERT_EQ(up["tools"].size(), 2u);
  EXPECT_EQ(up["tools"][0]["name"], "f");
  EXPECT_EQ(up["tools"][1]["type"], "web_search_20250305");
  EXPECT_EQ(up["tools"][1]["max_uses"], 3);
  // Another dialect's upstream never sees it.
  json oa = openai::EncodeChatRequest(req, "gpt");
  EXPECT_FALSE(oa.contains("max_uses"));
  EXPECT_EQ(oa["tools"].size(), 1u);
}

TEST(AnthropicCodecTest, CacheControlBreakpointsSurviveTheRoundTrip) {
  json cc = {{"type", "ephemeral"}};
  json body = {{"model", "m"},
               {"max_tokens", 10},
               {"system", {{{"type", "text"}, {"text", "sys A"}}, {{"type", "text"}, {"text", "sys B"}, {"cache_control", cc}}}},
               {"tools", {{{"name", "f"}, {"input_schema", {{"type", "object"}}}, {"cache_control", cc}}}},
               {"messages",
                {{{"role", "user"}, {"content", "q1"}},
                 {{"role", "assistant"}, {"content", {{{"type", "tool_use"}, {"id", "t1"}, {"name", "f"}, {"input", json::object()}}}}},
                 {{"role", "user"},
                  {"content",
                   {{{"type", "tool_result"}, {"tool_use_id", "t1"}, {"content", "r"}, {"cache_control", cc}},
                    {{"type", "text"}, {"text", "more"}, {"cache_control", cc}}}}}}}};
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  json up = EncodeMessagesRequest(req, "m");
  ASSERT_TRUE(up["system"].is_array());
  EXPECT_FALSE(up["system"][0].contains("cache_control"));
  EXPECT_EQ(up["system"][1]["cache_control"], cc);
  EXPECT_EQ(up["tools"][0]["cache_control"], cc);
  const json& last = up["messages"][2]["content"];
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0]["type"], "tool_result");
  EXPECT_EQ(last[0]["cache_control"], cc);
  EXPECT_EQ(last[1]["text"], "more");
  EXPECT_EQ(last[1]["cache_control"], cc);
  EXPECT_FALSE(up["messages"][1]["content"][0].contains("cache_control"));
  EXPECT_FALSE(up.contains("__routeall_cache_control"));
}

TEST(AnthropicCodecTest, UsageExcludesCacheFromInputTokens) {
  const char* upstream = R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
    "content":[{"type":"text","text":"hey"}],"stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":76,"cache_read_input_tokens":896,"cache_creation_input_tokens":0,"output_tokens":40}})";
  v1::ChatResponse res;
  ASSERT_FALSE(DecodeMessagesResponse(upstream, &res).has_value());
  EXPECT_EQ(res.usage().prompt_tokens(), 972);
  EXPECT_EQ(res.usage().cached_tokens(), 896);
  EXPECT_EQ(res.usage().cache_write_tokens(), 0);
  EXPECT_EQ(res.usage().completion_tokens(), 40);
  EXPECT_EQ(res.usage().reasoning_tokens(), 0);
  EXPECT_EQ(res.usage().source(), v1::USAGE_SOURCE_UPSTREAM);
  // Through OpenAI: prompt includes the cache.
  EXPECT_EQ(openai::EncodeChatResponse(res)["usage"]["prompt_tokens"], 972);

  v1::Usage u;
  u.set_prompt_tokens(972);
  u.set_cached_tokens(896);
  u.set_cache_write_tokens(50);
  u.set_completion_tokens(40);
  json pub = EncodeUsage(u);
  EXPECT_EQ(pub["input_tokens"], 26);
  EXPECT_EQ(pub["cache_read_input_tokens"], 896);
  EXPECT_EQ(pub["cache_creation_input_tokens"], 50);
  EXPECT_EQ(pub["output_tokens"], 40);
  u.set_cache_write_tokens(0);
  EXPECT_EQ(EncodeMessagesResponse([&] {
              v1::ChatResponse r;
              *r.mutable_usage() = u;
              return r;
            }())["usage"]["input_tokens"],
            76);
}

TEST(AnthropicCodecTest, ResponseRoundTripsBlocksAndStopReasons) {
  const char* upstream = R"({"id":"msg_9","type":"message","role":"assistant","model":"claude-x",
    "content":[{"type":"thinking","thinking":"ponder","signature":"S"},{"type":"text","text":"calling"},
               {"type":"tool_use","id":"toolu_9","name":"f","input":{"q":"x"}}],
    "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}})";
  v1::ChatResponse res;
  ASSERT_FALSE(DecodeMessagesResponse(upstream, &res).has_value());
  EXPECT_EQ(res.id(), "msg_9");
  ASSERT_EQ(res.choices_size(), 1);
  const auto& c = res.choices(0);
  EXPECT_EQ(c.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(c.message().parts_size(), 2);
  EXPECT_EQ(c.message().parts(0).thinking().signature(), "S");
  ASSERT_EQ(c.message().tool_calls_size(), 1);
  EXPECT_EQ(json::parse(c.message().tool_calls(0).arguments_json()), json({{"q", "x"}}));
  json out = EncodeMessagesResponse(res);
  EXPECT_EQ(out["type"], "message");
  EXPECT_EQ(out["stop_reason"], "tool_use");
  ASSERT_EQ(out["content"].size(), 3u);
  EXPECT_EQ(out["content"][0], json({{"type", "thinking"}, {"thinking", "ponder"}, {"signature", "S"}}));
  EXPECT_EQ(out["content"][1]["text"], "calling");
  EXPECT_EQ(out["content"][2]["input"], json({{"q", "x"}}));
  EXPECT_EQ(out["content"][2]["id"], "toolu_9");

  v1::ChatResponse stop;
  ASSERT_FALSE(DecodeMessagesResponse(R"({"id":"m","content":[{"type":"text","text":"a"}],"stop_reason":"stop_sequence","stop_sequence":"END"})", &stop).has_value());
  EXPECT_EQ(stop.choices(0).finish_reason(), v1::FINISH_REASON_STOP_SEQUENCE);
  EXPECT_EQ(stop.choices(0).stop_sequence(), "END");
  json so = EncodeMessagesResponse(stop);
  EXPECT_EQ(so["stop_reason"], "stop_sequence");
  EXPECT_EQ(so["stop_sequence"], "END");
  EXPECT_EQ(openai::EncodeChatResponse(stop)["choices"][0]["finish_reason"], "stop");
}

TEST(AnthropicCodecTest, StopReasonNamesBothWays) {
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_STOP), "end_turn");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_LENGTH), "max_tokens");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_TOOL_CALLS), "tool_use");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_STOP_SEQUENCE), "stop_sequence");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_CONTENT_FILTER), "refusal");
  EXPECT_EQ(ParseStopReason("end_turn"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(ParseStopReason("pause_turn"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(ParseStopReason("max_tokens"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(ParseStopReason("model_context_window_exceeded"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(ParseStopReason("tool_use"), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(ParseStopReason("refusal"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(ParseStopReason("bogus"), v1::FINISH_REASON_UNSPECIFIED);
}

TEST(AnthropicCodecTest, ErrorEnvelopeTypesByStatus) {
  auto type = [](int status) { return EncodeError(ApiError{status, "x", "m", "", ""})["error"]["type"].get<std::string>(); };
  EXPECT_EQ(type(400), "invalid_request_error");
  EXPECT_EQ(type(401), "authentication_error");
  EXPECT_EQ(type(402), "billing_error");
  EXPECT_EQ(type(403), "permission_error");
  EXPECT_EQ(type(404), "not_found_error");
  EXPECT_EQ(type(413), "request_too_large");
  EXPECT_EQ(type(429), "rate_limit_error");
  EXPECT_EQ(type(529), "overloaded_error");
  EXPECT_EQ(type(503), "overloaded_error");
  EXPECT_EQ(type(502), "api_error");
  json e = EncodeError(InvalidField("temperature", "temperature: bad"));
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["error"]["message"], "temperature: bad");
}

// ---- Upstream request ----

v1::ChatRequest OpenAIRequest(const json& body) {
  v1::ChatRequest req;
  auto err = openai::DecodeChatRequest(body.dump(), &req);
  EXPECT_FALSE(err.has_value()) << (err ? err->message : "");
  return req;
}

TEST(AnthropicCodecTest, UpstreamRequestFromOpenAIClient) {
  json body = {
      {"model", "gpt-4o"},
      {"messages",
       {{{"role", "system"}, {"content", "be brief"}},
        {{"role", "user"},
         {"content", {{{"type", "text"}, {"text", "look"}},
                      {{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64,AAAA"}}}},
                      {{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}}}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          {{{"id", "call_a"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{\"x\":1}"}}}},
           {{"id", "call_b"}, {"type", "function"}, {"function", {{"name", "g"}, {"arguments", "not json"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_a"}, {"content", "ra"}},
        {{"role", "tool"}, {"tool_call_id", "call_b"}, {"content", "rb"}},
        {{"role", "developer"}, {"content", "late rule"}},
        {{"role", "user"}, {"content", "and?"}},
        {{"role", "user"}, {"content", "hello?"}}}},
      {"temperature", 1.7}, {"top_p", 0.5}, {"stop", {"END", "HALT"}}, {"user", "u9"}, {"stream", true},
      {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"description", "F"}, {"parameters", {{"type", "object"}}}}}},
                 {{"type", "function"}, {"function", {{"name", "g"}}}}}},
      {"tool_choice", "required"}, {"parallel_tool_calls", false}, {"frequency_penalty", 0.5}};
  v1::ChatRequest req = OpenAIRequest(body);
  json up = EncodeMessagesRequest(req, "claude-sonnet-4-5");
  EXPECT_EQ(up["model"], "claude-sonnet-4-5");
  // System and developer text, wherever it was, is the system prompt.
  EXPECT_EQ(up["system"], "be brief\n\nlate rule");
  EXPECT_EQ(up["max_tokens"], 4096);
  EXPECT_DOUBLE_EQ(up["temperature"].get<double>(), 1.0);  // clamped to Anthropic's range
  EXPECT_FALSE(up.contains("top_p"));                      // newer models reject both
  EXPECT_EQ(up["stop_sequences"], json({"END", "HALT"}));
  EXPECT_EQ(up["metadata"]["user_id"], "u9");
  EXPECT_EQ(up["stream"], true);
  EXPECT_FALSE(up.contains("frequency_penalty"));  // OpenAI passthrough never reaches Anthropic
  EXPECT_EQ(up["tool_choice"], json({{"type", "any"}, {"disable_parallel_tool_use", true}}));
  EXPECT_EQ(up["tools"][0], json({{"name", "f"}, {"description", "F"}, {"input_schema", {{"type", "object"}}}}));
  EXPECT_EQ(up["tools"][1]["input_schema"]["type"], "object");

  const json& msgs = up["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["role"], "user");
  const json& uc = msgs[0]["content"];
  ASSERT_EQ(uc.size(), 3u);
  EXPECT_EQ(uc[1]["source"], json({{"type", "base64"}, {"media_type", "image/jpeg"}, {"data", "AAAA"}}));
  EXPECT_EQ(uc[2]["source"], json({{"type", "url"}, {"url", "https://x/y.png"}}));
  EXPECT_EQ(msgs[1]["role"], "assistant");
  ASSERT_EQ(msgs[1]["content"].size(), 2u);
  EXPECT_EQ(msgs[1]["content"][0], json({{"type", "tool_use"}, {"id", "call_a"}, {"name", "f"}, {"input", {{"x", 1}}}}));
  EXPECT_EQ(msgs[1]["content"][1]["input"], json::object());  // invalid JSON arguments
  // Consecutive tool results merge into one user turn, with the following user turns.
  EXPECT_EQ(msgs[2]["role"], "user");
  const json& rc = msgs[2]["content"];
  ASSERT_EQ(rc.size(), 4u);
  EXPECT_EQ(rc[0], json({{"type", "tool_result"}, {"tool_use_id", "call_a"}, {"content", "ra"}}));
  EXPECT_EQ(rc[1]["tool_use_id"], "call_b");
  EXPECT_EQ(rc[2]["text"], "and?");
  EXPECT_EQ(rc[3]["text"], "hello?");
}

TEST(AnthropicCodecTest, UpstreamRequestShapesTurnsAndThinking) {
  v1::ChatRequest req;
  req.set_model("m");
  req.set_source_dialect(v1::DIALECT_OPENAI);
  auto* a = req.add_messages();
  a->set_role(v1::ROLE_ASSISTANT);
  a->add_parts()->set_text("I start");
  auto* th = a->add_parts()->mutable_thinking();
  th->set_text("unsigned reasoning");
  auto* t = req.add_messages();
  t->set_role(v1::ROLE_TOOL);
  t->set_tool_call_id("bad id!");
  auto* img = t->add_parts()->mutable_image();
  img->set_mime_type("image/webp");
  img->set_data_base64("QQ==");
  t->set_is_error(true);
  req.set_reasoning_effort("high");
  req.set_temperature(0.2);
  req.mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_NONE);
  json up = EncodeMessagesRequest(req, "");
  EXPECT_EQ(up["model"], "m");
  const json& msgs = up["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0], json({{"role", "user"}, {"content", {{{"type", "text"}, {"text", "."}}}}}));
  EXPECT_EQ(msgs[1]["content"], json({{{"type", "text"}, {"text", "I start"}}}));  // unsigned thinking dropped
  const json& tr = msgs[2]["content"][0];
  EXPECT_EQ(tr["tool_use_id"], "bad_id_");
  EXPECT_EQ(tr["is_error"], true);
  EXPECT_EQ(tr["content"][0]["source"]["media_type"], "image/webp");
  EXPECT_EQ(up["thinking"], json({{"type", "enabled"}, {"budget_tokens", 24576}}));
  EXPECT_EQ(up["max_tokens"], 24576 + 4096);
  EXPECT_FALSE(up.contains("temperature"));  // thinking rejects sampling changes
  EXPECT_FALSE(up.contains("tool_choice"));  // no tools
  EXPECT_FALSE(up.contains("system"));
  EXPECT_FALSE(up.contains("stream"));
}

TEST(AnthropicCodecTest, NativeRequestRoundTripsThroughCanonical) {
  json body = Minimal();
  body["max_tokens"] = 2000;
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1500}};
  body["temperature"] = 1;
  body["top_p"] = 0.95;
  body["top_k"] = 5;
  body["system"] = "sys";
  body["tool_choice"] = {{"type", "auto"}};
  body["tools"] = {{{"name", "f"}, {"input_schema", {{"type", "object"}}}}};
  body["messages"].push_back({{"role", "assistant"}, {"content", {{{"type", "thinking"}, {"thinking", "t"}, {"signature", "s"}},
                                                                   {{"type", "redacted_thinking"}, {"data", "r"}},
                                                                   {{"type", "text"}, {"text", "x"}}}}});
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  json up = EncodeMessagesRequest(req, "claude-up");
  EXPECT_EQ(up["max_tokens"], 2000);
  EXPECT_EQ(up["thinking"], json({{"type", "enabled"}, {"budget_tokens", 1500}}));
  EXPECT_EQ(up["temperature"], 1.0);  // a native client gets what it asked for
  EXPECT_EQ(up["top_p"], 0.95);
  EXPECT_EQ(up["top_k"], 5);
  EXPECT_EQ(up["system"], "sys");
  EXPECT_EQ(up["tool_choice"], json({{"type", "auto"}}));
  const json& ac = up["messages"][1]["content"];
  ASSERT_EQ(ac.size(), 3u);
  EXPECT_EQ(ac[0], json({{"type", "thinking"}, {"thinking", "t"}, {"signature", "s"}}));
  EXPECT_EQ(ac[1], json({{"type", "redacted_thinking"}, {"data", "r"}}));
  v1::ChatRequest again;
  auto err = DecodeMessagesRequest(up.dump(), &again);
  ASSERT_FALSE(err.has_value()) << err->message;
  EXPECT_EQ(again.messages_size(), req.messages_size());
}

TEST(AnthropicCodecTest, ToolIdsSurviveOpenAIToAnthropicAndBack) {
  json body = {{"model", "gpt"},
               {"messages",
                {{{"role", "user"}, {"content", "go"}},
                 {{"role", "assistant"}, {"tool_calls", {{{"id", "call_XYZ"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}},
                 {{"role", "tool"}, {"tool_call_id", "call_XYZ"}, {"content", "done"}}}}};
  json up = EncodeMessagesRequest(OpenAIRequest(body), "claude");
  EXPECT_EQ(up["messages"][1]["content"][0]["id"], "call_XYZ");
  EXPECT_EQ(up["messages"][2]["content"][0]["tool_use_id"], "call_XYZ");
  // The same body, as an Anthropic client would send it, decodes to the same pairing.
  json native = {{"model", "claude"}, {"max_tokens", 10}, {"messages", up["messages"]}};
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(native, &req).has_value());
  EXPECT_EQ(req.messages(1).tool_calls(0).id(), "call_XYZ");
  EXPECT_EQ(req.messages(2).tool_call_id(), "call_XYZ");
  EXPECT_EQ(openai::EncodeChatRequest(req, "gpt")["messages"][2]["tool_call_id"], "call_XYZ");
}

// ---- Streams ----

// A recorded Anthropic stream: thinking, text, then a tool call whose input arrives in fragments.
const std::vector<std::pair<std::string, std::string>> kRecorded = {
    {"message_start", R"({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":76,"cache_creation_input_tokens":0,"cache_read_input_tokens":896,"output_tokens":1}}})"},
    {"ping", R"({"type": "ping"})"},
    {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
    {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking "}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"the weather."}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
    {"content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
    {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}})"},
    {"message_stop", R"({"type":"message_stop"})"},
};

TEST(AnthropicStreamTest, RecordedStreamDecodesAndReencodesExactly) {
  StreamDecoder dec;
  std::vector<v1::ChatChunk> chunks;
  for (const auto& [event, data] : kRecorded) {
    auto err = dec.Feed(event, data, &chunks);
    ASSERT_FALSE(err.has_value()) << event << ": " << err->message;
  }
  EXPECT_TRUE(dec.Done());
  std::string thinking, signature, text, args, tool_id, tool_name;
  v1::FinishReason finish = v1::FINISH_REASON_UNSPECIFIED;
  int tool_index = -1;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.id(), "msg_01");
    EXPECT_EQ(c.model(), "claude-sonnet-4-5");
    for (const auto& d : c.deltas()) {
      thinking += d.thinking();
      signature += d.thinking_signature();
      text += d.text();
      if (d.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) finish = d.finish_reason();
      for (const auto& t : d.tool_calls()) {
        tool_index = t.index();
        if (!t.id().empty()) tool_id = t.id();
        if (!t.name().empty()) tool_name = t.name();
        args += t.arguments_fragment();
      }
    }
  }
  EXPECT_EQ(thinking, "Let me think.");
  EXPECT_EQ(signature, "EqQB");
  EXPECT_EQ(text, "Checking the weather.");
  EXPECT_EQ(tool_index, 0);
  EXPECT_EQ(tool_id, "toolu_01");
  EXPECT_EQ(tool_name, "get_weather");
  EXPECT_EQ(json::parse(args), json({{"city", "Paris"}}));
  EXPECT_EQ(finish, v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_TRUE(chunks.back().has_usage());
  const auto& u = chunks.back().usage();
  EXPECT_EQ(u.prompt_tokens(), 972);
  EXPECT_EQ(u.cached_tokens(), 896);
  EXPECT_EQ(u.completion_tokens(), 40);
  EXPECT_EQ(dec.FinalUsage()->prompt_tokens(), 972);

  // Re-encode for an Anthropic client.
  StreamEncoder enc("msg_gw", "claude-sonnet-4-5");
  std::string sse;
  for (const auto& c : chunks) sse += enc.Chunk(c);
  sse += enc.Finish(u);
  auto events = ParseSse(sse);
  std::vector<std::string> types;
  for (const auto& [name, data] : events) {
    EXPECT_EQ(name, data["type"]);
    types.push_back(name);
  }
  std::vector<std::string> want = {"message_start", "ping",
                                   "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
                                   "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                   "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                   "message_delta", "message_stop"};
  EXPECT_EQ(types, want);
  EXPECT_EQ(events[0].second["message"]["id"], "msg_gw");
  EXPECT_EQ(events[0].second["message"]["usage"]["input_tokens"], 0);
  EXPECT_EQ(events[2].second["content_block"]["type"], "thinking");
  EXPECT_EQ(events[5].second["delta"], json({{"type", "signature_delta"}, {"signature", "EqQB"}}));
  EXPECT_EQ(events[7].second["index"], 1);
  EXPECT_EQ(events[11].second["content_block"],
            json({{"type", "tool_use"}, {"id", "toolu_01"}, {"name", "get_weather"}, {"input", json::object()}}));
  EXPECT_EQ(events[12].second["delta"]["type"], "input_json_delta");
  EXPECT_EQ(events[14].second["index"], 2);
  const json& md = events[15].second;
  EXPECT_EQ(md["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(md["usage"], json({{"input_tokens", 76}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 896}, {"output_tokens", 40}}));
  EXPECT_EQ(sse.substr(0, 21), "event: message_start\n");
  EXPECT_EQ(sse.substr(sse.size() - 2), "\n\n");
}

TEST(AnthropicStreamTest, MessageDeltaUsageOverridesStartUsage) {
  StreamDecoder dec;
  std::vector<v1::ChatChunk> chunks;
  ASSERT_FALSE(dec.Feed("message_start", R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":0,"output_tokens":1}}})", &chunks));
  ASSERT_FALSE(dec.Feed("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"##"},"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":7,"server_tool_use":{"web_search_requests":2}}})", &chunks));
  ASSERT_FALSE(dec.Feed("", R"({"type":"message_stop"})", &chunks));
  EXPECT_TRUE(dec.Done());
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].deltas(0).role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(chunks[1].deltas(0).finish_reason(), v1::FINISH_REASON_STOP_SEQUENCE);
  EXPECT_EQ(chunks[1].deltas(0).stop_sequence(), "##");
  const auto& u = chunks[2].usage();
  EXPECT_EQ(u.prompt_tokens(), 15);
  EXPECT_EQ(u.cache_write_tokens(), 5);
  EXPECT_EQ(u.completion_tokens(), 7);
  EXPECT_EQ(u.web_search_calls(), 2);
}

TEST(AnthropicStreamTest, ErrorEventIsAnOverloadedApiError) {
  StreamDecoder dec;
  std::vector<v1::ChatChunk> chunks;
  auto err = dec.Feed("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", &chunks);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 529);
  EXPECT_EQ(err->code, "overloaded_error");
  EXPECT_EQ(err->message, "Overloaded");
  EXPECT_TRUE(dec.Feed("content_block_delta", "not json", &chunks).has_value());
  EXPECT_FALSE(dec.Feed("ping", "", &chunks).has_value());
}

TEST(AnthropicStreamTest, EncoderFromOpenAIStyleChunks) {
  StreamEncoder enc("msg_x", "m");
  std::string sse;
  v1::ChatChunk first;
  first.add_deltas()->set_role(v1::ROLE_ASSISTANT);
  sse += enc.Chunk(first);
  v1::ChatChunk text;
  text.add_deltas()->set_text("Hi");
  sse += enc.Chunk(text);
  // Two tool calls, each its own block; the second starts with index 1.
  for (int i = 0; i < 2; ++i) {
    v1::ChatChunk a;
    auto* t = a.add_deltas()->add_tool_calls();
    t->set_index(i);
    t->set_id("call_" + std::to_string(i));
    t->set_name("f");
    sse += enc.Chunk(a);
    v1::ChatChunk b;
    auto* f = b.add_deltas()->add_tool_calls();
    f->set_index(i);
    f->set_arguments_fragment("{}");
    sse += enc.Chunk(b);
  }
  v1::ChatChunk fin;
  fin.add_deltas()->set_finish_reason(v1::FINISH_REASON_STOP);  // OpenAI-compatible upstreams do this
  sse += enc.Chunk(fin);
  sse += enc.Finish(v1::Usage());
  EXPECT_EQ(enc.Finish(v1::Usage()), "");  // once only
  auto events = ParseSse(sse);
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.first);
  std::vector<std::string> want = {"message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop",
                                   "content_block_start", "content_block_delta", "content_block_stop",
                                   "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"};
  EXPECT_EQ(types, want);
  EXPECT_EQ(events[8].second["content_block"]["id"], "call_1");
  EXPECT_EQ(events[8].second["index"], 2);
  EXPECT_EQ(events[11].second["delta"]["stop_reason"], "tool_use");
}

TEST(AnthropicStreamTest, FinishWithoutChunksStillStartsTheMessage) {
  StreamEncoder enc("msg_e", "m");
  v1::Usage u;
  u.set_prompt_tokens(5);
  u.set_completion_tokens(1);
  auto events = ParseSse(enc.Finish(u, v1::FINISH_REASON_STOP_SEQUENCE, "STOP"));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].first, "message_start");
  EXPECT_EQ(events[1].first, "ping");
  EXPECT_EQ(events[2].second["delta"], json({{"stop_reason", "stop_sequence"}, {"stop_sequence", "STOP"}}));
  EXPECT_EQ(events[2].second["usage"]["input_tokens"], 5);
  EXPECT_EQ(events[3].first, "message_stop");
}

TEST(AnthropicStreamTest, FinishUsesTheReasonSeenInChunks) {
  StreamEncoder enc("m", "m");
  v1::ChatChunk c;
  auto* d = c.add_deltas();
  d->set_text("x");
  d->set_finish_reason(v1::FINISH_REASON_LENGTH);
  enc.Chunk(c);
  auto events = ParseSse(enc.Finish(v1::Usage()));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].first, "content_block_stop");
  EXPECT_EQ(events[1].second["delta"]["stop_reason"], "max_tokens");
}

TEST(AnthropicStreamTest, ErrorEvent) {
  StreamEncoder enc("m", "m");
  std::string s = enc.Error(ApiError{529, "upstream_error", "busy", "", ""});
  EXPECT_EQ(s, "event: error\ndata: {\"error\":{\"message\":\"busy\",\"type\":\"overloaded_error\"},\"type\":\"error\"}\n\n");
  EXPECT_EQ(enc.Chunk(v1::ChatChunk()), "");
}

}  // namespace
}  // namespace routeall::codecs::anthropic
