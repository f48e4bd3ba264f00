// CircuitBreakerHealth on a fake clock: thresholds, transitions, half-open probe, auto-disable,
// replica sharing records and metrics.
#include "services/routing/circuit_breaker_health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace routeall::routing {
namespace {

using ::testing::HasSubstr;

class CircuitBreakerHealthTest : public ::testing::Test {
 protected:
  CircuitBreakerHealthTest() : metrics_(registry_) { Build(CircuitOptions{}); }

  void Build(CircuitOptions o) {
    health_ = std::make_unique<CircuitBreakerHealth>(o, [this] { return now_; }, &metrics_, "replica-a");
    Channel a;
    a.id = 1;
    a.name = "alpha";
    Channel b;
    b.id = 2;
    b.name = "beta";
    health_->Track({a, b});
  }

  void Fail(int64_t id = 1, int n = 1) {
    for (int i = 0; i < n; ++i) health_->Record(id, Outcome::kFailure, absl::Milliseconds(5), "HTTP 500");
  }
  void Succeed(int64_t id = 1, int n = 1, absl::Duration latency = absl::Milliseconds(100)) {
    for (int i = 0; i < n; ++i) health_->Record(id, Outcome::kSuccess, latency, "");
  }
  CircuitState State(int64_t id = 1) { return health_->Info(id).state; }
  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  prometheus::Registry registry_;
  RoutingMetrics metrics_;
  std::unique_ptr<CircuitBreakerHealth> health_;
};

TEST_F(CircuitBreakerHealthTest, OpensAfterConsecutiveFailures) {
  Fail(1, 2);
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Admit(1), Admission::kAllow);
  Fail();
  EXPECT_EQ(State(), CircuitState::kOpen);
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);
  EXPECT_EQ(health_->Admit(2), Admission::kAllow);  // per channel
  HealthInfo info = health_->Info(1);
  EXPECT_EQ(info.consecutive_failures, 3);
  EXPECT_EQ(info.last_error, "HTTP 500");
  EXPECT_EQ(info.opened_at, now_);
  EXPECT_EQ(info.retry_at, now_ + absl::Seconds(10));
}

TEST_F(CircuitBreakerHealthTest, SuccessResetsTheConsecutiveCount) {
  Fail(1, 2);
  Succeed();
  Fail(1, 2);
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Info(1).consecutive_failures, 2);
}

TEST_F(CircuitBreakerHealthTest, OpensOnErrorRateOnlyWithEnoughRequests) {
  // Alternating: never 3 in a row; 5/9 failed is above 50% but under the 10-request minimum.
  for (int i = 0; i < 4; ++i) {
    Fail();
    Succeed();
  }
  Fail();
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Info(1).window_requests, 9);
  Fail();  // 6/10 = 60% > 50%
  EXPECT_EQ(State(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerHealthTest, ExactlyTheThresholdRateDoesNotOpen) {
  for (int i = 0; i < 5; ++i) {
    Succeed();
    Fail();
  }
  EXPECT_EQ(State(), CircuitState::kClosed);  // 5/10 = 50%, not above
  EXPECT_DOUBLE_EQ(health_->Info(1).error_rate, 0.5);
}

TEST_F(CircuitBreakerHealthTest, OldOutcomesLeaveTheWindow) {
  for (int i = 0; i < 4; ++i) {
    Fail();
    Succeed();
  }
  Fail();
  now_ += absl::Seconds(31);  // all of the above expire
  Fail();
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Info(1).window_requests, 1);
}

