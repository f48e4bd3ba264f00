// ChatPipeline with in-memory fakes of auth, routing and the adapter: auth failures,
// validation, routing gaps, silent failover before the first byte, no retry on client errors.
#include "gateway/chat_pipeline.h"

#include <gtest/gtest.h>

#include <deque>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "gateway/openai_dialect.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;
using nlohmann::json;

class FakeAuth : public AuthClient {
 public:
  absl::StatusOr<auth::v1::Principal> Authorize(const std::string& hash) override {
    if (hash == Sha256Hex("sk-ra-good")) {
      auth::v1::Principal p;
      p.set_account_id(1);
      p.set_group("default");
      return p;
    }
    if (hash == Sha256Hex("sk-ra-limited")) {
      auth::v1::Principal p;
      p.set_group("default");
      p.add_allowed_models("other");
      return p;
    }
    if (hash == Sha256Hex("sk-ra-disabled")) return absl::PermissionDeniedError("key disabled");
    return absl::NotFoundError("invalid API key");
  }
};

class FakeRouting : public RoutingClient {
 public:
  absl::StatusOr<std::vector<routing::v1::Candidate>> Route(const std::string& model, const std::string&) override {
    if (model != "gpt-4o") return std::vector<routing::v1::Candidate>{};
    return candidates;
  }
  absl::StatusOr<std::vector<std::string>> ListModels(const std::string&) override {
    return std::vector<std::string>{"gpt-4o"};
  }
  void ReportOutcome(const routing::v1::ReportOutcomeRequest& r) override { reports.push_back(r); }
  std::vector<routing::v1::Candidate> candidates;
  std::vector<routing::v1::ReportOutcomeRequest> reports;
};

class ScriptedStream : public AdapterStream {
 public:
  explicit ScriptedStream(std::deque<adapter::v1::GenerateStreamResponse> events, bool* cancelled)
      : events_(std::move(events)), cancelled_(cancelled) {}
  bool Read(adapter::v1::GenerateStreamResponse* ev) override {
    if (events_.empty() || *cancelled_) return false;
    *ev = events_.front();
    events_.pop_front();
    return true;
  }
  void Cancel() override { *cancelled_ = true; }
  absl::Status Finish() override { return absl::OkStatus(); }

 private:
  std::deque<adapter::v1::GenerateStreamResponse> events_;
  bool* cancelled_;
};

// Each channel id maps to a scripted behaviour.
class FakeAdapter : public AdapterClient {
 public:
  absl::StatusOr<adapter::v1::GenerateResponse> Generate(const adapter::v1::GenerateRequest& req,
                                                         std::chrono::milliseconds) override {
    calls.push_back(req);
    return unary.at(req.upstream().channel_id());
  }
  std::unique_ptr<AdapterStream> GenerateStream(const adapter::v1::GenerateRequest& req,
                                                std::chrono::milliseconds) override {
    calls.push_back(req);
    return std::make_unique<ScriptedStream>(streams.at(req.upstream().channel_id()), &cancelled);
  }
  std::map<int64_t, adapter::v1::GenerateResponse> unary;
  std::map<int64_t, std::deque<adapter::v1::GenerateStreamResponse>> streams;
  std::vector<adapter::v1::GenerateRequest> calls;
  bool cancelled = false;
};

class RecordingWriter : public ResponseWriter {
 public:
  bool Send(HttpResponse r) override {
    started = true;
    status = r.result_int();
    headers = r.base();
    body = r.body();
    return true;
  }
  bool BeginStream(http::response_header<> h) override {
    started = true;
    status = h.result_int();
    headers = h;
    return true;
  }
  bool Write(std::string_view d) override {
    if (fail_writes_after >= 0 && writes >= fail_writes_after) return false;
    ++writes;
    body.append(d);
    return true;
  }
  bool EndStream() override {
    ended = true;
    return true;
  }
  bool Started() const override { return started; }

  bool started = false, ended = false;
  int status = 0, writes = 0, fail_writes_after = -1;
  http::response_header<> headers;
  std::string body;
};

adapter::v1::GenerateResponse Ok(const std::string& text) {
  adapter::v1::GenerateResponse r;
  auto* c = r.mutable_response()->add_choices();
  c->mutable_message()->set_role(v1::ROLE_ASSISTANT);
  c->mutable_message()->add_parts()->set_text(text);
  c->set_finish_reason(v1::FINISH_REASON_STOP);
  r.mutable_response()->mutable_usage()->set_prompt_tokens(972);
  r.mutable_response()->mutable_usage()->set_cached_tokens(896);
  r.mutable_response()->mutable_usage()->set_completion_tokens(10);
  return r;
}

