// UsageConsumer end to end on a real Kafka and PostgreSQL: duplicates, dead letters and a
// consumer killed between its ledger commit and its offset commit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "common/kafka.h"
#include "common/pricing.h"
#include "common/testing.h"
#include "services/billing/billing_test_env.h"
#include "services/billing/kafka_usage_io.h"
#include "services/billing/pg_ledger_store.h"
#include "services/billing/pg_price_store.h"

namespace routeall::billing {
namespace {

using namespace std::chrono_literals;

// One billing "process": its own memory, metrics and Kafka consumer on the shared group.
struct Process {
  Process(const std::string& brokers, const std::string& topic, const std::string& group, LedgerStore* ledger,
          PriceStore* prices, int crash_at = 0)
      : metrics(registry),
        catalog(prices, [] { return absl::Now(); }),
        book(ledger, &catalog, &metrics, [] { return absl::Now(); }, [] { return "h"; }) {
    auto c = KafkaConsumer::Create({brokers, group, {topic}, {}});
    EXPECT_TRUE(c.ok()) << c.status();
    kafka_source = std::make_unique<KafkaMessageSource>(std::move(*c));
    source =
        std::make_unique<testing::ObservedSource>(kafka_source.get(), crash_at, [this] { consumer->Stop(); });
    auto p = KafkaProducer::Create({brokers, {}});
    EXPECT_TRUE(p.ok()) << p.status();
    producer = std::move(*p);
    dlq = std::make_unique<KafkaDeadLetterSink>(producer.get(), topic + ".dlq");
    UsageConsumerOptions options;
    options.watermark = &watermark;
    options.progress_interval = absl::Milliseconds(100);
    consumer = std::make_unique<UsageConsumer>(source.get(), dlq.get(), ledger, &catalog, &book, &metrics,
                                               [] { return absl::Now(); }, options);
    thread = std::thread([this] { consumer->Run(); });
  }
  ~Process() { Stop(); }
  void Stop() {
    consumer->Stop();
    if (thread.joinable()) thread.join();
  }
  int64_t Seen() const {
    return static_cast<int64_t>(metrics.events_billed.Value() + metrics.events_duplicate.Value() +
                                metrics.events_dead_letter.Value());
  }

  prometheus::Registry registry;
  BillingMetrics metrics;
  SettlementWatermark watermark;
  PriceCatalog catalog;
  BalanceBook book;
  std::unique_ptr<KafkaMessageSource> kafka_source;
  std::unique_ptr<testing::ObservedSource> source;
  std::unique_ptr<KafkaProducer> producer;
  std::unique_ptr<KafkaDeadLetterSink> dlq;
  std::unique_ptr<UsageConsumer> consumer;
  std::thread thread;
};

class UsageKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROUTEALL_REQUIRE_ENV(brokers, "ROUTEALL_TEST_KAFKA_BROKERS");
    ROUTEALL_REQUIRE_ENV(url, "ROUTEALL_TEST_PG_URL");
    brokers_ = brokers;
    auto env = testing::CreatePgSchema(url);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = std::move(*env);
    ledger_ = std::make_unique<PgLedgerStore>(env_->pool(), env_->schema());
    prices_ = std::make_unique<PgPriceStore>(env_->pool(), env_->schema());
    auto price = prices_->AddVersion(testing::SimplePrice("gpt"));
    ASSERT_TRUE(price.ok());
    price_ = *price;
    const std::string suffix = routeall::testing::UniqueSuffix();
    topic_ = "routeall.usage.test." + suffix;
    group_ = "billing-test-" + suffix;
  }
  void TearDown() override {
    ledger_.reset();
    prices_.reset();
    env_.reset();
  }

