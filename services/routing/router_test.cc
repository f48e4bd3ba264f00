// Router over FakeChannelStore with a seeded RNG: filtering, ordering, weights, reloads, validation.
#include "services/routing/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "services/routing/circuit_breaker_health.h"
#include "services/routing/fake_channel_store.h"

namespace routeall::routing {
namespace {

using routeall::llm::v1::DIALECT_ANTHROPIC;
using routeall::llm::v1::DIALECT_OPENAI;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Channel MakeChannel(const std::string& name, int32_t priority = 0, int32_t weight = 1,
                    std::vector<std::string> groups = {}) {
  Channel c;
  c.name = name;
  c.provider = DIALECT_OPENAI;
  c.base_url = "https://" + name + ".example";
  c.api_key = "key-" + name;
  c.models = {{"gpt-4o", ""}};
  c.groups = std::move(groups);
  c.priority = priority;
  c.weight = weight;
  return c;
}

std::vector<std::string> Names(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.channel_name);
  return out;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : store_(std::make_shared<FakeChannelStore>()),
        metrics_(registry_),
        router_(
            store_, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }, &metrics_) {}

  int64_t Add(Channel c) {
    auto created = router_.CreateChannel(std::move(c));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->id : 0;
  }

  std::vector<std::string> RouteNames(const std::string& model = "gpt-4o",
                                      const std::string& group = "default") {
    auto r = router_.Route(model, group);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Names(*r) : std::vector<std::string>{};
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  std::mt19937_64 rng_{42};
  std::shared_ptr<FakeChannelStore> store_;
  prometheus::Registry registry_;
  RoutingMetrics metrics_;
  Router router_;
};

TEST_F(RouterTest, OrdersByPriorityDescending) {
  Add(MakeChannel("low", 1));
  Add(MakeChannel("high", 10));
  Add(MakeChannel("mid", 5));
  for (int i = 0; i < 20; ++i) EXPECT_THAT(RouteNames(), ElementsAre("high", "mid", "low"));
}

TEST_F(RouterTest, CandidateCarriesWhatTheGatewayNeeds) {
  Channel c = MakeChannel("claude-direct", 3);
  c.provider = DIALECT_ANTHROPIC;
  c.models = {{"claude-sonnet", "claude-sonnet-4-20250514"}, {"gpt-4o", ""}};
  c.timeout = absl::Seconds(90);
  Add(c);
  auto r = router_.Route("claude-sonnet", "any");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  const Candidate& got = (*r)[0];
  EXPECT_GT(got.channel_id, 0);
  EXPECT_EQ(got.channel_name, "claude-direct");
  EXPECT_EQ(got.provider, DIALECT_ANTHROPIC);
  EXPECT_EQ(got.base_url, "https://claude-direct.example");
  EXPECT_EQ(got.api_key, "key-claude-direct");
  EXPECT_EQ(got.upstream_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(got.priority, 3);
  EXPECT_EQ(got.timeout, absl::Seconds(90));
  // An empty upstream_model means the canonical name.
  EXPECT_EQ((*router_.Route("gpt-4o", "any"))[0].upstream_model, "gpt-4o");
}

TEST_F(RouterTest, GroupsRestrictChannels) {
  Add(MakeChannel("open"));
  Add(MakeChannel("vip-only", 5, 1, {"vip", "staff"}));
  EXPECT_THAT(RouteNames("gpt-4o", "default"), ElementsAre("open"));
  EXPECT_THAT(RouteNames("gpt-4o", "vip"), ElementsAre("vip-only", "open"));
  EXPECT_THAT(RouteNames("gpt-4o", "staff"), ElementsAre("vip-only", "open"));
}

TEST_F(RouterTest, UnknownModelIsNotFoundAndCounted) {
  Add(MakeChannel("a"));
  auto r = router_.Route("gpt-5", "default");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("\"gpt-5\""));
  ASSERT_TRUE(router_.Route("gpt-4o", "default").ok());
  EXPECT_EQ(router_.Route("", "default").status().code(), absl::StatusCode::kInvalidArgument);
  std::string m = Metrics();
  EXPECT_THAT(m, HasSubstr("# HELP routeall_routing_route_total"));
  EXPECT_THAT(m, HasSubstr("routeall_routing_route_total{result=\"no_channel\"} 1"));
  EXPECT_THAT(m, HasSubstr("routeall_routing_route_total{result=\"ok\"} 1"));
}

TEST_F(RouterTest, DisabledChannelsAreExcludedAtOnce) {
  int64_t a = Add(MakeChannel("a", 1));
  Add(MakeChannel("b"));
  ASSERT_TRUE(router_.SetChannelEnabled(a, false).ok());
  EXPECT_THAT(RouteNames(), ElementsAre("b"));
  ASSERT_TRUE(router_.SetChannelEnabled(a, true).ok());
  EXPECT_THAT(RouteNames(), ElementsAre("a", "b"));
  Channel off = MakeChannel("off", 9);
  off.enabled = false;
  Add(off);
  EXPECT_THAT(RouteNames(), ElementsAre("a", "b"));
  EXPECT_EQ(router_.SetChannelEnabled(999, true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RouterTest, WeightsSetTheFirstPickProportionally) {
  Add(MakeChannel("heavy", 0, 3));
  Add(MakeChannel("light", 0, 1));
  int heavy_first = 0;
  constexpr int kRoutes = 4000;
  for (int i = 0; i < kRoutes; ++i) {
    auto names = RouteNames();
    ASSERT_EQ(names.size(), 2u);  // without replacement: both, once each
    ASSERT_NE(names[0], names[1]);
    heavy_first += names[0] == "heavy";
  }
  EXPECT_NEAR(static_cast<double>(heavy_first) / kRoutes, 0.75, 0.05);
}

TEST_F(RouterTest, LaterPicksAreProportionalAmongTheRemaining) {
  // Weights a=2, b=1, c=1. Second pick a: P(b first)*2/3 + P(c first)*2/3 = 1/3; a last: 2*(1/4*1/3) = 1/6.
  // A shuffle that ignored weights after the first pick would give 1/4 and 1/4.
  Add(MakeChannel("a", 0, 2));
  Add(MakeChannel("b", 0, 1));
  Add(MakeChannel("c", 0, 1));
  std::map<std::string, int> first;
  std::map<std::string, int> second;
  std::map<std::string, int> third;
  constexpr int kRoutes = 4000;
  for (int i = 0; i < kRoutes; ++i) {
    auto names = RouteNames();
    ASSERT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 3u);
    ++first[names[0]];
    ++second[names[1]];
    ++third[names[2]];
  }
  EXPECT_NEAR(first["a"] / double(kRoutes), 0.50, 0.04);
  EXPECT_NEAR(first["b"] / double(kRoutes), 0.25, 0.04);
  EXPECT_NEAR(second["a"] / double(kRoutes), 1.0 / 3, 0.04);
  EXPECT_NEAR(third["a"] / double(kRoutes), 1.0 / 6, 0.04);
}

TEST_F(RouterTest, WeightZeroGoesLastInItsTierOnly) {
  Add(MakeChannel("backup", 5, 0));
  Add(MakeChannel("main1", 5, 1));
  Add(MakeChannel("main2", 5, 5));
  Add(MakeChannel("lower", 1, 10));
  for (int i = 0; i < 200; ++i) {
    auto names = RouteNames();
    ASSERT_EQ(names.size(), 4u);
    EXPECT_EQ(names[2], "backup");
    EXPECT_EQ(names[3], "lower");
  }
}

TEST_F(RouterTest, AllZeroWeightTierStillRoutesEveryChannel) {
  Add(MakeChannel("x", 0, 0));
  Add(MakeChannel("y", 0, 0));
  std::map<std::string, int> first;
  for (int i = 0; i < 400; ++i) ++first[RouteNames()[0]];
  EXPECT_GT(first["x"], 100);
  EXPECT_GT(first["y"], 100);
}

TEST_F(RouterTest, OtherReplicasWritesArriveThroughPeriodicReload) {
  Router other(store_, [] { return 0.5; });
  ASSERT_TRUE(other.Reload().ok());
  Add(MakeChannel("a"));
  EXPECT_EQ(other.Route("gpt-4o", "g").status().code(), absl::StatusCode::kNotFound);
  other.StartPeriodicReload(absl::Milliseconds(10));
  absl::StatusOr<std::vector<Candidate>> r;
  for (int i = 0; i < 500 && !(r = other.Route("gpt-4o", "g")).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Names(*r), ElementsAre("a"));
  other.Stop();
}

TEST_F(RouterTest, FailedReloadKeepsThePreviousSnapshot) {
  Add(MakeChannel("a"));
  store_->set_failure(absl::UnavailableError("db down"));
  EXPECT_EQ(router_.Reload().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(RouteNames(), ElementsAre("a"));
}

class FlakyHealth final : public ChannelHealth {
 public:
  Admission Admit(int64_t id) override { return id == sick ? Admission::kDisabled : Admission::kAllow; }
  void Record(int64_t id, Outcome outcome, absl::Duration, const std::string& error) override {
    recorded.emplace_back(id, outcome);
    errors.push_back(error);
  }
  HealthInfo Info(int64_t) override { return {}; }
  void Track(const std::vector<Channel>&) override {}
  int64_t sick = 0;
  std::vector<std::pair<int64_t, Outcome>> recorded;
  std::vector<std::string> errors;
};

TEST_F(RouterTest, HealthFiltersCandidatesAndReceivesOutcomes) {
  auto health = std::make_shared<FlakyHealth>();
  Router router(store_, [] { return 0.0; }, &metrics_, health);
  int64_t a = Add(MakeChannel("a", 2));
  Add(MakeChannel("b", 1));
  ASSERT_TRUE(router.Reload().ok());
  health->sick = a;
  EXPECT_THAT(Names(*router.Route("gpt-4o", "g")), ElementsAre("b"));

  ASSERT_TRUE(router.ReportOutcome(a, Outcome::kFailure, absl::Milliseconds(30), 502).ok());
  ASSERT_TRUE(router.ReportOutcome(a, Outcome::kFailure, absl::Milliseconds(30)).ok());
  ASSERT_TRUE(router.ReportOutcome(777, Outcome::kSuccess, absl::Milliseconds(30)).ok());
  EXPECT_EQ(router.ReportOutcome(0, Outcome::kSuccess, absl::Milliseconds(1)).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(health->recorded.size(), 3u);
  EXPECT_EQ(health->recorded[0].first, a);
  EXPECT_EQ(health->errors[0], "HTTP 502");
  EXPECT_EQ(health->errors[1], "no response (connect, reset or timeout)");
  EXPECT_EQ(health->errors[2], "");
  std::string m = Metrics();
  EXPECT_THAT(m, HasSubstr("# HELP routeall_routing_outcomes_total"));
  EXPECT_THAT(m, HasSubstr("routeall_routing_outcomes_total{channel=\"a\",outcome=\"failure\"} 2"));
  EXPECT_THAT(m, HasSubstr("routeall_routing_outcomes_total{channel=\"unknown\",outcome=\"success\"} 1"));
}

// Router over the real circuit breaker on a fake clock.
class RouterBreakerTest : public RouterTest {
 protected:
  RouterBreakerTest()
      : health_(std::make_shared<CircuitBreakerHealth>(CircuitOptions{}, [this] { return now_; }, &metrics_)),
        breaker_router_(
            store_, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }, &metrics_, health_) {}

  int64_t AddChannel(Channel c) {
    int64_t id = Add(std::move(c));
    EXPECT_TRUE(breaker_router_.Reload().ok());
    return id;
  }
  std::vector<std::string> BreakerRoute() {
    auto r = breaker_router_.Route("gpt-4o", "default");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Names(*r) : std::vector<std::string>{};
  }
  void Fail(int64_t id, int n = 3) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(breaker_router_.ReportOutcome(id, Outcome::kFailure, absl::Milliseconds(1), 500).ok());
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::shared_ptr<CircuitBreakerHealth> health_;
  Router breaker_router_;
};

TEST_F(RouterBreakerTest, OpenChannelsAreSkipped) {
  int64_t top = AddChannel(MakeChannel("top", 10));
  AddChannel(MakeChannel("backup", 1));
  EXPECT_THAT(BreakerRoute(), ElementsAre("top", "backup"));
  Fail(top);
  for (int i = 0; i < 10; ++i) EXPECT_THAT(BreakerRoute(), ElementsAre("backup"));
  EXPECT_EQ(breaker_router_.ChannelHealthInfo(top).state, CircuitState::kOpen);
  EXPECT_EQ(breaker_router_.ChannelHealthInfo(top).last_error, "HTTP 500");
}

TEST_F(RouterBreakerTest, ClientErrorsNeverOpenACircuit) {
  int64_t top = AddChannel(MakeChannel("top", 10));
  AddChannel(MakeChannel("backup", 1));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(breaker_router_.ReportOutcome(top, Outcome::kClientError, absl::Milliseconds(1), 400).ok());
  }
  EXPECT_THAT(BreakerRoute(), ElementsAre("top", "backup"));
}

TEST_F(RouterBreakerTest, WhenEveryChannelIsOpenAllAreReturnedInPriorityOrder) {
  int64_t a = AddChannel(MakeChannel("a", 10));
  int64_t b = AddChannel(MakeChannel("b", 5));
  int64_t c = AddChannel(MakeChannel("c", 1));
  Fail(a);
  Fail(c);
  EXPECT_THAT(BreakerRoute(), ElementsAre("b"));
  Fail(b);
  EXPECT_THAT(BreakerRoute(), ElementsAre("a", "b", "c"));
}

TEST_F(RouterBreakerTest, HalfOpenProbeGoesFirstInItsTierOnce) {
  int64_t sick = AddChannel(MakeChannel("sick", 5, 1));
  AddChannel(MakeChannel("w1", 5, 1000));
  AddChannel(MakeChannel("w2", 5, 1000));
  AddChannel(MakeChannel("top", 9));
  Fail(sick);
  now_ += absl::Seconds(10);
  auto first = BreakerRoute();
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0], "top");
  EXPECT_EQ(first[1], "sick");  // the probe heads its tier despite its tiny weight
  for (int i = 0; i < 5; ++i) EXPECT_EQ(BreakerRoute().size(), 3u);  // one probe at a time
  ASSERT_TRUE(breaker_router_.ReportOutcome(sick, Outcome::kSuccess, absl::Milliseconds(1)).ok());
  EXPECT_EQ(BreakerRoute().size(), 4u);
  EXPECT_EQ(breaker_router_.ChannelHealthInfo(sick).state, CircuitState::kClosed);
}

