// PgHealthStore against the real PostgreSQL (private schema): newest-wins upserts and two
// replicas sharing circuit transitions through the table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/migrations.h"
#include "common/testing.h"
#include "services/routing/health_monitor.h"
#include "services/routing/pg_channel_store.h"
#include "services/routing/pg_health_store.h"
#include "services/routing/routing_service.h"

namespace routeall::routing {
namespace {

class PgHealthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROUTEALL_REQUIRE_ENV(url, "ROUTEALL_TEST_PG_URL");
    auto env = routeall::testing::PgTestSchema::Create(url, "routing_h", Migrations(), 2);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    pool_ = env_->pool();
    schema_ = env_->schema();
    channels_ = std::make_shared<PgChannelStore>(pool_, schema_);
    store_ = std::make_shared<PgHealthStore>(pool_, schema_);
    for (const char* name : {"one", "two"}) {
      Channel c;
      c.name = name;
      c.provider = routeall::llm::v1::DIALECT_OPENAI;
      c.base_url = "http://127.0.0.1:1";
      c.models = {{"m", "m"}};
      auto created = channels_->CreateChannel(c);
      ASSERT_TRUE(created.ok()) << created.status();
      ids_.push_back(created->id);
    }
  }
  std::unique_ptr<routeall::testing::PgTestSchema> env_;  // dropped last
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
  std::shared_ptr<PgChannelStore> channels_;
  std::shared_ptr<PgHealthStore> store_;
  std::vector<int64_t> ids_;
};

TEST_F(PgHealthStoreTest, RoundTripKeepsMicroseconds) {
  absl::Time t = absl::FromUnixMicros(1'800'000'000'123'456);
  HealthRecord open{ids_[0], CircuitState::kOpen, t, t - absl::Seconds(40), absl::Seconds(20), "HTTP 502 \"x\"",
                    "host:1"};
  HealthRecord disabled{ids_[1], CircuitState::kAutoDisabled, t, t - absl::Minutes(11), absl::Minutes(5), "", "h:2"};
  ASSERT_TRUE(store_->SaveTransitions({open, disabled}).ok());
  auto rows = store_->LoadHealth();
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const HealthRecord& r = (*rows)[0];
  EXPECT_EQ(r.channel_id, ids_[0]);
  EXPECT_EQ(r.state, CircuitState::kOpen);
  EXPECT_EQ(r.changed_at, t);
  EXPECT_EQ(r.opened_at, t - absl::Seconds(40));
  EXPECT_EQ(r.cooldown, absl::Seconds(20));
  EXPECT_EQ(r.last_error, "HTTP 502 \"x\"");
  EXPECT_EQ(r.replica, "host:1");
  EXPECT_EQ((*rows)[1].state, CircuitState::kAutoDisabled);
}

TEST_F(PgHealthStoreTest, OnlyNewerTransitionsReplaceARow) {
  absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  HealthRecord closed{ids_[0], CircuitState::kClosed, t, absl::InfinitePast(), absl::ZeroDuration(), "", "a"};
  HealthRecord older_open{ids_[0], CircuitState::kOpen, t - absl::Seconds(1), t - absl::Seconds(1),
                          absl::Seconds(10), "late", "b"};
  ASSERT_TRUE(store_->SaveTransitions({closed}).ok());
  ASSERT_TRUE(store_->SaveTransitions({older_open}).ok());
  auto rows = store_->LoadHealth();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].state, CircuitState::kClosed);
  EXPECT_EQ((*rows)[0].opened_at, absl::InfinitePast());
  older_open.changed_at = t + absl::Seconds(1);
  ASSERT_TRUE(store_->SaveTransitions({older_open}).ok());
  EXPECT_EQ((*store_->LoadHealth())[0].state, CircuitState::kOpen);
}

TEST_F(PgHealthStoreTest, UnknownChannelsAreSkippedAndDeletedOnesCascade) {
  absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_TRUE(store_->SaveTransitions({HealthRecord{ids_[1] + 1000, CircuitState::kOpen, t, t, absl::Seconds(10), "",
                                                    ""},
                                       HealthRecord{ids_[1], CircuitState::kOpen, t, t, absl::Seconds(10), "", ""}})
                  .ok());
  EXPECT_EQ(store_->LoadHealth()->size(), 1u);
  ASSERT_TRUE(pool_->Transact([&](pqxx::work& tx) {
                     tx.exec_params0("DELETE FROM " + schema_ + ".channels WHERE id = $1", ids_[1]);
                   }).ok());
  EXPECT_TRUE(store_->LoadHealth()->empty());
}

TEST_F(PgHealthStoreTest, TwoReplicasShareTransitionsThroughTheTable) {
  absl::Time now = absl::Now();
  auto enabled = channels_->LoadEnabledChannels();
  ASSERT_TRUE(enabled.ok());
  auto a = std::make_shared<CircuitBreakerHealth>(CircuitOptions{}, [&now] { return now; }, nullptr, "a");
  auto b = std::make_shared<CircuitBreakerHealth>(CircuitOptions{}, [&now] { return now; }, nullptr, "b");
  a->Track(*enabled);
  b->Track(*enabled);
  HealthMonitor ma(a, store_, nullptr, {});
  HealthMonitor mb(b, store_, nullptr, {});

  for (int i = 0; i < 3; ++i) a->Record(ids_[0], Outcome::kFailure, absl::Milliseconds(1), "HTTP 500");
  ASSERT_TRUE(ma.SyncOnce().ok());
  ASSERT_TRUE(ma.SyncOnce().ok());  // its own row read back changes nothing
  EXPECT_EQ(a->Info(ids_[0]).state, CircuitState::kOpen);
  ASSERT_TRUE(mb.SyncOnce().ok());
  EXPECT_EQ(b->Admit(ids_[0]), Admission::kOpen);
  EXPECT_EQ(b->Admit(ids_[1]), Admission::kAllow);
  EXPECT_EQ(b->Info(ids_[0]).last_error, "HTTP 500");

  now += absl::Seconds(10);
  ASSERT_EQ(b->Admit(ids_[0]), Admission::kProbe);
  b->Record(ids_[0], Outcome::kSuccess, absl::Milliseconds(1), "");
  ASSERT_TRUE(mb.SyncOnce().ok());
  ASSERT_TRUE(ma.SyncOnce().ok());
  EXPECT_EQ(a->Info(ids_[0]).state, CircuitState::kClosed);
  auto rows = store_->LoadHealth();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].state, CircuitState::kClosed);
  EXPECT_EQ((*rows)[0].replica, "b");
}

}  // namespace
}  // namespace routeall::routing
