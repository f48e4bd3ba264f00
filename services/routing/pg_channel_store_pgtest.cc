// PgChannelStore against the real PostgreSQL, with the migrations applied into a private schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/migrations.h"
#include "common/testing.h"
#include "services/routing/pg_channel_store.h"
#include "services/routing/router.h"
#include "services/routing/routing_service.h"

namespace routeall::routing {
namespace {

using ::testing::ElementsAre;

class PgChannelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROUTEALL_REQUIRE_ENV(url, "ROUTEALL_TEST_PG_URL");
    auto env = routeall::testing::PgTestSchema::Create(url, "routing_t", Migrations(), 2);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    pool_ = env_->pool();
    schema_ = env_->schema();
    store_ = std::make_shared<PgChannelStore>(pool_, schema_);
  }
  static Channel Sample(const std::string& name) {
    Channel c;
    c.name = name;
    c.provider = routeall::llm::v1::DIALECT_ANTHROPIC;
    c.base_url = "https://api.anthropic.com";
    c.api_key = "sk-ant-secret-" + name;
    c.models = {{"claude-sonnet", "claude-sonnet-4-20250514"}, {"claude-haiku", "claude-haiku"}};
    c.groups = {"vip", "with \"quotes\", {braces}"};
    c.priority = 7;
    c.weight = 3;
    c.timeout = absl::Milliseconds(90'500);
    return c;
  }

  std::unique_ptr<routeall::testing::PgTestSchema> env_;  // dropped last
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
  std::shared_ptr<PgChannelStore> store_;
};

TEST_F(PgChannelStoreTest, RoundTripKeepsModelsAndHidesTheApiKey) {
  auto created = store_->CreateChannel(Sample("anthropic-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->api_key, "");
  EXPECT_TRUE(created->api_key_set);
  ASSERT_EQ(created->models.size(), 2u);
  EXPECT_EQ(created->models[0].model, "claude-haiku");  // ordered by model name
  EXPECT_EQ(created->models[1].upstream_model, "claude-sonnet-4-20250514");
  EXPECT_THAT(created->groups, ElementsAre("vip", "with \"quotes\", {braces}"));
  EXPECT_EQ(created->provider, routeall::llm::v1::DIALECT_ANTHROPIC);
  EXPECT_EQ(created->priority, 7);
  EXPECT_EQ(created->weight, 3);
  EXPECT_EQ(created->timeout, absl::Milliseconds(90'500));
  EXPECT_TRUE(created->enabled);

  Channel keyless = Sample("local");
  keyless.api_key = "";
  keyless.groups = {};
  ASSERT_TRUE(store_->CreateChannel(keyless).ok());

  auto list = store_->ListChannels();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  for (const Channel& c : *list) EXPECT_EQ(c.api_key, "");
  EXPECT_TRUE((*list)[0].api_key_set);
  EXPECT_FALSE((*list)[1].api_key_set);
  EXPECT_TRUE((*list)[1].groups.empty());

  auto loaded = store_->LoadEnabledChannels();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].api_key, "sk-ant-secret-anthropic-1");
}

TEST_F(PgChannelStoreTest, EnableDisableAndDuplicateName) {
  auto a = store_->CreateChannel(Sample("a"));
  ASSERT_TRUE(a.ok()) << a.status();
  auto dup = store_->CreateChannel(Sample("a"));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "channel \"a\" already exists");

  auto off = store_->SetChannelEnabled(a->id, false);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->enabled);
  EXPECT_EQ(off->api_key, "");
  EXPECT_TRUE(store_->LoadEnabledChannels()->empty());
  EXPECT_EQ(store_->ListChannels()->size(), 1u);
  ASSERT_TRUE(store_->SetChannelEnabled(a->id, true).ok());
  EXPECT_EQ(store_->LoadEnabledChannels()->size(), 1u);
  EXPECT_EQ(store_->SetChannelEnabled(a->id + 1000, true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgChannelStoreTest, RouterAndServiceOverPostgres) {
  auto router = std::make_shared<Router>(store_, [] { return 0.0; });
  ASSERT_TRUE(router->Reload().ok());
  Channel c = Sample("anthropic-1");
  c.models.push_back({"claude-opus", ""});
  ASSERT_TRUE(router->CreateChannel(c).ok());
  auto r = router->Route("claude-opus", "vip");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].upstream_model, "claude-opus");
  EXPECT_EQ((*r)[0].api_key, "sk-ant-secret-anthropic-1");
  EXPECT_EQ(router->Route("claude-opus", "default").status().code(), absl::StatusCode::kNotFound);

  RoutingServiceImpl service(router);
  grpc::ServerContext ctx;
  v1::ListChannelsRequest req;
  v1::ListChannelsResponse res;
  ASSERT_TRUE(service.ListChannels(&ctx, &req, &res).ok());
  ASSERT_EQ(res.channels_size(), 1);
  EXPECT_EQ(res.DebugString().find("sk-ant-secret"), std::string::npos);
}

}  // namespace
}  // namespace routeall::routing