TEST_F(RouterBreakerTest, AutoDisabledChannelsAreNeverRoutedNotEvenAsAFallback) {
  CircuitOptions o;
  o.auto_disable_after = absl::Seconds(5);
  o.cooldown = absl::Seconds(10);
  auto health = std::make_shared<CircuitBreakerHealth>(o, [this] { return now_; }, &metrics_);
  Router router(store_, [] { return 0.0; }, &metrics_, health);
  Add(MakeChannel("only"));
  ASSERT_TRUE(router.Reload().ok());
  int64_t id = (*router.Route("gpt-4o", "default"))[0].channel_id;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(router.ReportOutcome(id, Outcome::kFailure, absl::Milliseconds(1)).ok());
  EXPECT_THAT(Names(*router.Route("gpt-4o", "default")), ElementsAre("only"));  // open, but the only one
  now_ += absl::Seconds(5);
  auto r = router.Route("gpt-4o", "default");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("auto-disabled"));
  EXPECT_EQ(router.ChannelHealthInfo(id).state, CircuitState::kAutoDisabled);
  health->RecordProbe(id, true, absl::Milliseconds(1), "");
  EXPECT_TRUE(router.Route("gpt-4o", "default").ok());
}

TEST_F(RouterBreakerTest, DisablingAChannelDropsItsHealth) {
  int64_t top = AddChannel(MakeChannel("top", 10));
  Fail(top);
  ASSERT_TRUE(breaker_router_.SetChannelEnabled(top, false).ok());
  ASSERT_TRUE(breaker_router_.SetChannelEnabled(top, true).ok());
  EXPECT_THAT(BreakerRoute(), ElementsAre("top"));
}

