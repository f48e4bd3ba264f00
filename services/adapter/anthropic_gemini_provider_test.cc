// Anthropic and Gemini providers against a mocked HTTP client: URLs and credentials, usage
// mapped to the canonical convention (cache included in prompt), stream relaying, errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/http/http_client_mock.h"
#include "services/adapter/anthropic_provider.h"
#include "services/adapter/gemini_provider.h"

namespace routeall::adapter {
namespace {

using ::testing::_;
using ::testing::Invoke;

v1::GenerateRequest Req(llm::v1::Dialect provider, bool stream) {
  v1::GenerateRequest r;
  r.mutable_upstream()->set_provider(provider);
  r.mutable_upstream()->set_base_url("http://127.0.0.1:9/x/a");
  r.mutable_upstream()->set_api_key("up-key");
  r.mutable_upstream()->set_upstream_model("up-model");
  r.mutable_request()->set_model("canonical");
  r.mutable_request()->set_stream(stream);
  auto* m = r.mutable_request()->add_messages();
  m->set_role(llm::v1::ROLE_USER);
  m->add_parts()->set_text("hi");
  return r;
}

bool HasHeader(const http::HttpClientRequest& r, const std::string& k, const std::string& v) {
  for (auto& [hk, hv] : r.headers) {
    if (hk == k && hv == v) return true;
  }
  return false;
}

auto Respond(int status, std::string body, http::HttpClientRequest* seen) {
  return Invoke([=](const http::HttpClientRequest& r) {
    *seen = r;
    return absl::StatusOr<http::HttpClientResponse>(http::HttpClientResponse{{status, {}}, body});
  });
}

auto PlaySse(std::string body, http::HttpClientRequest* seen) {
  return Invoke([=](const http::HttpClientRequest& r,
                    const std::function<bool(const http::HttpClientResponseHead&)>& on_head,
                    const std::function<bool(std::string_view)>& on_data) -> absl::Status {
    *seen = r;
    on_head(http::HttpClientResponseHead{200, {}});
    for (size_t i = 0; i < body.size(); i += 5) {
      if (!on_data(std::string_view(body).substr(i, 5))) return absl::CancelledError("aborted");
    }
    return absl::OkStatus();
  });
}

std::vector<v1::GenerateStreamResponse> Collect(Provider& p, const v1::GenerateRequest& req) {
  std::vector<v1::GenerateStreamResponse> out;
  p.GenerateStream(req, [&](v1::GenerateStreamResponse&& ev) {
    out.push_back(std::move(ev));
    return true;
  });
  return out;
}

TEST(AnthropicProviderTest, UnaryUsageIncludesCacheInPromptTokens) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Send(_)).WillOnce(Respond(200, R"({"id":"msg_1","type":"message","role":"assistant",
      "content":[{"type":"text","text":"hey"}],"stop_reason":"end_turn","stop_sequence":null,
      "usage":{"input_tokens":76,"cache_read_input_tokens":896,"cache_creation_input_tokens":0,"output_tokens":40}})",
                                                    &seen));
  AnthropicProvider p(client);
  auto res = p.Generate(Req(llm::v1::DIALECT_ANTHROPIC, false));
  ASSERT_TRUE(res.has_response()) << res.DebugString();
  EXPECT_EQ(res.response().usage().prompt_tokens(), 972);
  EXPECT_EQ(res.response().usage().cached_tokens(), 896);
  EXPECT_EQ(res.response().usage().completion_tokens(), 40);
  EXPECT_EQ(seen.url, "http://127.0.0.1:9/x/a/v1/messages");
  EXPECT_TRUE(HasHeader(seen, "x-api-key", "up-key"));
  EXPECT_TRUE(HasHeader(seen, "anthropic-version", "2023-06-01"));
  EXPECT_EQ(nlohmann::json::parse(seen.body)["model"], "up-model");
}

