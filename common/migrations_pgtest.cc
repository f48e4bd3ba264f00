// ApplyMigrations against the real PostgreSQL started by scripts/test.
#include "common/migrations.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/pg_pool.h"
#include "common/testing.h"

namespace routeall {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = routeall::testing::IntegrationEnv("ROUTEALL_TEST_PG_URL");
    if (url_.empty()) GTEST_SKIP() << "ROUTEALL_TEST_PG_URL not set (run scripts/test)";
    auto pool = PgPool::Create(url_, 2);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::move(*pool);
    schema_ = "mig_" + routeall::testing::UniqueSuffix();
  }
  void TearDown() override {
    if (pool_) {
      (void)pool_->Transact([&](pqxx::work& tx) { tx.exec0("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"); });
    }
  }
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(pool_->Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      n = tx.exec1(sql)[0].as<int64_t>();
    }).ok());
    return n;
  }

  std::string url_;
  std::unique_ptr<PgPool> pool_;
  std::string schema_;
};

const std::vector<Migration> kTwo = {
    {"20260101000000_init.sql", "CREATE TABLE things (id bigserial PRIMARY KEY, name text NOT NULL);"},
    {"20260102000000_seed.sql", "INSERT INTO things (name) VALUES ('a'), ('b');"},
};

TEST_F(MigrationsTest, ApplyTwiceIsANoOpTheSecondTime) {
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(*pool_, schema_, kTwo, &applied).ok());
  EXPECT_EQ(applied, 2);
  ASSERT_TRUE(ApplyMigrations(*pool_, schema_, kTwo, &applied).ok());
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM " + schema_ + ".things"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM " + schema_ + ".schema_migrations"), 2);
}

TEST_F(MigrationsTest, NewFileIsAppliedLater) {
  ASSERT_TRUE(ApplyMigrations(*pool_, schema_, kTwo).ok());
  auto three = kTwo;
  three.push_back({"20260103000000_more.sql", "INSERT INTO things (name) VALUES ('c');"});
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(*pool_, schema_, three, &applied).ok());
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM " + schema_ + ".things"), 3);
}

TEST_F(MigrationsTest, FailingFileLeavesNothingHalfApplied) {
  auto bad = kTwo;
  bad.push_back({"20260103000000_bad.sql", "INSERT INTO things (nope) VALUES (1);"});
  absl::Status st = ApplyMigrations(*pool_, schema_, bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(schema_), std::string_view::npos);
  EXPECT_EQ(Count("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema_ + "'"), 0);
}

TEST_F(MigrationsTest, ConcurrentStartsApplyEachFileOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> total{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto pool = PgPool::Create(url_, 1);
      if (!pool.ok()) { ++failures; return; }
      int applied = 0;
      if (!ApplyMigrations(**pool, schema_, kTwo, &applied).ok()) ++failures;
      total += applied;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(total.load(), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM " + schema_ + ".things"), 2);
}

TEST_F(MigrationsTest, RejectsInjectionInSchemaName) {
  EXPECT_FALSE(ApplyMigrations(*pool_, "x; DROP TABLE y", kTwo).ok());
}

}  // namespace
}  // namespace routeall