TEST_F(RouterTest, ListChannelsNeverCarriesTheApiKey) {
  Add(MakeChannel("a"));
  Channel keyless = MakeChannel("local");
  keyless.api_key = "";
  Add(keyless);
  auto list = router_.ListChannels();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].api_key, "");
  EXPECT_TRUE((*list)[0].api_key_set);
  EXPECT_FALSE((*list)[1].api_key_set);
}

TEST_F(RouterTest, CreateChannelValidation) {
  auto expect_invalid = [&](Channel c, const std::string& needle) {
    auto r = router_.CreateChannel(std::move(c));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << needle;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(needle));
  };
  Channel c = MakeChannel("");
  expect_invalid(c, "name");
  c = MakeChannel("x");
  c.provider = routeall::llm::v1::DIALECT_UNSPECIFIED;
  expect_invalid(c, "provider");
  c = MakeChannel("x");
  c.base_url = "ftp://x";
  expect_invalid(c, "base_url");
  c.base_url = "api.openai.com";
  expect_invalid(c, "base_url");
  c.base_url = "https://";
  expect_invalid(c, "base_url");
  c = MakeChannel("x", 0, -1);
  expect_invalid(c, "weight");
  c = MakeChannel("x");
  c.models.clear();
  expect_invalid(c, "model");
  c = MakeChannel("x");
  c.models = {{"m", ""}, {"m", "n"}};
  expect_invalid(c, "twice");
  c = MakeChannel("x");
  c.timeout = absl::ZeroDuration();
  expect_invalid(c, "timeout");
  c.timeout = absl::Seconds(-5);
  expect_invalid(c, "timeout");
  c = MakeChannel("x", 0, 1, {""});
  expect_invalid(c, "group");

  c = MakeChannel("x");
  c.base_url = "http://127.0.0.1:8080/v1";
  auto ok = router_.CreateChannel(c);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->models[0].upstream_model, "gpt-4o");
  EXPECT_EQ(ok->timeout, absl::Seconds(600));
  EXPECT_EQ(router_.CreateChannel(c).status().code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace routeall::routing
