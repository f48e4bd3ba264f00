// OpenAIProvider against a mocked HTTP client: URLs, error classification, stream relaying.
#include "services/adapter/openai_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "common/http/http_client_mock.h"

namespace routeall::adapter {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::Return;

v1::GenerateRequest Req(bool stream) {
  v1::GenerateRequest r;
  r.set_request_id("req1");
  r.mutable_upstream()->set_provider(llm::v1::DIALECT_OPENAI);
  r.mutable_upstream()->set_base_url("http://127.0.0.1:9/x/a/");
  r.mutable_upstream()->set_api_key("up-key");
  r.mutable_upstream()->set_upstream_model("gpt-4o-2024");
  r.mutable_request()->set_model("gpt-4o");
  r.mutable_request()->set_stream(stream);
  auto* m = r.mutable_request()->add_messages();
  m->set_role(llm::v1::ROLE_USER);
  m->add_parts()->set_text("hi");
  return r;
}

TEST(JoinUrlTest, HandlesSlashesAndVersionPrefix) {
  EXPECT_EQ(JoinUrl("https://api.openai.com", "/v1/chat/completions"), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(JoinUrl("https://api.openai.com/", "/v1/chat/completions"), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(JoinUrl("https://api.openai.com/v1", "/v1/chat/completions"), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(JoinUrl("http://h:1/x/a", "/v1/chat/completions"), "http://h:1/x/a/v1/chat/completions");
}

TEST(RetryableTest, Classification) {
  for (int s : {408, 429, 500, 502, 503, 529, 401, 403}) EXPECT_TRUE(RetryableHttpStatus(s)) << s;
  for (int s : {400, 404, 413, 422}) EXPECT_FALSE(RetryableHttpStatus(s)) << s;
}

TEST(OpenAIProviderTest, UnarySendsMappedModelAndCredentialAndDecodes) {
  http::MockHttpClient client;
  http::HttpClientRequest seen;
  EXPECT_CALL(client, Send(_)).WillOnce(Invoke([&](const http::HttpClientRequest& r) {
    seen = r;
    http::HttpClientResponse res;
    res.head.status = 200;
    res.body = R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],
                  "usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":2}}})";
    return absl::StatusOr<http::HttpClientResponse>(res);
  }));
  OpenAIProvider p(client);
  auto res = p.Generate(Req(false));
  ASSERT_TRUE(res.has_response());
  EXPECT_EQ(res.response().choices(0).message().parts(0).text(), "yo");
  EXPECT_EQ(res.response().usage().cached_tokens(), 2);
  EXPECT_EQ(seen.url, "http://127.0.0.1:9/x/a/v1/chat/completions");
  auto body = nlohmann::json::parse(seen.body);
  EXPECT_EQ(body["model"], "gpt-4o-2024");
  bool auth = false;
  for (auto& [k, v] : seen.headers) auth |= (k == "Authorization" && v == "Bearer up-key");
  EXPECT_TRUE(auth);
}

TEST(OpenAIProviderTest, UpstreamErrorsAreClassified) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Send(_))
      .WillOnce(Return(absl::StatusOr<http::HttpClientResponse>(
          http::HttpClientResponse{{500, {}}, R"({"error":{"message":"boom","type":"server_error"}})"})))
      .WillOnce(Return(absl::StatusOr<http::HttpClientResponse>(
          http::HttpClientResponse{{400, {}}, R"({"error":{"message":"bad stop","code":"invalid_value"}})"})))
      .WillOnce(Return(absl::StatusOr<http::HttpClientResponse>(absl::UnavailableError("connection refused"))))
      .WillOnce(Return(absl::StatusOr<http::HttpClientResponse>(http::HttpClientResponse{{200, {}}, "not json"})));
  OpenAIProvider p(client);
  auto r500 = p.Generate(Req(false));
  ASSERT_TRUE(r500.has_error());
  EXPECT_TRUE(r500.error().retryable());
  EXPECT_EQ(r500.error().message(), "boom");
  auto r400 = p.Generate(Req(false));
  EXPECT_FALSE(r400.error().retryable());
  EXPECT_EQ(r400.error().http_status(), 400);
  EXPECT_EQ(r400.error().type(), "invalid_value");
  auto rconn = p.Generate(Req(false));
  EXPECT_TRUE(rconn.error().retryable());
  EXPECT_EQ(rconn.error().http_status(), 0);
  auto rbad = p.Generate(Req(false));
  EXPECT_TRUE(rbad.error().retryable());
}

