// PgLedgerStore and PgPriceStore against a real PostgreSQL, each test in a private schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <thread>

#include "common/testing.h"
#include "services/billing/billing_test_env.h"
#include "services/billing/pg_ledger_store.h"
#include "services/billing/pg_price_store.h"

namespace routeall::billing {
namespace {

class PgBillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROUTEALL_REQUIRE_ENV(url, "ROUTEALL_TEST_PG_URL");
    auto env = testing::CreatePgSchema(url);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    ledger_ = std::make_unique<PgLedgerStore>(env_->pool(), env_->schema());
    prices_ = std::make_unique<PgPriceStore>(env_->pool(), env_->schema());
  }
  void TearDown() override {
    ledger_.reset();
    prices_.reset();
    env_.reset();  // drops the schema
  }

  int64_t Q(const std::string& sql_with_schema_placeholder) {
    std::string sql = sql_with_schema_placeholder;
    for (size_t pos; (pos = sql.find("$S")) != std::string::npos;) sql.replace(pos, 2, env_->schema());
    return env_->QueryInt(sql);
  }

  static UsageEntry Entry(const std::string& id, int64_t account, const std::string& model, int64_t charge,
                          absl::Time at) {
    UsageEntry e;
    e.request_id = id;
    e.account_id = account;
    e.key_id = 3;
    e.model = model;
    e.channel_id = 4;
    e.prompt_tokens = 100;
    e.cached_tokens = 20;
    e.cache_write_tokens = 10;
    e.completion_tokens = 50;
    e.reasoning_tokens = 5;
    e.calls = 1;
    e.web_searches = 2;
    e.charge_micros = charge;
    e.price_version = 2;
    e.occurred_at = at;
    return e;
  }

  std::unique_ptr<testing::PgSchema> env_;
  std::unique_ptr<PgLedgerStore> ledger_;
  std::unique_ptr<PgPriceStore> prices_;
  const absl::Time t0_ = absl::FromUnixSeconds(1764028800);  // 2025-11-25T00:00:00Z
};

TEST_F(PgBillingTest, PricesAreAppendedAsVersionsNeverUpdated) {
  ModelPrice p = testing::SimplePrice("gpt");
  auto v1 = prices_->AddVersion(p);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version(), 1);
  EXPECT_FALSE(v1->has_reasoning_per_mtok());
  p.set_output_per_mtok(3000000);
  p.set_reasoning_per_mtok(4000000);
  p.set_version(77);  // ignored: the store assigns versions
  auto v2 = prices_->AddVersion(p);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version(), 2);
  ASSERT_TRUE(prices_->AddVersion(testing::SimplePrice("claude")).ok());

  auto list = prices_->ListLatest();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].model(), "claude");
  EXPECT_EQ((*list)[1].version(), 2);
  EXPECT_EQ((*list)[1].output_per_mtok(), 3000000);
  EXPECT_EQ((*list)[1].reasoning_per_mtok(), 4000000);

  auto old = prices_->GetVersion("gpt", 1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->output_per_mtok(), 2000000) << "version 1 is unchanged";
  EXPECT_EQ(prices_->GetLatest("gpt")->version(), 2);
  EXPECT_EQ(prices_->GetLatest("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(prices_->GetVersion("gpt", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Q("SELECT count(*) FROM $S.prices"), 3);
}

TEST_F(PgBillingTest, ConcurrentSetPriceGetsDistinctVersions) {
  std::vector<std::thread> threads;
  std::vector<int64_t> versions(6);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto v = prices_->AddVersion(testing::SimplePrice("m"));
      versions[i] = v.ok() ? v->version() : -1;
    });
  }
  for (auto& t : threads) t.join();
  std::sort(versions.begin(), versions.end());
  EXPECT_THAT(versions, ::testing::ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST_F(PgBillingTest, TopUpIsIdempotentByReference) {
  auto a = ledger_->TopUp({1, 500, "card", "pay-1", t0_});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->applied);
  EXPECT_EQ(a->balance.balance_micros, 500);
  auto again = ledger_->TopUp({1, 500, "card", "pay-1", t0_});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->balance.balance_micros, 500);
  EXPECT_EQ(again->balance.version, a->balance.version);
  EXPECT_EQ(ledger_->TopUp({1, 600, "card", "pay-1", t0_}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ledger_->TopUp({2, 500, "card", "pay-1", t0_}).status().code(), absl::StatusCode::kAlreadyExists);
  auto adj = ledger_->TopUp({1, -120, "refund", "adj-1", t0_});
  ASSERT_TRUE(adj.ok());
  EXPECT_EQ(adj->balance.balance_micros, 380);
  EXPECT_GT(adj->balance.version, a->balance.version);
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger WHERE entry_key = 'topup:pay-1' AND kind = 2"), 1);
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger WHERE entry_key = 'topup:adj-1' AND kind = 3"), 1);
  EXPECT_EQ(Q("SELECT balance_micros FROM $S.balances WHERE account_id = 1"), 380);
  EXPECT_EQ(ledger_->GetBalance(1)->balance_micros, 380);
  EXPECT_EQ(ledger_->GetBalance(99)->version, 0);
}

