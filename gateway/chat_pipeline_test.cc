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
    if (hash == Sha256Hex("sk-ra-good00000000000000000000000000000000000000000000")) {
      auth::v1::Principal p;
      p.set_account_id(1);
      p.set_group("default");
      p.set_multiplier_ppm(1000000);
      return p;
    }
    if (hash == Sha256Hex("sk-ra-limited00000000000000000000000000000000000000000")) {
      auth::v1::Principal p;
      p.set_group("default");
      p.add_allowed_models("other");
      return p;
    }
    if (hash == Sha256Hex("sk-ra-disabled0000000000000000000000000000000000000000")) return absl::PermissionDeniedError("key disabled");
    return absl::NotFoundError("invalid API key");
  }
};

class FakeRouting : public RoutingClient {
 public:
  absl::StatusOr<std::vector<routing::v1::Candidate>> Route(const std::string& model, const std::string&) override {
    if (model != "gpt-4o" && model != "unpriced") return std::vector<routing::v1::Candidate>{};
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

class FakeBilling : public BillingClient {
 public:
  absl::StatusOr<billing::v1::ReserveResponse> Reserve(const billing::v1::ReserveRequest& r) override {
    reserves.push_back(r);
    if (r.model() == "unpriced") return absl::NotFoundError("no price");
    if (broke) return absl::FailedPreconditionError("available 0.000001 credits, this request may cost up to 0.04");
    if (down) return absl::DeadlineExceededError("deadline exceeded");
    billing::v1::ReserveResponse res;
    res.set_hold_id("hold-" + r.request_id());
    res.mutable_price()->set_input_per_mtok(2500000);
    res.mutable_price()->set_cache_read_per_mtok(1250000);
    res.mutable_price()->set_output_per_mtok(10000000);
    res.mutable_price()->set_version(7);
    return res;
  }
  void Release(const std::string& hold_id, int64_t, const std::string& request_id = "") override {
    released.push_back(hold_id.empty() ? "request:" + request_id : hold_id);
  }
  absl::StatusOr<billing::v1::GetUsageResponse> GetUsage(const billing::v1::GetUsageRequest& q) override {
    usage_queries.push_back(q);
    billing::v1::GetUsageResponse r;
    auto* rec = r.add_records();
    rec->set_request_id("r1");
    rec->set_reasoning_tokens(12);
    rec->set_charge("0.001410");
    return r;
  }
  std::vector<billing::v1::GetUsageRequest> usage_queries;
  bool broke = false;
  bool down = false;
  std::vector<billing::v1::ReserveRequest> reserves;
  std::vector<std::string> released;
};

class FakeSink : public UsageSink {
 public:
  void Publish(const billing::v1::UsageEvent& e) override { events.push_back(e); }
  std::vector<billing::v1::UsageEvent> events;
};

// Counts one token per byte of output and 100 for any prompt: enough to see it was used.
class FakeCounter : public UsageCounter {
 public:
  v1::Usage Count(const v1::ChatRequest&, const std::string& produced) const override {
    v1::Usage u;
    u.set_prompt_tokens(100);
    u.set_completion_tokens(static_cast<int64_t>(produced.size()));
    u.set_source(v1::USAGE_SOURCE_COUNTED);
    return u;
  }
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
  bool EndStream(const http::fields* t) override {
    ended = true;
    if (t) trailers = *t;
    return true;
  }
  bool Started() const override { return started; }

  bool started = false, ended = false;
  int status = 0, writes = 0, fail_writes_after = -1;
  http::response_header<> headers;
  http::fields trailers;
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
  r.mutable_response()->mutable_usage()->set_source(v1::USAGE_SOURCE_UPSTREAM);
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
      : pipeline_(ChatPipelineDeps{&auth_, &routing_, &adapter_, &billing_, &sink_, &counter_,
                                   [] { return std::string("req123"); }, [] { return int64_t{1700000000}; },
                                   [this](const ChatResult& r) { results_.push_back(r); }},
                  ChatPipelineOptions{}) {
    for (int id : {1, 2, 3}) {
      routing::v1::Candidate c;
      c.set_channel_id(id);
      c.set_upstream_model("up-" + std::to_string(id));
      routing_.candidates.push_back(c);
    }
  }
  ChatPipeline MakePipeline(ChatPipelineOptions o) {
    return ChatPipeline(ChatPipelineDeps{&auth_, &routing_, &adapter_, &billing_, &sink_, &counter_,
                                         [] { return std::string("req123"); }, [] { return int64_t{1700000000}; },
                                         [this](const ChatResult& r) { results_.push_back(r); }},
                        o);
  }
  RecordingWriter Run(json body, const std::string& key = "sk-ra-good00000000000000000000000000000000000000000000") {
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
  FakeBilling billing_;
  FakeSink sink_;
  FakeCounter counter_;
  OpenAIDialect dialect_;
  std::vector<ChatResult> results_;
  ChatPipeline pipeline_;
};

TEST_F(ChatPipelineTest, MissingAndBadKeysAre401InTheOpenAIEnvelope) {
  for (std::string key : std::vector<std::string>{"", "sk-ra-wrong-key-123456", "sk-ra-disabled0000000000000000000000000000000000000000",
                          "sk-ra-" + std::string(48, 'x')}) {
    auto w = Run(Body(), key);
    EXPECT_EQ(w.status, 401) << key;
    auto j = json::parse(w.body);
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(j["error"]["code"].is_string());
    if (!key.empty()) {
      EXPECT_EQ(j["error"]["message"].get<std::string>().find(key.substr(0, 12)), std::string::npos)
          << "no part of a key is ever echoed";
    }
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
  EXPECT_TRUE(billing_.reserves.empty()) << "no hold for a model nobody serves";
}

TEST_F(ChatPipelineTest, KeyRestrictedToOtherModelsGets404) {
  auto w = Run(Body(), "sk-ra-limited00000000000000000000000000000000000000000");
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
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  req.body() = Body(true).dump();
  RecordingWriter w;
  w.fail_writes_after = 2;
  ChatPipelineOptions no_drain;
  no_drain.client_gone_drain = std::chrono::milliseconds(0);
  MakePipeline(no_drain).Handle(dialect_, req, w);
  EXPECT_TRUE(adapter_.cancelled);
  EXPECT_TRUE(results_.back().client_gone);
  EXPECT_FALSE(w.ended);
}

TEST_F(ChatPipelineTest, ChargeHeaderEqualsTheUsageEventAndCachedTokensBillAtCacheRate) {
  adapter_.unary[1] = Ok("hello");
  auto w = Run(Body());
  ASSERT_EQ(w.status, 200);
  // 76 x 2.5 + 896 x 1.25 + 10 x 10 = 190 + 1120 + 100 = 1410 micro-credits.
  EXPECT_EQ(w.headers["X-RouteAll-Charge-Credit"], "0.001410");
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.charge_micros(), 1410);
  EXPECT_EQ(ev.request_id(), "req123");
  EXPECT_EQ(ev.account_id(), 1);
  EXPECT_EQ(ev.price_version(), 7);
  EXPECT_EQ(ev.hold_id(), "hold-req123");
  EXPECT_EQ(ev.usage().cached_tokens(), 896);
  EXPECT_EQ(ev.outcome(), billing::v1::REQUEST_OUTCOME_COMPLETED);
  EXPECT_TRUE(billing_.released.empty()) << "a settled hold is released by billing, not here";
}

TEST_F(ChatPipelineTest, HoldIsSizedFromMaxTokensAndN) {
  adapter_.unary[1] = Ok("x");
  json b = Body();
  b["max_tokens"] = 50;
  b["n"] = 2;
  Run(b);
  ASSERT_EQ(billing_.reserves.size(), 1u);
  EXPECT_EQ(billing_.reserves[0].max_output_tokens(), 100);
  EXPECT_GT(billing_.reserves[0].estimated_prompt_tokens(), 0);
}

TEST_F(ChatPipelineTest, InsufficientBalanceIs402BeforeAnyUpstreamCall) {
  billing_.broke = true;
  auto w = Run(Body());
  EXPECT_EQ(w.status, 402);
  auto j = json::parse(w.body);
  EXPECT_EQ(j["error"]["code"], "insufficient_balance");
  EXPECT_TRUE(adapter_.calls.empty());
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(ChatPipelineTest, UnpricedModelIsNotServed) {
  json b = Body();
  b["model"] = "unpriced";
  auto w = Run(b);
  EXPECT_EQ(w.status, 503);
  EXPECT_EQ(json::parse(w.body)["error"]["code"], "model_not_priced");
  EXPECT_TRUE(adapter_.calls.empty());
}

TEST_F(ChatPipelineTest, FailedRequestReleasesItsHoldAndBillsNothing) {
  for (int id : {1, 2, 3}) adapter_.unary[id] = Err(500, true);
  Run(Body());
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(billing_.released, std::vector<std::string>{"hold-req123"});
  adapter_.unary[1] = Err(400, false);
  Run(Body());
  EXPECT_EQ(billing_.released.size(), 2u);
}

TEST_F(ChatPipelineTest, FailoverBillsOnlyTheAnsweringChannelOnce) {
  adapter_.unary[1] = Err(503, true);
  adapter_.unary[2] = Ok("second");
  Run(Body());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].channel_id(), 2);
}

TEST_F(ChatPipelineTest, StreamSendsUsageAndChargeAsTrailersMatchingTheEvent) {
  adapter::v1::GenerateStreamResponse usage;
  usage.mutable_chunk()->mutable_usage()->set_prompt_tokens(972);
  usage.mutable_chunk()->mutable_usage()->set_cached_tokens(896);
  usage.mutable_chunk()->mutable_usage()->set_completion_tokens(10);
  adapter_.streams[1] = {Text("a"), usage};
  auto w = Run(Body(true));
  ASSERT_TRUE(w.ended);
  EXPECT_NE(std::string(w.headers[http::field::trailer]).find("X-RouteAll-Charge-Credit"), std::string::npos);
  EXPECT_EQ(w.trailers["X-RouteAll-Charge-Credit"], "0.001410");
  EXPECT_EQ(w.trailers["X-RouteAll-Usage-Cached-Tokens"], "896");
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].charge_micros(), 1410);
  EXPECT_TRUE(sink_.events[0].stream());
}