TEST_F(CircuitBreakerHealthTest, ClientErrorsNeverCount) {
  for (int i = 0; i < 50; ++i) health_->Record(1, Outcome::kClientError, absl::Milliseconds(1), "HTTP 400");
  HealthInfo info = health_->Info(1);
  EXPECT_EQ(info.state, CircuitState::kClosed);
  EXPECT_EQ(info.window_requests, 0);
  EXPECT_EQ(info.consecutive_failures, 0);
  Fail(1, 2);
  health_->Record(1, Outcome::kClientError, absl::Milliseconds(1), "");
  Fail();  // the client error did not break the streak either
  EXPECT_EQ(State(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerHealthTest, HalfOpenLetsExactlyOneProbeThrough) {
  Fail(1, 3);
  now_ += absl::Seconds(9);
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);
  now_ += absl::Seconds(1);
  EXPECT_EQ(State(), CircuitState::kHalfOpen);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);  // probe in flight
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);
  Succeed();
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Admit(1), Admission::kAllow);
  HealthInfo info = health_->Info(1);
  EXPECT_EQ(info.consecutive_failures, 0);
  EXPECT_EQ(info.window_requests, 0);  // closing starts a fresh window
  EXPECT_EQ(info.opened_at, absl::InfinitePast());
}

TEST_F(CircuitBreakerHealthTest, UnansweredProbeSlotIsFreedAfterTheLease) {
  Fail(1, 3);
  now_ += absl::Seconds(10);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
  now_ += absl::Seconds(59);
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);
  now_ += absl::Seconds(1);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
}

TEST_F(CircuitBreakerHealthTest, ClientErrorOnTheProbeFreesTheSlot) {
  Fail(1, 3);
  now_ += absl::Seconds(10);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
  health_->Record(1, Outcome::kClientError, absl::Milliseconds(1), "");
  EXPECT_EQ(State(), CircuitState::kHalfOpen);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
}

TEST_F(CircuitBreakerHealthTest, FailedProbeReopensWithDoublingCooldownUpToTheCap) {
  Fail(1, 3);
  const absl::Time first_open = now_;
  absl::Duration expected = absl::Seconds(10);
  for (int i = 0; i < 8; ++i) {
    now_ += expected;
    ASSERT_EQ(health_->Admit(1), Admission::kProbe) << i;
    Fail();
    ASSERT_EQ(State(), CircuitState::kOpen);
    expected = std::min(expected * 2, absl::Minutes(5));
    EXPECT_EQ(health_->Info(1).retry_at, now_ + expected) << i;
    if (now_ - first_open + expected >= absl::Minutes(10)) break;
  }
  EXPECT_EQ(health_->Info(1).opened_at, first_open);  // the streak keeps its start
}

TEST_F(CircuitBreakerHealthTest, CooldownResetsAfterClosing) {
  Fail(1, 3);
  now_ += absl::Seconds(10);
  health_->Admit(1);
  Fail();  // re-open: 20 s
  now_ += absl::Seconds(20);
  health_->Admit(1);
  Succeed();
  Fail(1, 3);
  EXPECT_EQ(health_->Info(1).retry_at, now_ + absl::Seconds(10));
}

TEST_F(CircuitBreakerHealthTest, LateReportsWhileOpenDecideNothing) {
  Fail(1, 3);
  Succeed(1, 5);  // calls that started before the circuit opened
  EXPECT_EQ(State(), CircuitState::kOpen);
  Fail(1, 5);
  EXPECT_EQ(health_->Info(1).retry_at, now_ + absl::Seconds(10));  // no extra doubling
}

