// HealthMonitor with two breakers sharing a FakeHealthStore and a scripted fake prober (no network).
#include "services/routing/health_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "services/routing/adapter_prober.h"
#include "services/routing/fake_health_store.h"

namespace routeall::routing {
namespace {

// Answers probes from a script; an empty script means success.
class FakeProber final : public ChannelProber {
 public:
  absl::StatusOr<ProbeResult> Probe(const Channel& channel, absl::Duration timeout) override {
    calls.push_back(channel.id);
    timeouts.push_back(timeout);
    if (script.empty()) return ProbeResult{ProbeResult::Kind::kSuccess, "", absl::Milliseconds(30)};
    auto next = script.front();
    script.pop_front();
    return next;
  }
  std::deque<absl::StatusOr<ProbeResult>> script;
  std::vector<int64_t> calls;
  std::vector<absl::Duration> timeouts;
};

std::vector<Channel> Channels(int n) {
  std::vector<Channel> out;
  for (int i = 1; i <= n; ++i) {
    Channel c;
    c.id = i;
    c.name = "ch" + std::to_string(i);
    c.provider = routeall::llm::v1::DIALECT_OPENAI;
    c.base_url = "http://up" + std::to_string(i);
    c.api_key = "k";
    c.models = {{"a-model", "a-upstream"}, {"b-model", "b-model"}};
    c.timeout = absl::Seconds(5);
    out.push_back(c);
  }
  return out;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitorTest() {
    CircuitOptions o;
    o.auto_disable_after = absl::Minutes(1);
    a_ = std::make_shared<CircuitBreakerHealth>(o, [this] { return now_; }, nullptr, "a");
    b_ = std::make_shared<CircuitBreakerHealth>(o, [this] { return now_; }, nullptr, "b");
    a_->Track(Channels(20));
    b_->Track(Channels(20));
    store_ = std::make_shared<FakeHealthStore>();
    prober_ = std::make_shared<FakeProber>();
    HealthMonitorOptions mo;
    mo.probe_interval = absl::Seconds(30);
    mo.probe_timeout = absl::Seconds(10);
    mo.max_probes_per_round = 16;
    monitor_a_ = std::make_unique<HealthMonitor>(a_, store_, prober_, mo);
    monitor_b_ = std::make_unique<HealthMonitor>(b_, store_, nullptr, mo);
  }

  void Open(CircuitBreakerHealth& h, int64_t id) {
    for (int i = 0; i < 3; ++i) h.Record(id, Outcome::kFailure, absl::Milliseconds(1), "HTTP 502");
  }
  // Keeps channel `id` open (failing every passive probe) until it is auto-disabled.
  void OpenUntilDisabled(int64_t id) {
    Open(*a_, id);
    for (int i = 0; i < 12 && a_->Info(id).state != CircuitState::kAutoDisabled; ++i) {
      now_ += absl::Seconds(10);
      if (a_->Admit(id) == Admission::kProbe) a_->Record(id, Outcome::kFailure, absl::Milliseconds(1), "HTTP 502");
    }
    ASSERT_EQ(a_->Info(id).state, CircuitState::kAutoDisabled);
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::shared_ptr<CircuitBreakerHealth> a_, b_;
  std::shared_ptr<FakeHealthStore> store_;
  std::shared_ptr<FakeProber> prober_;
  std::unique_ptr<HealthMonitor> monitor_a_, monitor_b_;
};

TEST_F(HealthMonitorTest, AnOpenCircuitReachesTheOtherReplicaOnSync) {
  Open(*a_, 1);
  EXPECT_EQ(b_->Admit(1), Admission::kAllow);
  ASSERT_TRUE(monitor_a_->SyncOnce().ok());
  ASSERT_TRUE(monitor_b_->SyncOnce().ok());
  EXPECT_EQ(b_->Admit(1), Admission::kOpen);
  EXPECT_EQ(b_->Info(1).last_error, "HTTP 502");
  // b's half-open probe succeeds: a closes too.
  now_ += absl::Seconds(10);
  EXPECT_EQ(b_->Admit(1), Admission::kProbe);
  b_->Record(1, Outcome::kSuccess, absl::Milliseconds(1), "");
  ASSERT_TRUE(monitor_b_->SyncOnce().ok());
  ASSERT_TRUE(monitor_a_->SyncOnce().ok());
  EXPECT_EQ(a_->Admit(1), Admission::kAllow);
}

TEST_F(HealthMonitorTest, UnsavedTransitionsAreRetried) {
  store_->set_failure(absl::UnavailableError("db down"));
  Open(*a_, 1);
  EXPECT_FALSE(monitor_a_->SyncOnce().ok());
  store_->set_failure(absl::OkStatus());
  ASSERT_TRUE(monitor_a_->SyncOnce().ok());
  ASSERT_TRUE(monitor_b_->SyncOnce().ok());
  EXPECT_EQ(b_->Admit(1), Admission::kOpen);
}

TEST_F(HealthMonitorTest, SyncAppliesAutoDisableByTimeAndSharesIt) {
  OpenUntilDisabled(1);
  ASSERT_TRUE(monitor_a_->SyncOnce().ok());
  ASSERT_TRUE(monitor_b_->SyncOnce().ok());
  EXPECT_EQ(b_->Info(1).state, CircuitState::kAutoDisabled);
  EXPECT_EQ(b_->Admit(1), Admission::kDisabled);
}

TEST_F(HealthMonitorTest, ActiveProbeReenablesAnAutoDisabledChannel) {
  OpenUntilDisabled(1);
  prober_->script.push_back(ProbeResult{ProbeResult::Kind::kFailure, "probe: HTTP 500", absl::Milliseconds(3)});
  EXPECT_EQ(monitor_a_->ProbeOnce(), 1);
  EXPECT_EQ(a_->Info(1).state, CircuitState::kAutoDisabled);
  prober_->script.push_back(absl::UnavailableError("adapter down"));  // says nothing about the channel
  EXPECT_EQ(monitor_a_->ProbeOnce(), 1);
  EXPECT_EQ(a_->Info(1).state, CircuitState::kAutoDisabled);
  EXPECT_EQ(monitor_a_->ProbeOnce(), 1);  // success
  EXPECT_EQ(a_->Info(1).state, CircuitState::kClosed);
  EXPECT_EQ(a_->Admit(1), Admission::kAllow);
  EXPECT_EQ(monitor_a_->ProbeOnce(), 0);  // nothing left to probe
  EXPECT_EQ(prober_->timeouts[0], absl::Seconds(5));  // min(probe timeout, channel timeout)
  // And the other replica hears of the re-enable.
  ASSERT_TRUE(monitor_a_->SyncOnce().ok());
  ASSERT_TRUE(monitor_b_->SyncOnce().ok());
  EXPECT_EQ(b_->Admit(1), Admission::kAllow);
}

TEST_F(HealthMonitorTest, ProbeRejectedAsClientErrorDecidesNothing) {
  OpenUntilDisabled(1);
  prober_->script.push_back(ProbeResult{ProbeResult::Kind::kClientError, "HTTP 400", absl::Milliseconds(3)});
  EXPECT_EQ(monitor_a_->ProbeOnce(), 1);
  EXPECT_EQ(a_->Info(1).state, CircuitState::kAutoDisabled);
}

TEST_F(HealthMonitorTest, RoundsAreBounded) {
  for (int64_t id = 1; id <= 20; ++id) Open(*a_, id);
  now_ += absl::Seconds(31);
  for (int i = 0; i < 20; ++i) {
    prober_->script.push_back(ProbeResult{ProbeResult::Kind::kFailure, "x", absl::Milliseconds(1)});
  }
  EXPECT_EQ(monitor_a_->ProbeOnce(), 16);
  EXPECT_EQ(prober_->calls.front(), 1);
}

TEST(AdapterProberTest, RequestIsOneTokenOnTheFirstModel) {
  Channel c = Channels(1)[0];
  auto req = AdapterProber::MakeRequest(c, absl::Seconds(10), 7);
  EXPECT_EQ(req.request_id(), "probe-1-7");
  EXPECT_EQ(req.upstream().channel_id(), 1);
  EXPECT_EQ(req.upstream().base_url(), "http://up1");
  EXPECT_EQ(req.upstream().upstream_model(), "a-upstream");
  EXPECT_EQ(req.upstream().timeout().seconds(), 10);
  EXPECT_EQ(req.request().model(), "a-model");
  EXPECT_EQ(req.request().max_tokens(), 1);
  ASSERT_EQ(req.request().messages_size(), 1);
  EXPECT_FALSE(req.request().stream());
}

}  // namespace
}  // namespace routeall::routing