adapter::v1::GenerateResponse Err(int status, bool retryable, const std::string& msg = "upstream says no") {
  adapter::v1::GenerateResponse r;
  r.mutable_error()->set_http_status(status);
  r.mutable_error()->set_retryable(retryable);
  r.mutable_error()->set_message(msg);
  return r;
}

adapter::v1::GenerateStreamResponse Text(const std::string& t) {
  adapter::v1::GenerateStreamResponse e;
  e.mutable_chunk()->add_deltas()->set_text(t);
  return e;
}

class ChatPipelineTest : public ::testing::Test {
 protected:
  ChatPipelineTest()
      : pipeline_(auth_, routing_, adapter_, ChatPipelineOptions{}, [] { return std::string("req123"); },
                  [] { return int64_t{1700000000}; }, [this](const ChatResult& r) { results_.push_back(r); }) {
    for (int id : {1, 2, 3}) {
      routing::v1::Candidate c;
      c.set_channel_id(id);
      c.set_upstream_model("up-" + std::to_string(id));
      routing_.candidates.push_back(c);
    }
  }
  RecordingWriter Run(json body, const std::string& key = "sk-ra-good") {
    HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
    if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
    req.body() = body.dump();
    RecordingWriter w;
    pipeline_.Handle(dialect_, req, w);
    return w;
  }
  static json Body(bool stream = false) {
    json b = {{"model", "gpt-4o"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    if (stream) {
      b["stream"] = true;
      b["stream_options"] = {{"include_usage", true}};
    }
    return b;
  }

  FakeAuth auth_;
  FakeRouting routing_;
  FakeAdapter adapter_;
  OpenAIDialect dialect_;
  std::vector<ChatResult> results_;
  ChatPipeline pipeline_;
};

TEST_F(ChatPipelineTest, MissingAndBadKeysAre401InTheOpenAIEnvelope) {
  for (std::string key : {"", "sk-ra-wrong-key-123456", "sk-ra-disabled"}) {
    auto w = Run(Body(), key);
    EXPECT_EQ(w.status, 401) << key;
    auto j = json::parse(w.body);
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(j["error"]["code"].is_string());
    EXPECT_EQ(j["error"]["message"].get<std::string>().find("sk-ra-wrong-key-123456"), std::string::npos)
        << "the full key must never be echoed";
  }
  EXPECT_TRUE(adapter_.calls.empty());
}

TEST_F(ChatPipelineTest, BadParameterIs400NamingIt) {
  json b = Body();
  b["temperature"] = 3;
  auto w = Run(b);
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(json::parse(w.body)["error"]["param"], "temperature");
  EXPECT_TRUE(adapter_.calls.empty());
}

TEST_F(ChatPipelineTest, UnknownModelIs503NoAvailableChannel) {
  json b = Body();
  b["model"] = "nope";
  auto w = Run(b);
  EXPECT_EQ(w.status, 503);
  EXPECT_EQ(json::parse(w.body)["error"]["code"], "no_available_channel");
}

TEST_F(ChatPipelineTest, KeyRestrictedToOtherModelsGets404) {
  auto w = Run(Body(), "sk-ra-limited");
  EXPECT_EQ(w.status, 404);
  EXPECT_EQ(json::parse(w.body)["error"]["code"], "model_not_found");
}

TEST_F(ChatPipelineTest, SuccessMapsModelSetsUsageHeaders) {
  adapter_.unary[1] = Ok("hello");
  auto w = Run(Body());
  ASSERT_EQ(w.status, 200);
  auto j = json::parse(w.body);
  EXPECT_EQ(j["model"], "gpt-4o");
  EXPECT_EQ(j["id"], "chatcmpl-req123");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(w.headers["X-RouteAll-Usage-Prompt"], "972");
  EXPECT_EQ(w.headers["X-RouteAll-Usage-Cached-Tokens"], "896");
  EXPECT_EQ(w.headers["X-Request-Id"], "req123");
  ASSERT_EQ(adapter_.calls.size(), 1u);
  EXPECT_EQ(adapter_.calls[0].upstream().upstream_model(), "up-1");
  EXPECT_EQ(results_.back().usage.prompt_tokens(), 972);
}

TEST_F(ChatPipelineTest, RetryableFailureFailsOverSilently) {
  adapter_.unary[1] = Err(500, true);
  adapter_.unary[2] = Err(429, true);
  adapter_.unary[3] = Ok("third time");
  auto w = Run(Body());
  ASSERT_EQ(w.status, 200);
  EXPECT_EQ(json::parse(w.body)["choices"][0]["message"]["content"], "third time");
  EXPECT_EQ(adapter_.calls.size(), 3u);
  ASSERT_EQ(routing_.reports.size(), 3u);
  EXPECT_EQ(routing_.reports[0].outcome(), routing::v1::OUTCOME_FAILURE);
  EXPECT_EQ(routing_.reports[2].outcome(), routing::v1::OUTCOME_SUCCESS);
  EXPECT_EQ(results_.back().attempts, 3);
}

TEST_F(ChatPipelineTest, ClientErrorIsPassedBackNotRetried) {
  adapter_.unary[1] = Err(400, false, "stop sequence too long");
  adapter_.unary[2] = Ok("never");
  auto w = Run(Body());
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(json::parse(w.body)["error"]["message"], "stop sequence too long");
  EXPECT_EQ(adapter_.calls.size(), 1u);
  EXPECT_EQ(routing_.reports[0].outcome(), routing::v1::OUTCOME_CLIENT_ERROR);
}

TEST_F(ChatPipelineTest, EveryChannelFailingIs503OrAll429Is429) {
  for (int id : {1, 2, 3}) adapter_.unary[id] = Err(502, true);
  EXPECT_EQ(Run(Body()).status, 503);
  for (int id : {1, 2, 3}) adapter_.unary[id] = Err(429, true);
  auto w = Run(Body());
  EXPECT_EQ(w.status, 429);
  EXPECT_EQ(w.headers[http::field::retry_after], "1");
}

TEST_F(ChatPipelineTest, StreamFailsOverBeforeFirstByteAndEndsWithUsageThenDone) {
  adapter::v1::GenerateStreamResponse e500;
  e500.mutable_error()->set_retryable(true);
  e500.mutable_error()->set_http_status(500);
  adapter_.streams[1] = {e500};
  adapter::v1::GenerateStreamResponse usage;
  usage.mutable_chunk()->mutable_usage()->set_prompt_tokens(5);
  usage.mutable_chunk()->mutable_usage()->set_completion_tokens(2);
  adapter_.streams[2] = {Text("Hel"), Text("lo"), usage};
  auto w = Run(Body(true));
  ASSERT_EQ(w.status, 200);
  EXPECT_TRUE(w.ended);
  EXPECT_EQ(adapter_.calls.size(), 2u);
  // Parse the SSE body.
  std::vector<std::string> datas;
  size_t pos = 0;
  while ((pos = w.body.find("data: ", pos)) != std::string::npos) {
    auto end = w.body.find("\n\n", pos);
    datas.push_back(w.body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  ASSERT_EQ(datas.size(), 4u);
  EXPECT_EQ(json::parse(datas[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(json::parse(datas[1])["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(json::parse(datas[1])["id"], "chatcmpl-req123");
  auto u = json::parse(datas[2]);
  EXPECT_TRUE(u["choices"].empty());
  EXPECT_EQ(u["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(datas[3], "[DONE]");
  EXPECT_EQ(results_.back().usage.completion_tokens(), 2);
}

TEST_F(ChatPipelineTest, StreamBrokenAfterFirstByteEndsWithErrorEventNoFailover) {
  adapter::v1::GenerateStreamResponse cut;
  cut.mutable_error()->set_retryable(true);
  cut.mutable_error()->set_message("reset");
  adapter_.streams[1] = {Text("partial"), cut};
  adapter_.streams[2] = {Text("never")};
  auto w = Run(Body(true));
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(adapter_.calls.size(), 1u);
  EXPECT_NE(w.body.find("\"error\""), std::string::npos);
  EXPECT_EQ(w.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(w.body.find("never"), std::string::npos);
}

TEST_F(ChatPipelineTest, ClientGoneMidStreamCancelsUpstream) {
  adapter_.streams[1] = {Text("a"), Text("b"), Text("c"), Text("d")};
  HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good");
  req.body() = Body(true).dump();
  RecordingWriter w;
  w.fail_writes_after = 2;
  pipeline_.Handle(dialect_, req, w);
  EXPECT_TRUE(adapter_.cancelled);
  EXPECT_TRUE(results_.back().client_gone);
  EXPECT_FALSE(w.ended);
}

}  // namespace
}  // namespace routeall::gateway