TEST_F(PgBillingTest, SettlingTheSameBatchTwiceWritesOneRowEachAndChangesBalancesOnce) {
  ASSERT_TRUE(ledger_->TopUp({1, 1000, "", "f1", t0_}).ok());
  const absl::Time at = t0_ + absl::Microseconds(123457);
  std::vector<UsageEntry> batch = {Entry("r1", 1, "gpt", 100, at), Entry("r2", 1, "gpt", 30, at),
                                   Entry("r3", 2, "gpt", 7, at), Entry("r1", 1, "gpt", 100, at)};
  batch.push_back(Entry("quote\"back\\slash,{x}", 2, "mo\"del", 1, at));  // array-literal escaping
  auto first = ledger_->SettleUsage(batch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->inserted.size(), 4u);
  ASSERT_EQ(first->balances.size(), 2u);
  EXPECT_EQ(first->balances[0].balance_micros, 1000 - 130);
  EXPECT_EQ(first->balances[1].balance_micros, -8);

  auto second = ledger_->SettleUsage(batch);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->inserted.empty());
  EXPECT_TRUE(second->balances.empty());
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger WHERE kind = 1"), 4);
  EXPECT_EQ(Q("SELECT balance_micros FROM $S.balances WHERE account_id = 1"), 870);
  EXPECT_EQ(Q("SELECT balance_micros FROM $S.balances WHERE account_id = 2"), -8);
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger WHERE entry_key = 'usage:quote\"back\\slash,{x}' AND model = "
              "'mo\"del'"),
            1);
  // Every usage column lands, and occurred_at keeps its microseconds.
  EXPECT_EQ(
      Q("SELECT prompt_tokens + cached_tokens * 10 + cache_write_tokens * 100 + completion_tokens * 1000 + "
        "reasoning_tokens * 10000 + calls * 100000 + web_searches * 1000000 + price_version * 10000000 + "
        "key_id * 100000000 + channel_id * 1000000000 FROM $S.ledger WHERE entry_key = 'usage:r2'"),
      100 + 200 + 1000 + 50000 + 50000 + 100000 + 2000000 + 20000000 + 300000000 + 4000000000);
  EXPECT_EQ(Q("SELECT amount_micros FROM $S.ledger WHERE entry_key = 'usage:r2'"), -30);
  auto usage = ledger_->GetUsage(1, t0_, t0_ + absl::Hours(1), 10);
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->records.size(), 2u);
  EXPECT_EQ(usage->records[0].occurred_at, at);
}