TEST_F(CircuitBreakerHealthTest, AutoDisablesAfterStayingOpenAndReenablesOnActiveProbe) {
  CircuitOptions o;
  o.auto_disable_after = absl::Minutes(2);
  Build(o);
  Fail(1, 3);
  // Every passive probe fails: the circuit never closes.
  while (now_ < absl::FromUnixSeconds(1'800'000'000) + absl::Minutes(2)) {
    now_ += absl::Seconds(10);
    if (health_->Admit(1) == Admission::kProbe) Fail();
  }
  health_->Sweep();
  EXPECT_EQ(State(), CircuitState::kAutoDisabled);
  EXPECT_EQ(health_->Admit(1), Admission::kDisabled);
  // Gateway traffic cannot bring it back, only an active probe.
  Succeed();
  EXPECT_EQ(State(), CircuitState::kAutoDisabled);
  ASSERT_EQ(health_->ProbeTargets(absl::Seconds(30)).size(), 1u);
  EXPECT_EQ(health_->ProbeTargets(absl::Seconds(30))[0].name, "alpha");
  health_->RecordProbe(1, false, absl::Milliseconds(5), "probe: HTTP 500");
  EXPECT_EQ(State(), CircuitState::kAutoDisabled);
  EXPECT_EQ(health_->Info(1).last_error, "probe: HTTP 500");
  health_->RecordProbe(1, true, absl::Milliseconds(5), "");
  EXPECT_EQ(State(), CircuitState::kClosed);
  EXPECT_EQ(health_->Admit(1), Admission::kAllow);
  EXPECT_TRUE(health_->ProbeTargets(absl::Seconds(30)).empty());
}

TEST_F(CircuitBreakerHealthTest, ProbeTargetsAreLongOpenChannelsOnly) {
  Fail(1, 3);
  Fail(2, 3);
  now_ += absl::Seconds(20);
  EXPECT_TRUE(health_->ProbeTargets(absl::Seconds(30)).empty());
  now_ += absl::Seconds(10);
  EXPECT_EQ(health_->ProbeTargets(absl::Seconds(30)).size(), 2u);
}

TEST_F(CircuitBreakerHealthTest, LatencyIsAnEwmaOfSuccesses) {
  Succeed(1, 1, absl::Milliseconds(100));
  EXPECT_EQ(health_->Info(1).latency, absl::Milliseconds(100));
  Succeed(1, 1, absl::Milliseconds(200));  // 0.2 * 200 + 0.8 * 100
  EXPECT_NEAR(absl::ToDoubleMilliseconds(health_->Info(1).latency), 120, 0.001);
  Fail();  // failures (often instant connection errors) do not move it
  EXPECT_NEAR(absl::ToDoubleMilliseconds(health_->Info(1).latency), 120, 0.001);
  EXPECT_THAT(Metrics(), HasSubstr("routeall_routing_channel_latency_seconds{channel=\"alpha\"} 0.12"));
}

TEST_F(CircuitBreakerHealthTest, UnknownChannelsAreIgnored) {
  Fail(99, 10);
  EXPECT_EQ(health_->Admit(99), Admission::kAllow);
  EXPECT_EQ(health_->Info(99).state, CircuitState::kClosed);
  EXPECT_TRUE(health_->TakeTransitions().empty());
}

TEST_F(CircuitBreakerHealthTest, UntrackedChannelsLoseTheirState) {
  Fail(1, 3);
  Channel b;
  b.id = 2;
  b.name = "beta";
  health_->Track({b});  // alpha disabled
  EXPECT_THAT(Metrics(), ::testing::Not(HasSubstr("channel=\"alpha\",state")));
  Channel a;
  a.id = 1;
  a.name = "alpha";
  health_->Track({a, b});  // and enabled again: a fresh start
  EXPECT_EQ(State(), CircuitState::kClosed);
}

TEST_F(CircuitBreakerHealthTest, MetricsShowStateAndTransitions) {
  EXPECT_THAT(Metrics(), HasSubstr("routeall_routing_channel_state{channel=\"alpha\",state=\"closed\"} 1"));
  Fail(1, 3);
  std::string m = Metrics();
  EXPECT_THAT(m, HasSubstr("routeall_routing_channel_state{channel=\"alpha\",state=\"open\"} 1"));
  EXPECT_THAT(m, HasSubstr("routeall_routing_channel_state{channel=\"alpha\",state=\"closed\"} 0"));
  EXPECT_THAT(m, HasSubstr(
                     "routeall_routing_circuit_transitions_total{channel=\"alpha\",from=\"closed\",to=\"open\"} 1"));
  now_ += absl::Seconds(10);
  health_->Admit(1);
  Succeed();
  m = Metrics();
  EXPECT_THAT(m, HasSubstr("from=\"open\",to=\"half_open\"} 1"));
  EXPECT_THAT(m, HasSubstr("from=\"half_open\",to=\"closed\"} 1"));
  EXPECT_THAT(m, HasSubstr("# HELP routeall_routing_channel_state"));
}

TEST_F(CircuitBreakerHealthTest, TransitionsAreQueuedForTheSharedTableWithoutHalfOpen) {
  Fail(1, 3);
  const absl::Time opened = now_;
  now_ += absl::Seconds(10);
  health_->Admit(1);
  Succeed();
  auto records = health_->TakeTransitions();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].state, CircuitState::kOpen);
  EXPECT_EQ(records[0].changed_at, opened);
  EXPECT_EQ(records[0].opened_at, opened);
  EXPECT_EQ(records[0].cooldown, absl::Seconds(10));
  EXPECT_EQ(records[0].last_error, "HTTP 500");
  EXPECT_EQ(records[0].replica, "replica-a");
  EXPECT_EQ(records[1].state, CircuitState::kClosed);
  EXPECT_EQ(records[1].changed_at, now_);
  EXPECT_TRUE(health_->TakeTransitions().empty());
}