// Plays an SSE body split into pieces.
auto PlayStream(int status, std::vector<std::string> pieces, absl::Status end = absl::OkStatus()) {
  return Invoke([=](const http::HttpClientRequest&, const std::function<bool(const http::HttpClientResponseHead&)>& on_head,
                    const std::function<bool(std::string_view)>& on_data) -> absl::Status {
    http::HttpClientResponseHead h;
    h.status = status;
    if (!on_head(h)) return absl::CancelledError("head");
    for (const auto& p : pieces) {
      if (!on_data(p)) return absl::CancelledError("aborted");
    }
    return end;
  });
}

std::vector<v1::GenerateStreamResponse> Collect(Provider& p, const v1::GenerateRequest& req, int stop_after = -1) {
  std::vector<v1::GenerateStreamResponse> out;
  p.GenerateStream(req, [&](v1::GenerateStreamResponse&& ev) {
    out.push_back(std::move(ev));
    return stop_after < 0 || static_cast<int>(out.size()) < stop_after;
  });
  return out;
}

TEST(OpenAIProviderTest, StreamRelaysChunksSplitAnywhereAndUsage) {
  http::MockHttpClient client;
  std::string body =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  std::vector<std::string> pieces;
  for (size_t i = 0; i < body.size(); i += 7) pieces.push_back(body.substr(i, 7));
  EXPECT_CALL(client, Stream(_, _, _)).WillOnce(PlayStream(200, pieces));
  OpenAIProvider p(client);
  auto events = Collect(p, Req(true));
  ASSERT_EQ(events.size(), 4u);
  std::string text;
  for (auto& e : events) {
    ASSERT_TRUE(e.has_chunk());
    for (auto& d : e.chunk().deltas()) text += d.text();
  }
  EXPECT_EQ(text, "Hello");
  EXPECT_EQ(events[3].chunk().usage().prompt_tokens(), 9);
}

TEST(OpenAIProviderTest, StreamHttpErrorIsOneErrorEvent) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Stream(_, _, _)).WillOnce(PlayStream(429, {"{\"error\":{\"message\":\"slow ", "down\"}}"}));
  OpenAIProvider p(client);
  auto events = Collect(p, Req(true));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_error());
  EXPECT_TRUE(events[0].error().retryable());
  EXPECT_EQ(events[0].error().http_status(), 429);
  EXPECT_EQ(events[0].error().message(), "slow down");
}

TEST(OpenAIProviderTest, StreamCutMidwayEndsWithAnError) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Stream(_, _, _))
      .WillOnce(PlayStream(200, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"},
                           absl::UnavailableError("response started: connection reset")));
  OpenAIProvider p(client);
  auto events = Collect(p, Req(true));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_chunk());
  EXPECT_TRUE(events[1].has_error());
}

TEST(OpenAIProviderTest, StreamWithoutEndIsTruncated) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Stream(_, _, _))
      .WillOnce(PlayStream(200, {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"}));
  OpenAIProvider p(client);
  auto events = Collect(p, Req(true));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].error().type(), "upstream_stream_truncated");
}