  // Produces n events over 5 accounts; every 10th repeats the previous request id.
  // Returns the expected -sum(charges) per account, counting each request id once.
  std::map<int64_t, int64_t> ProduceEvents(int n, const std::vector<std::string>& garbage = {}) {
    auto producer = KafkaProducer::Create({brokers_, {}});
    EXPECT_TRUE(producer.ok());
    std::map<int64_t, int64_t> expected;
    std::set<std::string> seen;
    std::atomic<int> failed{0};
    auto on_delivery = [&](const absl::Status& s) {
      if (!s.ok()) ++failed;
    };
    for (int i = 0; i < n; ++i) {
      const int id = (i % 10 == 9) ? i - 1 : i;
      auto e =
          testing::MakeEvent("req-" + std::to_string(id), 1 + id % 5, price_, 100 + id, id % 300, 1764028800);
      if (seen.insert(e.request_id()).second) expected[e.account_id()] -= e.charge_micros();
      EXPECT_TRUE((*producer)
                      ->Produce(topic_, std::to_string(e.account_id()), e.SerializeAsString(), on_delivery)
                      .ok());
      if (i == n / 2) {
        for (const auto& g : garbage) EXPECT_TRUE((*producer)->Produce(topic_, "x", g, on_delivery).ok());
      }
    }
    EXPECT_TRUE((*producer)->Flush(60s).ok());
    EXPECT_EQ(failed.load(), 0);
    unique_ = static_cast<int64_t>(seen.size());
    return expected;
  }

  static bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  void ExpectLedgerMatches(const std::map<int64_t, int64_t>& expected) {
    int64_t total = 0;
    for (const auto& [account, sum] : expected) {
      total += sum;
      EXPECT_EQ(ledger_->GetBalance(account)->balance_micros, sum) << "account " << account;
    }
    EXPECT_EQ(env_->QueryInt("SELECT sum(amount_micros)::bigint FROM " + env_->schema() + ".ledger"), total);
    EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM " + env_->schema() + ".ledger"), unique_);
  }

  std::string brokers_, topic_, group_;
  std::unique_ptr<testing::PgSchema> env_;
  std::unique_ptr<PgLedgerStore> ledger_;
  std::unique_ptr<PgPriceStore> prices_;
  ModelPrice price_;
  int64_t unique_ = 0;
};

TEST_F(UsageKafkaTest, SettlesEveryUniqueRequestOnceAndDeadLettersGarbage) {
  const std::string garbage("\xff\xfe not a usage event", 21);
  auto expected = ProduceEvents(2000, {garbage});
  {
    Process p(brokers_, topic_, group_, ledger_.get(), prices_.get());
    ASSERT_TRUE(WaitFor([&] { return p.source->committed() >= 2001; }, 120s))
        << "committed " << p.source->committed() << " seen " << p.Seen();
    p.Stop();
    EXPECT_EQ(p.metrics.events_billed.Value(), unique_);
    EXPECT_EQ(p.metrics.events_duplicate.Value(), 2000 - unique_);
    EXPECT_EQ(p.metrics.events_dead_letter.Value(), 1);
    EXPECT_EQ(p.metrics.charge_mismatch.Value(), 0);
    // The process's own view of the balance is the ledger's.
    EXPECT_EQ(p.book.GetBalance(1)->balance_micros, expected[1]);
  }
  ExpectLedgerMatches(expected);

  auto dlq = KafkaConsumer::Create({brokers_, group_ + "-dlq", {topic_ + ".dlq"}, {}});
  ASSERT_TRUE(dlq.ok());
  std::vector<KafkaMessage> got;
  WaitFor(
      [&] {
        auto b = (*dlq)->PollBatch(10, 500ms);
        if (b.ok()) got.insert(got.end(), b->begin(), b->end());
        return !got.empty();
      },
      30s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, garbage);
  EXPECT_EQ(got[0].key, "x");
}