TEST_F(CircuitBreakerHealthTest, AppliesNewerRecordsFromOtherReplicas) {
  HealthRecord open{1, CircuitState::kOpen, now_ - absl::Seconds(2), now_ - absl::Seconds(2), absl::Seconds(10),
                    "HTTP 503", "replica-b"};
  health_->Apply({open});
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);
  EXPECT_EQ(health_->Info(1).last_error, "HTTP 503");
  EXPECT_TRUE(health_->TakeTransitions().empty());  // adopted, not re-written
  now_ += absl::Seconds(8);                          // the other replica's cooldown ends
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);

  HealthRecord closed{1, CircuitState::kClosed, now_, absl::InfinitePast(), absl::ZeroDuration(), "", "replica-b"};
  health_->Apply({closed});
  EXPECT_EQ(health_->Admit(1), Admission::kAllow);
  // Replaying an older record changes nothing.
  health_->Apply({open});
  EXPECT_EQ(health_->Admit(1), Admission::kAllow);

  HealthRecord disabled{2, CircuitState::kAutoDisabled, now_, now_ - absl::Minutes(11), absl::Minutes(5), "x",
                        "replica-b"};
  health_->Apply({disabled});
  EXPECT_EQ(health_->Admit(2), Admission::kDisabled);
}

TEST_F(CircuitBreakerHealthTest, OwnRecordsReadBackChangeNothing) {
  Fail(1, 3);
  auto records = health_->TakeTransitions();
  ASSERT_EQ(records.size(), 1u);
  // The table keeps microseconds: the read-back is not newer than the local transition.
  records[0].changed_at = absl::FromUnixMicros(absl::ToUnixMicros(records[0].changed_at));
  now_ += absl::Seconds(10);
  EXPECT_EQ(health_->Admit(1), Admission::kProbe);
  health_->Apply(records);
  EXPECT_EQ(State(), CircuitState::kHalfOpen);
  EXPECT_EQ(health_->Admit(1), Admission::kOpen);  // the probe slot is still held
}

TEST_F(CircuitBreakerHealthTest, LocalTransitionNewerThanTheRecordWins) {
  now_ += absl::Seconds(10);
  Fail(1, 3);  // this replica opened later
  health_->Apply({HealthRecord{1, CircuitState::kClosed, now_ - absl::Seconds(1), absl::InfinitePast(),
                               absl::ZeroDuration(), "", "replica-b"}});
  EXPECT_EQ(State(), CircuitState::kOpen);
}

TEST(CircuitOptionsTest, Validates) {
  EXPECT_TRUE(ValidateCircuitOptions({}).ok());
  CircuitOptions o;
  o.error_rate = 0;
  EXPECT_FALSE(ValidateCircuitOptions(o).ok());
  o = {};
  o.max_cooldown = absl::Seconds(1);
  EXPECT_FALSE(ValidateCircuitOptions(o).ok());
  o = {};
  o.consecutive_failures = 0;
  EXPECT_FALSE(ValidateCircuitOptions(o).ok());
}

}  // namespace
}  // namespace routeall::routing