TEST(AnthropicProviderTest, OverloadedIsRetryable) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Send(_)).WillOnce(
      Respond(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", &seen));
  AnthropicProvider p(client);
  auto res = p.Generate(Req(llm::v1::DIALECT_ANTHROPIC, false));
  ASSERT_TRUE(res.has_error());
  EXPECT_TRUE(res.error().retryable());
  EXPECT_EQ(res.error().type(), "overloaded_error");
  EXPECT_EQ(res.error().message(), "Overloaded");
}

TEST(AnthropicProviderTest, StreamRelaysTextAndFinalUsage) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  std::string sse =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
      "\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":76,"
      "\"cache_read_input_tokens\":896,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
      "event: ping\ndata: {\"type\":\"ping\"}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
      "{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"lo\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
      "\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  EXPECT_CALL(client, Stream(_, _, _)).WillOnce(PlaySse(sse, &seen));
  AnthropicProvider p(client);
  auto events = Collect(p, Req(llm::v1::DIALECT_ANTHROPIC, true));
  std::string text;
  const llm::v1::Usage* usage = nullptr;
  for (auto& e : events) {
    ASSERT_TRUE(e.has_chunk()) << e.DebugString();
    for (auto& d : e.chunk().deltas()) text += d.text();
    if (e.chunk().has_usage()) usage = &e.chunk().usage();
  }
  EXPECT_EQ(text, "Hello");
  ASSERT_NE(usage, nullptr);
  EXPECT_EQ(usage->prompt_tokens(), 972);
  EXPECT_EQ(usage->completion_tokens(), 2);
  EXPECT_EQ(nlohmann::json::parse(seen.body)["stream"], true);
}

TEST(AnthropicProviderTest, InStreamErrorEndsTheStreamWithARetryableError) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Stream(_, _, _))
      .WillOnce(PlaySse("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                        "\"message\":\"Overloaded\"}}\n\n",
                        &seen));
  AnthropicProvider p(client);
  auto events = Collect(p, Req(llm::v1::DIALECT_ANTHROPIC, true));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_error());
  EXPECT_TRUE(events[0].error().retryable());
}

TEST(GeminiProviderTest, UnaryPutsTheModelInTheUrlAndMapsThoughts) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Send(_)).WillOnce(Respond(200, R"({"candidates":[{"content":{"role":"model",
      "parts":[{"text":"hey"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":972,
      "cachedContentTokenCount":896,"candidatesTokenCount":30,"thoughtsTokenCount":10,"totalTokenCount":1012}})",
                                                    &seen));
  GeminiProvider p(client);
  auto res = p.Generate(Req(llm::v1::DIALECT_GEMINI, false));
  ASSERT_TRUE(res.has_response());
  EXPECT_EQ(seen.url, "http://127.0.0.1:9/x/a/v1beta/models/up-model:generateContent");
  EXPECT_TRUE(HasHeader(seen, "x-goog-api-key", "up-key"));
  EXPECT_EQ(res.response().usage().prompt_tokens(), 972);
  EXPECT_EQ(res.response().usage().cached_tokens(), 896);
  EXPECT_EQ(res.response().usage().completion_tokens(), 40);
  EXPECT_EQ(res.response().usage().reasoning_tokens(), 10);
}

TEST(GeminiProviderTest, StreamUsesAltSseAndCarriesUsage) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  std::string sse =
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}]}\r\n\r\n"
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\","
      "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7}}\r\n\r\n";
  EXPECT_CALL(client, Stream(_, _, _)).WillOnce(PlaySse(sse, &seen));
  GeminiProvider p(client);
  auto events = Collect(p, Req(llm::v1::DIALECT_GEMINI, true));
  EXPECT_EQ(seen.url, "http://127.0.0.1:9/x/a/v1beta/models/up-model:streamGenerateContent?alt=sse");
  std::string text;
  int64_t prompt = -1;
  for (auto& e : events) {
    ASSERT_TRUE(e.has_chunk()) << e.DebugString();
    for (auto& d : e.chunk().deltas()) text += d.text();
    if (e.chunk().has_usage()) prompt = e.chunk().usage().prompt_tokens();
  }
  EXPECT_EQ(text, "Hello");
  EXPECT_EQ(prompt, 5);
}

TEST(GeminiProviderTest, ResourceExhaustedIsRetryable) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Send(_)).WillOnce(
      Respond(429, R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})", &seen));
  GeminiProvider p(client);
  auto res = p.Generate(Req(llm::v1::DIALECT_GEMINI, false));
  ASSERT_TRUE(res.has_error());
  EXPECT_TRUE(res.error().retryable());
  EXPECT_EQ(res.error().type(), "RESOURCE_EXHAUSTED");
}

}  // namespace
}  // namespace routeall::adapter
