// OpenAI codec: validation names the field, mappings round-trip, usage keeps its meaning.
#include "common/codecs/openai_codec.h"

#include "common/codecs/validation_case_test_util.h"

#include <gtest/gtest.h>

namespace routeall::codecs::openai {
namespace {

using nlohmann::json;
namespace v1 = ::routeall::llm::v1;

std::optional<ApiError> Decode(const json& body, v1::ChatRequest* out) { return DecodeChatRequest(body.dump(), out); }

json Minimal() { return {{"model", "gpt-4o"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

TEST(OpenAICodecTest, DecodesAFullRequest) {
  json body = {
      {"model", "gpt-4o"},
      {"messages",
       {{{"role", "system"}, {"content", "be brief"}},
        {{"role", "user"},
         {"content", {{{"type", "text"}, {"text", "what is this?"}},
                      {{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}, {"detail", "low"}}}}}}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls", {{{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "look"}, {"arguments", "{\"a\":1}"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "a cat"}}}},
      {"temperature", 0.5}, {"top_p", 1}, {"max_completion_tokens", 100}, {"stop", {"END", "STOP"}},
      {"seed", 7}, {"n", 2}, {"user", "u1"}, {"stream", true}, {"stream_options", {{"include_usage", true}}},
      {"tools", {{{"type", "function"}, {"function", {{"name", "look"}, {"parameters", {{"type", "object"}}}}}}}},
      {"tool_choice", "required"}, {"response_format", {{"type", "json_object"}}},
      {"frequency_penalty", 0.3}, {"logit_bias", {{"50256", -100}}}};
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  EXPECT_EQ(req.model(), "gpt-4o");
  ASSERT_EQ(req.messages_size(), 4);
  EXPECT_EQ(req.messages(0).role(), v1::ROLE_SYSTEM);
  ASSERT_EQ(req.messages(1).parts_size(), 2);
  EXPECT_EQ(req.messages(1).parts(1).image().url(), "https://x/y.png");
  EXPECT_EQ(req.messages(1).parts(1).image().detail(), "low");
  ASSERT_EQ(req.messages(2).tool_calls_size(), 1);
  EXPECT_EQ(req.messages(2).tool_calls(0).arguments_json(), "{\"a\":1}");
  EXPECT_EQ(req.messages(3).tool_call_id(), "call_1");
  EXPECT_DOUBLE_EQ(req.temperature(), 0.5);
  EXPECT_EQ(req.max_tokens(), 100);
  EXPECT_TRUE(req.max_tokens_is_completion());
  EXPECT_EQ(req.stop_size(), 2);
  EXPECT_EQ(req.n(), 2);
  EXPECT_TRUE(req.stream());
  EXPECT_TRUE(req.include_usage());
  EXPECT_EQ(req.tool_choice().mode(), v1::TOOL_CHOICE_MODE_REQUIRED);
  json extra = json::parse(req.passthrough_json());
  EXPECT_EQ(extra["frequency_penalty"], 0.3);
  EXPECT_TRUE(extra.contains("logit_bias"));
  EXPECT_FALSE(extra.contains("model"));
}

using BadCase = ::routeall::codecs::ValidationCase;

class OpenAIValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(OpenAIValidationTest, Returns400NamingTheField) {
  json body = Minimal();
  GetParam().mutate(body);
  v1::ChatRequest req;
  auto err = Decode(body, &req);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->type, "invalid_request_error");
  EXPECT_EQ(err->param, GetParam().param);
  EXPECT_NE(err->message.find(GetParam().param), std::string::npos) << err->message;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, OpenAIValidationTest,
    ::testing::Values(
        BadCase{"TemperatureTooHigh", [](json& b) { b["temperature"] = 2.5; }, "temperature"},
        BadCase{"TemperatureNegative", [](json& b) { b["temperature"] = -0.1; }, "temperature"},
        BadCase{"TemperatureString", [](json& b) { b["temperature"] = "hot"; }, "temperature"},
        BadCase{"TopPAboveOne", [](json& b) { b["top_p"] = 1.01; }, "top_p"},
        BadCase{"MaxTokensZero", [](json& b) { b["max_tokens"] = 0; }, "max_tokens"},
        BadCase{"MaxTokensFloat", [](json& b) { b["max_tokens"] = 1.5; }, "max_tokens"},
        BadCase{"StopTooMany", [](json& b) { b["stop"] = {"a", "b", "c", "d", "e"}; }, "stop"},
        BadCase{"StopNumber", [](json& b) { b["stop"] = 3; }, "stop"},
        BadCase{"NoModel", [](json& b) { b.erase("model"); }, "model"},
        BadCase{"NoMessages", [](json& b) { b.erase("messages"); }, "messages"},
        BadCase{"EmptyMessages", [](json& b) { b["messages"] = json::array(); }, "messages"},
        BadCase{"BadRole", [](json& b) { b["messages"][0]["role"] = "wizard"; }, "messages[0].role"},
        BadCase{"ToolWithoutId", [](json& b) { b["messages"].push_back({{"role", "tool"}, {"content", "x"}}); }, "messages[1].tool_call_id"},
        BadCase{"BadPartType", [](json& b) { b["messages"][0]["content"] = {{{"type", "video"}}}; }, "messages[0].content[0].type"},
        BadCase{"NStringy", [](json& b) { b["n"] = "2"; }, "n"},
        BadCase{"StreamOptionsWithoutStream", [](json& b) { b["stream_options"] = {{"include_usage", true}}; }, "stream_options"},
        BadCase{"ToolChoiceBad", [](json& b) { b["tool_choice"] = "sometimes"; }, "tool_choice"},
        BadCase{"ToolNoName", [](json& b) { b["tools"] = {{{"type", "function"}, {"function", json::object()}}}; }, "tools[0].function.name"},
        BadCase{"ResponseFormatBad", [](json& b) { b["response_format"] = {{"type", "yaml"}}; }, "response_format.type"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(OpenAICodecTest, BoundaryValuesAreAccepted) {
  json body = Minimal();
  body["temperature"] = 2;
  body["top_p"] = 0;
  v1::ChatRequest req;
  EXPECT_FALSE(Decode(body, &req).has_value());
  EXPECT_DOUBLE_EQ(req.temperature(), 2.0);
}

TEST(OpenAICodecTest, InvalidJsonIs400) {
  v1::ChatRequest req;
  auto err = DecodeChatRequest("{not json", &req);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->code, "invalid_json");
}

TEST(OpenAICodecTest, UpstreamRequestMapsModelAsksForUsageAndKeepsPassthrough) {
  json body = Minimal();
  body["stream"] = true;
  body["frequency_penalty"] = 0.5;
  body["max_tokens"] = 9;
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  json up = EncodeChatRequest(req, "gpt-4o-2024-08-06");
  EXPECT_EQ(up["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(up["stream_options"]["include_usage"], true);
  EXPECT_EQ(up["frequency_penalty"], 0.5);
  EXPECT_EQ(up["max_tokens"], 9);
  EXPECT_FALSE(up.contains("max_completion_tokens"));
  EXPECT_EQ(up["messages"][0]["content"], "hi");
}

TEST(OpenAICodecTest, PassthroughCannotOverrideKnownFields) {
  v1::ChatRequest req;
  req.set_model("m");
  req.set_source_dialect(v1::DIALECT_OPENAI);
  req.set_passthrough_json(R"({"model":"evil","messages":[],"x":1})");
  json up = EncodeChatRequest(req, "real");
  EXPECT_EQ(up["model"], "real");
  EXPECT_TRUE(up["messages"].is_array());
  EXPECT_EQ(up["x"], 1);
}

TEST(OpenAICodecTest, ResponseUsageKeepsCachedAndReasoning) {
  const char* upstream = R"({"id":"chatcmpl-1","object":"chat.completion","created":5,"model":"gpt-4o",
    "choices":[{"index":0,"message":{"role":"assistant","content":"hey","refusal":null},"finish_reason":"length"}],
    "usage":{"prompt_tokens":972,"completion_tokens":40,"total_tokens":1012,
             "prompt_tokens_details":{"cached_tokens":896},"completion_tokens_details":{"reasoning_tokens":12}}})";
  v1::ChatResponse res;
  ASSERT_FALSE(DecodeChatResponse(upstream, &res).has_value());
  EXPECT_EQ(res.usage().prompt_tokens(), 972);
  EXPECT_EQ(res.usage().cached_tokens(), 896);
  EXPECT_EQ(res.usage().reasoning_tokens(), 12);
  EXPECT_EQ(res.usage().completion_tokens(), 40);
  EXPECT_EQ(res.choices(0).finish_reason(), v1::FINISH_REASON_LENGTH);
  json out = EncodeChatResponse(res);
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "hey");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(out["usage"]["prompt_tokens_details"]["cached_tokens"], 896);
  EXPECT_EQ(out["usage"]["total_tokens"], 1012);
}

TEST(OpenAICodecTest, DeepSeekCacheHitsCountAsCached) {
  v1::Usage u;
  DecodeUsage(json{{"prompt_tokens", 100}, {"completion_tokens", 3}, {"prompt_cache_hit_tokens", 64}, {"prompt_cache_miss_tokens", 36}}, &u);
  EXPECT_EQ(u.prompt_tokens(), 100);
  EXPECT_EQ(u.cached_tokens(), 64);
}

TEST(OpenAICodecTest, ToolCallChunksRoundTrip) {
  const char* data = R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,
    "delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},
    "finish_reason":null}]})";
  v1::ChatChunk chunk;
  ASSERT_FALSE(DecodeChatChunk(data, &chunk).has_value());
  ASSERT_EQ(chunk.deltas_size(), 1);
  ASSERT_EQ(chunk.deltas(0).tool_calls_size(), 1);
  EXPECT_EQ(chunk.deltas(0).tool_calls(0).arguments_fragment(), "{\"a\"");
  json out = EncodeChatChunk(chunk, false);
  EXPECT_EQ(out["choices"][0]["delta"]["tool_calls"][0]["id"], "call_9");
  EXPECT_EQ(out["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], "{\"a\"");
  EXPECT_FALSE(out.contains("usage"));
}

TEST(OpenAICodecTest, UsageChunkHasEmptyChoicesAndOnlyWhenAsked) {
  v1::ChatChunk chunk;
  chunk.set_id("c");
  chunk.mutable_usage()->set_prompt_tokens(5);
  json with = EncodeChatChunk(chunk, true);
  EXPECT_TRUE(with["choices"].empty());
  EXPECT_EQ(with["usage"]["prompt_tokens"], 5);
  v1::ChatChunk text;
  text.add_deltas()->set_text("x");
  EXPECT_TRUE(EncodeChatChunk(text, true)["usage"].is_null());
}

TEST(OpenAICodecTest, WronglyTypedFieldsNeverThrow) {
  // Found by the fuzzer: json::value() throws on a field of the wrong type.
  v1::ChatChunk chunk;
  EXPECT_NO_THROW(DecodeChatChunk(R"({"id":1,"model":[],"choices":[{"index":"0","delta":{"tool_calls":[{"index":"x","id":5}]}}]})", &chunk));
  v1::ChatResponse res;
  EXPECT_NO_THROW(DecodeChatResponse(R"({"id":{},"choices":[{"index":"1","message":{"tool_calls":[{"function":7}]}}]})", &res));
  v1::ChatRequest req;
  std::optional<ApiError> err;
  EXPECT_NO_THROW(err = DecodeChatRequest(R"({"model":"m","messages":[{"role":"user","content":[{"type":1}]}]})", &req));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->param, "messages[0].content[0].type");
  EXPECT_NO_THROW(err = DecodeChatRequest(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":1,"function":{"name":"f"}}]})", &req));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->param, "tools[0].type");
}

TEST(OpenAICodecTest, StreamErrorEventIsAnError) {
  v1::ChatChunk chunk;
  auto err = DecodeChatChunk(R"({"error":{"message":"overloaded"}})", &chunk);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->message, "overloaded");
}

TEST(OpenAICodecTest, ErrorEnvelope) {
  json e = EncodeError(InvalidField("temperature", "bad"));
  EXPECT_EQ(e["error"]["param"], "temperature");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["code"], "invalid_value");
}

}  // namespace
}  // namespace routeall::codecs::openai