TEST(OpenAIProviderTest, DownstreamGoneAbortsTheUpstreamRead) {
  http::MockHttpClient client;
  int pieces_read = 0;
  EXPECT_CALL(client, Stream(_, _, _))
      .WillOnce(Invoke([&](const http::HttpClientRequest&, const std::function<bool(const http::HttpClientResponseHead&)>& on_head,
                           const std::function<bool(std::string_view)>& on_data) -> absl::Status {
        on_head(http::HttpClientResponseHead{200, {}});
        for (int i = 0; i < 100; ++i) {
          ++pieces_read;
          if (!on_data("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n")) {
            return absl::CancelledError("aborted");
          }
        }
        return absl::OkStatus();
      }));
  OpenAIProvider p(client);
  auto events = Collect(p, Req(true), /*stop_after=*/3);
  EXPECT_EQ(events.size(), 3u);
  EXPECT_EQ(pieces_read, 3);
}

}  // namespace
}  // namespace routeall::adapter

namespace routeall::adapter {
namespace {

// A stream that sends only keep-alive comments after its head is cut by the content idle
// timeout, and the cut is marked "response started": not retried, not a channel failure.
TEST(ProviderLimitsTest, PingOnlyStreamIsCutAsStartedNotRetryable) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Stream(_, _, _))
      .WillOnce(Invoke([](const http::HttpClientRequest& r, const auto& on_head, const auto& on_data) {
        EXPECT_GT(r.total_timeout.count(), 0) << "a stream always carries a total limit";
        http::HttpClientResponseHead head;
        head.status = 200;
        if (!on_head(head)) return absl::CancelledError("head");
        for (int i = 0; i < 200; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          if (!on_data(": ping\n\n")) return absl::CancelledError("aborted by caller");
        }
        return absl::OkStatus();
      }));
  OpenAIProvider p(client);
  ProviderLimits limits;
  limits.stream_idle_timeout = std::chrono::milliseconds(100);
  p.set_limits(limits);
  std::vector<v1::GenerateStreamResponse> events;
  p.GenerateStream(Req(true), [&](v1::GenerateStreamResponse&& ev) {
    events.push_back(ev);
    return true;
  });
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_error());
  EXPECT_EQ(events[0].error().type(), "upstream_stream_idle");
  EXPECT_FALSE(events[0].error().retryable());
  EXPECT_TRUE(events[0].error().response_started());
}

TEST(ProviderLimitsTest, UnaryBodyCapAndCancelReachTheTransport) {
  http::MockHttpClient client;
  EXPECT_CALL(client, Send(_)).WillOnce(Invoke([](const http::HttpClientRequest& r) {
    EXPECT_EQ(r.max_body_bytes, 1234u);
    EXPECT_TRUE(r.cancelled && r.cancelled());
    return absl::StatusOr<http::HttpClientResponse>(absl::ResourceExhaustedError("response body exceeds 1234 bytes"));
  }));
  OpenAIProvider p(client);
  ProviderLimits limits;
  limits.max_body_bytes = 1234;
  p.set_limits(limits);
  auto res = p.Generate(Req(false), [] { return true; });
  ASSERT_TRUE(res.has_error());
  EXPECT_EQ(res.error().type(), "upstream_response_too_large");
  EXPECT_FALSE(res.error().retryable()) << "an oversized answer was produced (and paid) upstream";
  EXPECT_TRUE(res.error().response_started());
}

TEST(ProviderLimitsTest, TimeoutAfterTheHeadIsNotRetriedButBeforeItIs) {
  absl::Status before = absl::DeadlineExceededError("reading response head: first_byte_timeout exceeded");
  absl::Status after = absl::DeadlineExceededError("response started: reading response body: idle_timeout exceeded");
  after.SetPayload(http::kResponseStartedPayload, absl::Cord("1"));
  EXPECT_TRUE(TransportError(before).retryable());
  EXPECT_FALSE(TransportError(before).response_started());
  EXPECT_FALSE(TransportError(after).retryable());
  EXPECT_TRUE(TransportError(after).response_started());
}

}  // namespace
}  // namespace routeall::adapter