TEST_F(ChatPipelineTest, StreamCutByClientBillsWhatWasProducedNotZeroNotAll) {
  adapter_.streams[1] = {Text("aaaa"), Text("bbbb"), Text("cccc"), Text("dddd")};
  HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  req.body() = Body(true).dump();
  RecordingWriter w;
  w.fail_writes_after = 2;  // the client reads two chunks, then is gone
  ChatPipelineOptions no_drain;  // the fallback when the upstream cannot be drained
  no_drain.client_gone_drain = std::chrono::milliseconds(0);
  MakePipeline(no_drain).Handle(dialect_, req, w);
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& ev = sink_.events[0];
  EXPECT_EQ(ev.outcome(), billing::v1::REQUEST_OUTCOME_CLIENT_ABORTED);
  EXPECT_EQ(ev.usage().source(), v1::USAGE_SOURCE_COUNTED);
  // Produced before the cut: "aaaa", "bbbb" written, "cccc" read when the write failed.
  EXPECT_EQ(ev.usage().completion_tokens(), 12);
  EXPECT_EQ(ev.usage().prompt_tokens(), 100);
  EXPECT_GT(ev.charge_micros(), 0);
}

TEST_F(ChatPipelineTest, CutStreamWithOnlyPartialUsageBillsCountedOutputAndReportedPrompt) {
  // Like an Anthropic upstream: usage (prompt exact, output 1) arrives at the start.
  adapter::v1::GenerateStreamResponse start;
  start.mutable_chunk()->mutable_usage()->set_prompt_tokens(972);
  start.mutable_chunk()->mutable_usage()->set_cached_tokens(896);
  start.mutable_chunk()->mutable_usage()->set_completion_tokens(1);
  adapter_.streams[1] = {start, Text("aaaa"), Text("bbbb"), Text("cccc"), Text("dddd")};
  HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  req.body() = Body(true).dump();
  RecordingWriter w;
  w.fail_writes_after = 2;
  ChatPipelineOptions no_drain;
  no_drain.client_gone_drain = std::chrono::milliseconds(0);
  MakePipeline(no_drain).Handle(dialect_, req, w);
  ASSERT_EQ(sink_.events.size(), 1u);
  const auto& u = sink_.events[0].usage();
  EXPECT_EQ(u.prompt_tokens(), 972);
  EXPECT_EQ(u.cached_tokens(), 896);
  EXPECT_EQ(u.completion_tokens(), 12) << "counted, not the partial 1";
}