TEST_F(UsageKafkaTest, PoisonEventsGoToDeadLettersAndNeverStopOtherAccounts) {
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  // Account 8 sits at the bottom of bigint: the ledger refuses any charge to it.
  ASSERT_TRUE(ledger_->TopUp({8, std::numeric_limits<int64_t>::min() + 5, "", "floor", absl::Now()}).ok());
  auto producer = KafkaProducer::Create({brokers_, {}});
  ASSERT_TRUE(producer.ok());
  std::atomic<int> failed{0};
  auto produce = [&](const billing::v1::UsageEvent& e) {
    EXPECT_TRUE((*producer)
                    ->Produce(topic_, std::to_string(e.account_id()), e.SerializeAsString(),
                              [&](const absl::Status& s) {
                                if (!s.ok()) ++failed;
                              })
                    .ok());
  };
  std::map<int64_t, int64_t> expected;
  std::set<std::string> poison;
  using Edit = std::function<void(billing::v1::UsageEvent&)>;
  auto bad = [&](const std::string& id, int64_t account, const Edit& edit) {
    auto e = testing::MakeEvent(id, account, price_, 10, 10, 1764028800);
    edit(e);
    poison.insert(id);
    produce(e);
  };
  for (int i = 0; i < 300; ++i) {
    auto e = testing::MakeEvent("ok-" + std::to_string(i), 1 + i % 5, price_, 100 + i, i % 30, 1764028800);
    expected[e.account_id()] -= e.charge_micros();
    produce(e);
    if (i % 60 != 30) continue;
    const std::string n = std::to_string(i);
    bad("max-tokens-" + n, 9, [](auto& e) { e.mutable_usage()->set_prompt_tokens(kInt64Max); });
    bad("neg-tokens-" + n, 9, [](auto& e) { e.mutable_usage()->set_completion_tokens(-3); });
    bad("cached-gt-prompt-" + n, 9, [](auto& e) { e.mutable_usage()->set_cached_tokens(11); });
    bad("saturated-charge-" + n, 9, [](auto& e) { e.set_charge_micros(kInt64Max); });
    bad("bigint-floor-" + n, 8, [](auto&) {});
  }
  ASSERT_TRUE((*producer)->Flush(60s).ok());
  ASSERT_EQ(failed.load(), 0);
  const int64_t total = 300 + static_cast<int64_t>(poison.size());
  {
    Process p(brokers_, topic_, group_, ledger_.get(), prices_.get());
    ASSERT_TRUE(WaitFor([&] { return p.source->committed() >= total; }, 120s))
        << "committed " << p.source->committed() << " seen " << p.Seen();
    p.Stop();
    EXPECT_EQ(p.metrics.events_billed.Value(), 300);
    EXPECT_EQ(p.metrics.events_dead_letter.Value(), static_cast<double>(poison.size()));
  }
  for (const auto& [account, sum] : expected) {
    EXPECT_EQ(ledger_->GetBalance(account)->balance_micros, sum) << "account " << account;
  }
  EXPECT_EQ(ledger_->GetBalance(9)->balance_micros, 0);
  EXPECT_EQ(ledger_->GetBalance(8)->balance_micros, std::numeric_limits<int64_t>::min() + 5);
  EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM " + env_->schema() + ".ledger WHERE kind = 1"), 300);

  auto dlq = KafkaConsumer::Create({brokers_, group_ + "-dlq", {topic_ + ".dlq"}, {}});
  ASSERT_TRUE(dlq.ok());
  std::set<std::string> dead;
  WaitFor(
      [&] {
        auto b = (*dlq)->PollBatch(100, 500ms);
        if (b.ok()) {
          for (const auto& m : *b) {
            billing::v1::UsageEvent e;
            EXPECT_TRUE(e.ParseFromString(m.payload));
            dead.insert(e.request_id());
          }
        }
        return dead.size() >= poison.size();
      },
      30s);
  EXPECT_EQ(dead, poison);
}

TEST_F(UsageKafkaTest, SettlementWatermarkPassesOnlyWhatIsSettled) {
  ProduceEvents(500);
  const absl::Time produced = absl::Now();
  Process p(brokers_, topic_, group_, ledger_.get(), prices_.get());
  ASSERT_TRUE(WaitFor([&] { return p.watermark.Through() >= produced; }, 60s))
      << "committed " << p.source->committed();
  // Everything that was in Kafka before the watermark is settled.
  EXPECT_EQ(p.Seen(), 500);
  EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM " + env_->schema() + ".ledger"), unique_);
}

