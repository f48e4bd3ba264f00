// The nesting bound: exact at the limit, blind to brackets inside strings, and every public
// and upstream decoder answering (not crashing) on a 1,000,000-deep body.
#include "common/codecs/json_limits.h"

#include <string>

#include <gtest/gtest.h>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"

namespace routeall::codecs {
namespace {

namespace v1 = ::routeall::llm::v1;

std::string Nested(int depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonLimits, DepthIsExactAtTheLimit) {
  EXPECT_TRUE(JsonDepthWithin(Nested(kMaxJsonDepth)));
  EXPECT_FALSE(JsonDepthWithin(Nested(kMaxJsonDepth + 1)));
  EXPECT_TRUE(JsonDepthWithin(R"({"a":[{"b":[1,2]},{"c":{}}]})", 4));
  EXPECT_FALSE(JsonDepthWithin(R"({"a":[{"b":[1,2]},{"c":{}}]})", 3));
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  std::string s = "{\"a\":\"" + Nested(10000) + "\\\"[[[[\"}";
  EXPECT_TRUE(JsonDepthWithin(s, 1));
  EXPECT_FALSE(ParseBounded(s).is_discarded());
}

TEST(JsonLimits, ParseBoundedReportsTooDeep) {
  bool too_deep = false;
  EXPECT_TRUE(ParseBounded(Nested(kMaxJsonDepth + 1), &too_deep).is_discarded());
  EXPECT_TRUE(too_deep);
  too_deep = false;
  EXPECT_FALSE(ParseBounded(Nested(kMaxJsonDepth), &too_deep).is_discarded());
  EXPECT_FALSE(too_deep);
}

// The attack from the issue: a ~2 MB body whose extra field nests 1,000,000 deep.
std::string HostileBody(std::string_view head) {
  return std::string(head) + ",\"x\":" + Nested(1000000) + "}";
}

TEST(JsonLimits, EveryPublicDecoderAnswers400OnAMillionDeepBody) {
  v1::ChatRequest r1, r2, r3;
  auto e1 = openai::DecodeChatRequest(HostileBody(R"({"model":"m","messages":[{"role":"user","content":"hi"}])"), &r1);
  auto e2 = anthropic::DecodeMessagesRequest(
      HostileBody(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}])"), &r2);
  auto e3 = gemini::DecodeGenerateContentRequest("m", HostileBody(R"({"contents":[{"parts":[{"text":"hi"}]}])"), false, &r3);
  for (const auto& e : {e1, e2, e3}) {
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->http_status, 400);
    EXPECT_EQ(e->code, "json_too_deep");
    EXPECT_NE(e->message.find(std::to_string(kMaxJsonDepth)), std::string::npos);
  }
}

TEST(JsonLimits, DeepValueInsideAStringFieldIsNotReParsedUnbounded) {
  // Tool arguments are JSON carried in a string: encoders for other dialects parse them.
  v1::ChatRequest req;
  req.set_model("m");
  auto* m = req.add_messages();
  m->set_role(v1::ROLE_ASSISTANT);
  auto* call = m->add_tool_calls();
  call->set_id("c1");
  call->set_name("f");
  call->set_arguments_json(Nested(1000000, '{', '}'));
  auto* t = req.add_messages();
  t->set_role(v1::ROLE_TOOL);
  t->set_tool_call_id("c1");
  t->add_parts()->set_text(Nested(1000000));
  // Neither encoder may crash; the hostile text is dropped, not walked.
  EXPECT_FALSE(anthropic::EncodeMessagesRequest(req, "up").dump().empty());
  EXPECT_FALSE(gemini::EncodeGenerateContentRequest(req).dump().empty());
}

TEST(JsonLimits, UpstreamDecodersRejectAMillionDeepBody) {
  std::string deep = HostileBody(R"({"id":"x")");
  v1::ChatResponse a, b, c;
  EXPECT_TRUE(openai::DecodeChatResponse(deep, &a).has_value());
  EXPECT_TRUE(anthropic::DecodeMessagesResponse(deep, &b).has_value());
  EXPECT_TRUE(gemini::DecodeGenerateContentResponse(deep, &c).has_value());
  v1::ChatChunk chunk;
  EXPECT_TRUE(openai::DecodeChatChunk(deep, &chunk).has_value());
  std::vector<v1::ChatChunk> out;
  anthropic::StreamDecoder ad;
  EXPECT_TRUE(ad.Feed("content_block_delta", deep, &out).has_value());
  gemini::StreamDecoder gd;
  EXPECT_TRUE(gd.Feed(deep, &out).has_value());
}

}  // namespace
}  // namespace routeall::codecs