TEST_F(ChatPipelineTest, UpstreamWithoutUsageIsCountedNotBilledZero) {
  adapter::v1::GenerateResponse r = Ok("hello");
  r.mutable_response()->clear_usage();
  adapter_.unary[1] = r;
  auto w = Run(Body());
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].usage().prompt_tokens(), 100);
  EXPECT_EQ(sink_.events[0].usage().completion_tokens(), 5);
  EXPECT_EQ(w.headers["X-RouteAll-Usage-Completion"], "5");
}

TEST_F(ChatPipelineTest, UsageApiIsScopedToTheKeysAccountInCamelCase) {
  HttpRequest req{http::verb::get, "/v1/usage?from=2026-11-01T00:00:00Z&limit=5", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  RecordingWriter w;
  pipeline_.HandleUsage(dialect_, req, w);
  ASSERT_EQ(w.status, 200);
  ASSERT_EQ(billing_.usage_queries.size(), 1u);
  EXPECT_EQ(billing_.usage_queries[0].account_id(), 1);
  EXPECT_EQ(billing_.usage_queries[0].limit(), 5);
  EXPECT_EQ(billing_.usage_queries[0].from().seconds(), 1793491200);
  auto j = json::parse(w.body);
  EXPECT_EQ(j["records"][0]["reasoningTokens"], "12");  // int64 is a JSON string in proto3 JSON
  EXPECT_EQ(j["records"][0]["charge"], "0.001410");
  HttpRequest bad{http::verb::get, "/v1/usage?from=yesterday", 11};
  bad.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  RecordingWriter w2;
  pipeline_.HandleUsage(dialect_, bad, w2);
  EXPECT_EQ(w2.status, 400);
  EXPECT_EQ(json::parse(w2.body)["error"]["param"], "from");
}


TEST_F(ChatPipelineTest, ClientGoneStreamIsDrainedAndBilledOnUpstreamUsage) {
  adapter::v1::GenerateStreamResponse usage;
  usage.mutable_chunk()->mutable_usage()->set_prompt_tokens(10);
  usage.mutable_chunk()->mutable_usage()->set_completion_tokens(50);
  usage.mutable_chunk()->mutable_usage()->set_reasoning_tokens(40);
  usage.mutable_chunk()->mutable_usage()->set_source(v1::USAGE_SOURCE_UPSTREAM);
  adapter_.streams[1] = {Text("a"), Text("b"), Text("c"), Text("d"), usage};
  HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  req.body() = Body(true).dump();
  RecordingWriter w;
  w.fail_writes_after = 2;
  pipeline_.Handle(dialect_, req, w);
  EXPECT_FALSE(adapter_.cancelled) << "the upstream is drained, not cut";
  ASSERT_EQ(sink_.events.size(), 1u);
  // The upstream's own report (hidden reasoning included), not a count of 2 delivered chunks.
  EXPECT_EQ(sink_.events[0].usage().completion_tokens(), 50);
  EXPECT_EQ(sink_.events[0].usage().reasoning_tokens(), 40);
  EXPECT_EQ(sink_.events[0].outcome(), billing::v1::REQUEST_OUTCOME_CLIENT_ABORTED);
}

TEST_F(ChatPipelineTest, SlowGenerationIsNotRetriedNorAChannelFailure) {
  adapter::v1::GenerateResponse slow = Err(504, false, "response started: reading response body: idle_timeout");
  slow.mutable_error()->set_response_started(true);
  slow.mutable_error()->set_type("upstream_timeout_while_generating");
  adapter_.unary[1] = slow;
  adapter_.unary[2] = Ok("second channel");
  auto w = Run(Body());
  EXPECT_EQ(w.status, 504);
  EXPECT_EQ(adapter_.calls.size(), 1u) << "never paid twice";
  ASSERT_EQ(routing_.reports.size(), 1u);
  EXPECT_EQ(routing_.reports[0].outcome(), routing::v1::OUTCOME_SUCCESS) << "the channel was answering";
  ASSERT_EQ(sink_.events.size(), 1u) << "the consumed prompt is billed";
  EXPECT_EQ(sink_.events[0].usage().prompt_tokens(), 100);
  EXPECT_EQ(sink_.events[0].outcome(), billing::v1::REQUEST_OUTCOME_UPSTREAM_FAILED);
  EXPECT_EQ(w.body.find("idle_timeout"), std::string::npos) << "internal detail stays in the logs";
}

TEST_F(ChatPipelineTest, ImplausibleUsageIsCountedNotBilledAsReported) {
  for (int64_t bad : {int64_t{-1}, -(int64_t{1} << 50), int64_t{1} << 40}) {
    sink_.events.clear();
    auto r = Ok("four bytes");
    r.mutable_response()->mutable_usage()->set_completion_tokens(bad);
    adapter_.unary[1] = r;
    auto w = Run(Body());
    ASSERT_EQ(w.status, 200) << bad;
    ASSERT_EQ(sink_.events.size(), 1u);
    EXPECT_EQ(sink_.events[0].usage().source(), v1::USAGE_SOURCE_COUNTED) << bad;
    EXPECT_EQ(sink_.events[0].usage().completion_tokens(), 10) << bad;  // FakeCounter: bytes of "four bytes"
    EXPECT_GT(sink_.events[0].charge_micros(), 0) << bad;
  }
  // Cache beyond the prompt is inconsistent too.
  v1::Usage u;
  u.set_prompt_tokens(5);
  u.set_cached_tokens(6);
  EXPECT_FALSE(PlausibleUsage(u, 1000));
  u.set_cached_tokens(5);
  EXPECT_TRUE(PlausibleUsage(u, 1000));
}

TEST_F(ChatPipelineTest, MissingMaxTokensIsSentUpstreamAndHeld) {
  adapter_.unary[1] = Ok("hello");
  ASSERT_EQ(Run(Body()).status, 200);
  ASSERT_EQ(adapter_.calls.size(), 1u);
  EXPECT_EQ(adapter_.calls[0].request().max_tokens(), 4096);
  EXPECT_EQ(billing_.reserves.back().max_output_tokens(), 4096);
  json withmax = Body();
  withmax["max_tokens"] = 77;
  ASSERT_EQ(Run(withmax).status, 200);
  EXPECT_EQ(adapter_.calls[1].request().max_tokens(), 77);
  EXPECT_EQ(billing_.reserves.back().max_output_tokens(), 77);
}

TEST(UpstreamText, AddressesUrlsAndCredentialsAreRedacted) {
  std::string out = RedactUpstreamText(
      "Incorrect API key provided: sk-proj-abcdefghijklmnop. See https://platform.openai.com/account for "
      "details; upstream 10.0.3.7 via proxy.internal:8443 said max_tokens is too large");
  EXPECT_EQ(out.find("sk-proj"), std::string::npos);
  EXPECT_EQ(out.find("https://"), std::string::npos);
  EXPECT_EQ(out.find("10.0.3.7"), std::string::npos);
  EXPECT_EQ(out.find("8443"), std::string::npos);
  EXPECT_NE(out.find("max_tokens is too large"), std::string::npos);
  EXPECT_LE(RedactUpstreamText(std::string(5000, 'a') + " b").size(), 310u);
}


TEST_F(ChatPipelineTest, ReserveTimeoutReleasesTheHoldByRequestId) {
  billing_.down = true;
  auto w = Run(Body());
  EXPECT_EQ(w.status, 503);
  ASSERT_EQ(billing_.released.size(), 1u);
  EXPECT_EQ(billing_.released[0], "request:req123");
  EXPECT_TRUE(adapter_.calls.empty());
}

TEST_F(ChatPipelineTest, FailoverStopsAtMaxAttempts) {
  for (int id : {4, 5}) {
    routing::v1::Candidate c;
    c.set_channel_id(id);
    routing_.candidates.push_back(c);
  }
  for (int id : {1, 2, 3, 4, 5}) adapter_.unary[id] = Err(500, true);
  ChatPipelineOptions two;
  two.max_attempts = 2;
  RecordingWriter w;
  HttpRequest req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer sk-ra-good00000000000000000000000000000000000000000000");
  req.body() = Body().dump();
  MakePipeline(two).Handle(dialect_, req, w);
  EXPECT_EQ(w.status, 503);
  EXPECT_EQ(adapter_.calls.size(), 2u);
  EXPECT_EQ(billing_.released.size(), 1u) << "the hold is released, nothing billed";
  EXPECT_TRUE(sink_.events.empty());
}

}  // namespace
}  // namespace routeall::gateway