TEST_F(UsageKafkaTest, UnreachableKafkaNeverCountsAsCaughtUp) {
  prometheus::Registry registry;
  BillingMetrics metrics(registry);
  PriceCatalog catalog(prices_.get(), [] { return absl::Now(); });
  SettlementWatermark watermark;
  BalanceBook book(ledger_.get(), &catalog, &metrics, [] { return absl::Now(); }, [] { return "h"; },
                   BalanceBookOptions{absl::Milliseconds(1), &watermark});
  auto c = KafkaConsumer::Create({"127.0.0.1:1", group_, {topic_}, {}});  // nothing listens there
  ASSERT_TRUE(c.ok()) << c.status();
  KafkaMessageSource source(std::move(*c));
  auto producer = KafkaProducer::Create({brokers_, {}});
  ASSERT_TRUE(producer.ok());
  KafkaDeadLetterSink dlq(producer->get(), topic_ + ".dlq");
  UsageConsumerOptions options;
  options.watermark = &watermark;
  options.progress_interval = absl::ZeroDuration();
  UsageConsumer consumer(&source, &dlq, ledger_.get(), &catalog, &book, &metrics, [] { return absl::Now(); },
                         options, [](std::chrono::milliseconds) {});
  ASSERT_TRUE(ledger_->TopUp({1, 1000, "", "fund", absl::Now()}).ok());
  ASSERT_TRUE(book.Reserve({"r1", 1, "gpt", 100, 100, 0, kMultiplierOne}).ok());
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) (void)consumer.RunOnce();
  source.Close();
  EXPECT_EQ(watermark.Through(), absl::InfinitePast());
  EXPECT_EQ(book.ExpireHolds(), 0) << "the TTL (1 ms) passed, but the hold is kept";
  EXPECT_EQ(book.GetBalance(1)->held_micros, 300);
  EXPECT_EQ(metrics.holds_expiry_postponed.Value(), 1);
}

TEST_F(UsageKafkaTest, ConsumerKilledBeforeItsOffsetCommitLosesAndDoublesNothing) {
  auto expected = ProduceEvents(2000);
  int64_t committed_before_crash = 0;
  int64_t polled_by_first = 0;
  {
    // Small batches so the crash lands mid-stream: the third batch reaches the ledger but
    // its offsets never reach Kafka.
    Process first(brokers_, topic_, group_, ledger_.get(), prices_.get(), /*crash_at=*/3);
    ASSERT_TRUE(WaitFor([&] { return first.source->crashed(); }, 120s));
    first.Stop();
    committed_before_crash = first.source->committed();
    polled_by_first = first.source->polled();
  }
  const int64_t rows_after_crash = env_->QueryInt("SELECT count(*) FROM " + env_->schema() + ".ledger");
  ASSERT_GT(committed_before_crash, 0);
  ASSERT_LT(committed_before_crash, 2000) << "the crash must come before the end";
  ASSERT_GT(polled_by_first, committed_before_crash) << "a batch was settled but not committed";

  Process second(brokers_, topic_, group_, ledger_.get(), prices_.get());
  ASSERT_TRUE(WaitFor([&] { return second.source->committed() >= 2000 - committed_before_crash; }, 120s))
      << "committed " << second.source->committed();
  second.Stop();
  EXPECT_EQ(second.source->committed(), 2000 - committed_before_crash) << "resumed at the committed offset";
  // The uncommitted batch came again and was recognised, not billed twice.
  EXPECT_GE(second.metrics.events_duplicate.Value(), 1);
  EXPECT_EQ(second.metrics.events_billed.Value(), unique_ - rows_after_crash);
  ExpectLedgerMatches(expected);
}

}  // namespace
}  // namespace routeall::billing