TEST_F(PgBillingTest, BalanceOutOfBigintRangeIsInvalidArgumentAndWritesNothing) {
  // An account driven to the bottom of bigint: one more charge cannot be represented.
  ASSERT_TRUE(ledger_->TopUp({9, std::numeric_limits<int64_t>::min() + 5, "", "floor", t0_}).ok());
  auto r = ledger_->SettleUsage({Entry("ok", 1, "gpt", 10, t0_), Entry("poison", 9, "gpt", 10, t0_)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger WHERE kind = 1"), 0) << "all or nothing";
  // Alone, the good entry settles; the poison one fails the same way every time.
  ASSERT_TRUE(ledger_->SettleUsage({Entry("ok", 1, "gpt", 10, t0_)}).ok());
  EXPECT_EQ(ledger_->SettleUsage({Entry("poison", 9, "gpt", 10, t0_)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->GetBalance(1)->balance_micros, -10);
  EXPECT_EQ(ledger_->GetBalance(9)->balance_micros, std::numeric_limits<int64_t>::min() + 5);
}

TEST_F(PgBillingTest, UsageRecordsAndBucketsByUtcDayAndModel) {
  const absl::Time day2 = t0_ + absl::Hours(24);
  ASSERT_TRUE(ledger_->TopUp({1, 5000, "", "f", t0_ + absl::Hours(1)}).ok());  // not usage
  ASSERT_TRUE(ledger_
                  ->SettleUsage({Entry("a", 1, "gpt", 10, t0_),  // at `from`: included
                                 Entry("b", 1, "gpt", 20, t0_ + absl::Hours(23) + absl::Minutes(59)),
                                 Entry("c", 1, "claude", 40, t0_ + absl::Hours(5)),
                                 Entry("d", 1, "gpt", 80, day2 + absl::Hours(1)),
                                 Entry("e", 1, "gpt", 160, day2 + absl::Hours(24)),  // at `to`: excluded
                                 Entry("f", 2, "gpt", 320, t0_ + absl::Hours(2))})   // other account
                  .ok());
  auto r = ledger_->GetUsage(1, t0_, day2 + absl::Hours(24), 2);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->records.size(), 2u) << "limit";
  EXPECT_EQ(r->records[0].request_id, "d");
  EXPECT_EQ(r->records[1].request_id, "b");
  EXPECT_EQ(r->records[0].charge_micros, 80);
  EXPECT_EQ(r->records[0].key_id, 3);
  ASSERT_EQ(r->buckets.size(), 3u);
  EXPECT_EQ(r->buckets[0].day, "2025-11-25");
  EXPECT_EQ(r->buckets[0].model, "claude");
  EXPECT_EQ(r->buckets[0].charge_micros, 40);
  EXPECT_EQ(r->buckets[1].day, "2025-11-25");
  EXPECT_EQ(r->buckets[1].model, "gpt");
  EXPECT_EQ(r->buckets[1].requests, 2);
  EXPECT_EQ(r->buckets[1].charge_micros, 30);
  EXPECT_EQ(r->buckets[1].prompt_tokens, 200);
  EXPECT_EQ(r->buckets[1].cached_tokens, 40);
  EXPECT_EQ(r->buckets[1].cache_write_tokens, 20);
  EXPECT_EQ(r->buckets[1].completion_tokens, 100);
  EXPECT_EQ(r->buckets[1].reasoning_tokens, 10);
  EXPECT_EQ(r->buckets[1].calls, 2);
  EXPECT_EQ(r->buckets[2].day, "2025-11-26");
  EXPECT_EQ(r->buckets[2].requests, 1);
  EXPECT_EQ(r->buckets[2].charge_micros, 80);
}

TEST_F(PgBillingTest, UsageQueriesCanUseTheAccountTimeIndex) {
  std::string plan;
  ASSERT_TRUE(env_->pool()
                  ->Run([&](pqxx::connection& c) {
                    pqxx::work tx(c);
                    tx.exec0("SET LOCAL enable_seqscan = off");
                    for (const auto& row :
                         tx.exec("EXPLAIN SELECT * FROM " + env_->schema() +
                                 ".ledger WHERE account_id = 1 AND occurred_at >= now() - "
                                 "interval '30 days' AND occurred_at < now() ORDER BY occurred_at "
                                 "DESC LIMIT 100")) {
                      plan += row[0].as<std::string>() + "\n";
                    }
                  })
                  .ok());
  EXPECT_THAT(plan, ::testing::HasSubstr("ledger_account_time_idx"));
}

TEST_F(PgBillingTest, EightThreadsSettlingOverlappingBatchesChargeEachRequestOnce) {
  constexpr int kEntries = 600;
  constexpr int kThreads = 8;
  std::vector<UsageEntry> all;
  std::map<int64_t, int64_t> expected;  // account -> -sum(charges)
  for (int i = 0; i < kEntries; ++i) {
    int64_t account = 1 + i % 3;
    int64_t charge = 1 + (i * 7919) % 1000;
    all.push_back(Entry("req-" + std::to_string(i), account, i % 2 ? "gpt" : "claude", charge, t0_));
    expected[account] -= charge;
  }
  std::atomic<int> inserted{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread settles every entry, in its own order and batch sizes: heavy overlap.
      std::vector<UsageEntry> mine = all;
      std::shuffle(mine.begin(), mine.end(), std::mt19937(t));
      for (size_t i = 0; i < mine.size();) {
        size_t n = std::min<size_t>(mine.size() - i, 20 + 15 * t);
        auto r = ledger_->SettleUsage({mine.begin() + i, mine.begin() + i + n});
        if (r.ok()) {
          inserted += static_cast<int>(r->inserted.size());
          i += n;
        } else {
          ++failed;  // a transient failure: the consumer would retry the batch, so do we
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(inserted.load(), kEntries);
  EXPECT_EQ(Q("SELECT count(*) FROM $S.ledger"), kEntries);
  for (const auto& [account, sum] : expected) {
    EXPECT_EQ(ledger_->GetBalance(account)->balance_micros, sum) << "account " << account;
    EXPECT_EQ(
        Q("SELECT sum(amount_micros)::bigint FROM $S.ledger WHERE account_id = " + std::to_string(account)),
        sum);
  }
  EXPECT_EQ(failed.load(), 0) << "deadlocks are retried inside the store";
}

}  // namespace
}  // namespace routeall::billing
