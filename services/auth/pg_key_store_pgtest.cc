// PgKeyStore against the real PostgreSQL, with the migrations applied into a private schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/migrations.h"
#include "common/testing.h"
#include "services/auth/auth_service.h"
#include "services/auth/key_generator.h"
#include "services/auth/pg_key_store.h"

namespace routeall::auth {
namespace {

using ::testing::ElementsAre;

class PgKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROUTEALL_REQUIRE_ENV(url, "ROUTEALL_TEST_PG_URL");
    auto env = routeall::testing::PgTestSchema::Create(url, "auth_t", Migrations(), 2);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    pool_ = env_->pool();
    schema_ = env_->schema();
    store_ = std::make_unique<PgKeyStore>(pool_, schema_);
  }
  std::unique_ptr<routeall::testing::PgTestSchema> env_;  // dropped last
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
  std::unique_ptr<PgKeyStore> store_;
};

TEST_F(PgKeyStoreTest, GroupsAccountsAndKeysRoundTrip) {
  auto g = store_->CreateGroup(Group{"vip", 850'000, "VIP"});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(store_->CreateGroup(Group{"vip", 1, ""}).status().code(), absl::StatusCode::kAlreadyExists);
  auto groups = store_->ListGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);  // the seeded "default" and ours
  EXPECT_EQ((*groups)[0].name, "default");
  EXPECT_EQ((*groups)[0].multiplier_ppm, kOneX);
  EXPECT_EQ((*groups)[1].multiplier_ppm, 850'000);

  EXPECT_EQ(store_->CreateAccount("x", "missing").status().code(), absl::StatusCode::kNotFound);
  auto a = store_->CreateAccount("alice", "vip");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->id, 0);
  EXPECT_EQ(a->group, "vip");
  EXPECT_LT(absl::AbsDuration(a->created_at - absl::Now()), absl::Minutes(5));

  std::string secret = "sk-ra-" + std::string(48, 'k');
  NewKey nk{a->id,
            "ci",
            HashApiKey(secret),
            KeyPrefix(secret),
            absl::FromUnixMicros(1'900'000'000'123'456),
            {"gpt-4o", "a \"quoted\", {name}"},
            30};
  EXPECT_EQ(store_->CreateKey(NewKey{999999, "", HashApiKey("x"), "p", std::nullopt, {}, 0}).status().code(),
            absl::StatusCode::kNotFound);
  auto k = store_->CreateKey(nk);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->status, KeyStatus::kActive);
  EXPECT_EQ(k->prefix, "sk-ra-kkkkkk");
  ASSERT_TRUE(k->expires_at.has_value());
  EXPECT_EQ(absl::ToUnixMicros(*k->expires_at), 1'900'000'000'123'456);
  EXPECT_THAT(k->allowed_models, ElementsAre("gpt-4o", "a \"quoted\", {name}"));
  EXPECT_EQ(store_->CreateKey(nk).status().code(), absl::StatusCode::kAlreadyExists);

  auto found = store_->FindKeyByHash(HashApiKey(secret));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->key.id, k->id);
  EXPECT_EQ(found->key_hash, HashApiKey(secret));
  EXPECT_EQ(found->account.id, a->id);
  EXPECT_EQ(found->account.name, "alice");
  EXPECT_EQ(found->group.name, "vip");
  EXPECT_EQ(found->group.multiplier_ppm, 850'000);
  EXPECT_EQ(found->key.rpm_limit, 30);
  EXPECT_EQ(store_->FindKeyByHash(HashApiKey("other")).status().code(), absl::StatusCode::kNotFound);

  auto disabled = store_->SetKeyStatus(k->id, KeyStatus::kDisabled);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->status, KeyStatus::kDisabled);
  EXPECT_EQ(store_->FindKeyByHash(HashApiKey(secret))->key.status, KeyStatus::kDisabled);
  EXPECT_EQ(store_->SetKeyStatus(999999, KeyStatus::kActive).status().code(), absl::StatusCode::kNotFound);

  auto acc = store_->SetAccountDisabled(a->id, true);
  ASSERT_TRUE(acc.ok());
  EXPECT_TRUE(acc->disabled);
  EXPECT_TRUE(store_->FindKeyByHash(HashApiKey(secret))->account.disabled);
  EXPECT_EQ(store_->ListAccounts()->size(), 1u);
}

TEST_F(PgKeyStoreTest, ListsNeverCarryTheSecretOrTheHash) {
  auto a = store_->CreateAccount("bob", "default");
  ASSERT_TRUE(a.ok());
  auto b = store_->CreateAccount("carol", "default");
  ASSERT_TRUE(b.ok());
  // Through the whole stack, so the check covers what an admin client would really see.
  Authorizer authorizer(std::make_shared<PgKeyStore>(pool_, schema_), [] { return absl::Now(); });
  AuthServiceImpl service(std::shared_ptr<Authorizer>(&authorizer, [](Authorizer*) {}));
  auto k1 = authorizer.CreateKey(KeyRequest{a->id, "one", {}, 0, std::nullopt});
  auto k2 = authorizer.CreateKey(KeyRequest{b->id, "two", {}, 0, std::nullopt});
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_FALSE(k1->key.expires_at.has_value());

  grpc::ServerContext ctx;
  v1::ListKeysRequest req;
  v1::ListKeysResponse all;
  ASSERT_TRUE(service.ListKeys(&ctx, &req, &all).ok());
  ASSERT_EQ(all.keys_size(), 2);
  std::string dump = all.DebugString();
  for (const auto& secret : {k1->secret, k2->secret}) {
    EXPECT_EQ(dump.find(secret), std::string::npos);
    EXPECT_EQ(dump.find(HashApiKey(secret)), std::string::npos);
  }
  EXPECT_NE(dump.find(k1->key.prefix), std::string::npos);

  req.set_account_id(b->id);
  v1::ListKeysResponse one;
  ASSERT_TRUE(service.ListKeys(&ctx, &req, &one).ok());
  ASSERT_EQ(one.keys_size(), 1);
  EXPECT_EQ(one.keys(0).name(), "two");

  auto p = authorizer.Authorize(HashApiKey(k2->secret));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->account_id, b->id);
  EXPECT_EQ(p->group, "default");
}

}  // namespace
}  // namespace routeall::auth
