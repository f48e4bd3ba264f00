// UsageConsumer with fake Kafka, fake stores and recorded back-off: idempotency, price
// checks, dead letters and the order "ledger commit, then offset commit".
#include "services/billing/usage_consumer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <limits>

#include "common/pricing.h"
#include "routeall/billing/v1/usage_event.pb.h"
#include "services/billing/fake_ledger_store.h"
#include "services/billing/fake_price_store.h"

namespace routeall::billing {
namespace {

using ::testing::ElementsAre;

// Every side effect in order, so a test can assert what happened before what.
using Journal = std::vector<std::string>;

class FakeSource final : public MessageSource {
 public:
  explicit FakeSource(Journal* journal) : journal_(journal) {}
  void Push(std::vector<KafkaMessage> batch) { batches_.push_back(std::move(batch)); }

  // MessageSource
  absl::StatusOr<std::vector<KafkaMessage>> Poll(size_t, std::chrono::milliseconds) override {
    ++polls;
    if (on_poll) on_poll();
    if (batches_.empty()) return std::vector<KafkaMessage>{};
    auto b = std::move(batches_.front());
    batches_.pop_front();
    return b;
  }
  absl::Status Commit(const std::vector<KafkaMessage>& batch) override {
    if (fail_commits > 0) {
      --fail_commits;
      journal_->push_back("commit_fail");
      return absl::UnavailableError("injected commit failure");
    }
    int64_t max = -1;
    for (const auto& m : batch) max = std::max(max, m.offset);
    journal_->push_back("commit@" + std::to_string(max + 1));
    return absl::OkStatus();
  }
  void Close() override { closed = true; }
  absl::StatusOr<std::vector<KafkaPartitionProgress>> Progress() override {
    if (!progress) return absl::UnimplementedError("no progress");
    return progress();
  }

  int polls = 0;
  std::function<absl::StatusOr<std::vector<KafkaPartitionProgress>>()> progress;
  int fail_commits = 0;
  bool closed = false;
  std::function<void()> on_poll;

 private:
  Journal* journal_;
  std::deque<std::vector<KafkaMessage>> batches_;
};

class FakeDeadLetters final : public DeadLetterSink {
 public:
  explicit FakeDeadLetters(Journal* journal) : journal_(journal) {}
  // DeadLetterSink
  absl::Status Send(const std::vector<KafkaMessage>& messages) override {
    if (fail_sends > 0) {
      --fail_sends;
      journal_->push_back("dlq_fail");
      return absl::UnavailableError("injected dlq failure");
    }
    for (const auto& m : messages) sent.push_back(m);
    journal_->push_back("dlq:" + std::to_string(messages.size()));
    return absl::OkStatus();
  }
  std::vector<KafkaMessage> sent;
  int fail_sends = 0;

 private:
  Journal* journal_;
};

// Records each ledger transaction's outcome in the journal.
class JournalingLedger final : public LedgerStore {
 public:
  JournalingLedger(FakeLedgerStore* inner, Journal* journal) : inner_(inner), journal_(journal) {}
  // LedgerStore
  absl::StatusOr<BalanceSnapshot> GetBalance(int64_t a) override { return inner_->GetBalance(a); }
  absl::StatusOr<SettleResult> SettleUsage(const std::vector<UsageEntry>& entries) override {
    if (before_settle) before_settle(++settles_);
    auto r = inner_->SettleUsage(entries);
    journal_->push_back(r.ok() ? "ledger:" + std::to_string(r->inserted.size()) : "ledger_fail");
    return r;
  }
  absl::StatusOr<TopUpResult> TopUp(const TopUpEntry& e) override { return inner_->TopUp(e); }
  absl::StatusOr<UsageReport> GetUsage(int64_t a, absl::Time f, absl::Time t, int l) override {
    return inner_->GetUsage(a, f, t, l);
  }

  // Called with the 1-based number of each SettleUsage call, before it runs.
  std::function<void(int)> before_settle;

 private:
  FakeLedgerStore* inner_;
  Journal* journal_;
  int settles_ = 0;
};

class UsageConsumerTest : public ::testing::Test {
 protected:
  UsageConsumerTest()
      : metrics_(registry_),
        ledger_(&fake_ledger_, &journal_),
        catalog_(&prices_, [this] { return now_; }),
        book_(
            &ledger_, &catalog_, &metrics_, [this] { return now_; },
            [this] { return "h" + std::to_string(++ids_); },
            BalanceBookOptions{absl::Minutes(30), &watermark_}),
        source_(&journal_),
        dead_(&journal_),
        consumer_(
            &source_, &dead_, &ledger_, &catalog_, &book_, &metrics_, [this] { return now_; },
            WithWatermark(&watermark_),
            [this](std::chrono::milliseconds d) { sleeps_.push_back(d.count()); }) {
    ModelPrice p;
    p.set_model("m");
    p.set_input_per_mtok(1000000);
    p.set_output_per_mtok(2000000);
    price_ = *catalog_.Set(p);
  }

  billing::v1::UsageEvent Event(const std::string& id, int64_t prompt, int64_t completion,
                                int64_t account = 1) {
    billing::v1::UsageEvent e;
    e.set_request_id(id);
    e.set_account_id(account);
    e.set_model("m");
    e.mutable_usage()->set_prompt_tokens(prompt);
    e.mutable_usage()->set_completion_tokens(completion);
    e.set_price_version(price_.version());
    e.set_multiplier_ppm(kMultiplierOne);
    e.set_charge_micros(ComputeChargeMicros(price_, kMultiplierOne, e.usage()));
    e.mutable_occurred_at()->set_seconds(1764000000);
    return e;
  }

  KafkaMessage Msg(const std::string& payload) {
    KafkaMessage m;
    m.topic = "routeall.usage.v1";
    m.offset = next_offset_++;
    m.key = "1";
    m.payload = payload;
    return m;
  }
  KafkaMessage Msg(const billing::v1::UsageEvent& e) { return Msg(e.SerializeAsString()); }

  int64_t Balance(int64_t account = 1) { return book_.GetBalance(account)->balance_micros; }

  static UsageConsumerOptions WithWatermark(SettlementWatermark* w) {
    UsageConsumerOptions o;
    o.watermark = w;
    return o;
  }
  // One partition of the usage topic at this position and high watermark.
  void SetProgress(int64_t position, int64_t high) {
    source_.progress = [position, high]() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
      return std::vector<KafkaPartitionProgress>{{"routeall.usage.v1", 0, position, high}};
    };
  }

  Journal journal_;
  std::vector<int64_t> sleeps_;
  prometheus::Registry registry_;
  BillingMetrics metrics_;
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  int ids_ = 0;
  int64_t next_offset_ = 0;
  FakeLedgerStore fake_ledger_;
  JournalingLedger ledger_;
  FakePriceStore prices_;
  PriceCatalog catalog_;
  SettlementWatermark watermark_;
  BalanceBook book_;
  FakeSource source_;
  FakeDeadLetters dead_;
  UsageConsumer consumer_;
  ModelPrice price_;
};

TEST_F(UsageConsumerTest, DuplicateRequestIdIsBilledOnceAndReleasesTheHold) {
  ASSERT_TRUE(book_.TopUp(1, 10000, "", "fund").ok());
  auto hold = book_.Reserve({"r1", 1, "m", 1000, 1000, 0, kMultiplierOne});
  ASSERT_TRUE(hold.ok());
  auto e1 = Event("r1", 100, 10);  // 120
  e1.set_hold_id(hold->hold_id);
  auto e2 = Event("r2", 50, 0);  // 50
  source_.Push({Msg(e1), Msg(e1), Msg(e2)});
  ASSERT_EQ(*consumer_.RunOnce(), 3u);
  EXPECT_EQ(Balance(), 10000 - 120 - 50);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0);
  EXPECT_EQ(fake_ledger_.usage_rows(), 2u);
  EXPECT_EQ(metrics_.events_billed.Value(), 2);
  EXPECT_EQ(metrics_.events_duplicate.Value(), 1);

  // Redelivery of the whole batch (offsets lost): nothing billed twice.
  source_.Push({Msg(e1), Msg(e2)});
  ASSERT_EQ(*consumer_.RunOnce(), 2u);
  EXPECT_EQ(Balance(), 10000 - 170);
  EXPECT_EQ(metrics_.events_billed.Value(), 2);
  EXPECT_EQ(metrics_.events_duplicate.Value(), 3);
  EXPECT_THAT(journal_, ElementsAre("ledger:2", "commit@3", "ledger:0", "commit@5"));
}

TEST_F(UsageConsumerTest, ChargeMismatchBillsTheEventChargeAndCounts) {
  auto e = Event("r1", 100, 10);
  e.set_charge_micros(e.charge_micros() + 7);  // what the client was shown
  auto unknown_version = Event("r2", 10, 0);
  unknown_version.set_price_version(99);
  source_.Push({Msg(e), Msg(unknown_version)});
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(Balance(), -(127 + 10));
  EXPECT_EQ(metrics_.charge_mismatch.Value(), 2);
  EXPECT_EQ(metrics_.events_billed.Value(), 2);
}

TEST_F(UsageConsumerTest, MatchingChargesDoNotCountAndPriceVersionsAreCached) {
  source_.Push({Msg(Event("r1", 1, 1)), Msg(Event("r2", 2, 2)), Msg(Event("r3", 3, 3))});
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(metrics_.charge_mismatch.Value(), 0);
  EXPECT_EQ(prices_.version_reads(), 0) << "version 1 was cached by SetPrice";
}

TEST_F(UsageConsumerTest, UndecodableGoesToDeadLettersBeforeTheOffsetsMove) {
  auto no_account = Event("r2", 1, 1);
  no_account.set_account_id(0);
  auto negative = Event("r3", 1, 1);
  negative.set_charge_micros(-5);
  source_.Push({Msg(std::string("\xff\xff\xff garbage", 12)), Msg(Event("r1", 10, 0)), Msg(no_account),
                Msg(negative)});
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_THAT(journal_, ElementsAre("dlq:3", "ledger:1", "commit@4"));
  ASSERT_EQ(dead_.sent.size(), 3u);
  EXPECT_EQ(dead_.sent[0].offset, 0);
  EXPECT_EQ(metrics_.events_dead_letter.Value(), 3);
  EXPECT_EQ(Balance(), -10);
}

TEST_F(UsageConsumerTest, AbsurdOrInconsistentUsageIsPoisonAndOtherAccountsAreBilled) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<billing::v1::UsageEvent> poison;
  auto with = [&](const std::string& id, const std::function<void(billing::v1::UsageEvent&)>& edit) {
    auto e = Event(id, 10, 10, 9);
    edit(e);
    poison.push_back(e);
  };
  with("neg-prompt", [](auto& e) { e.mutable_usage()->set_prompt_tokens(-1); });
  with("neg-completion", [](auto& e) { e.mutable_usage()->set_completion_tokens(-5); });
  with("huge-prompt", [](auto& e) { e.mutable_usage()->set_prompt_tokens(kMaxUsageCount + 1); });
  with("max-completion", [](auto& e) { e.mutable_usage()->set_completion_tokens(kMax); });
  with("cached-gt-prompt", [](auto& e) { e.mutable_usage()->set_cached_tokens(11); });
  with("reasoning-gt-completion", [](auto& e) { e.mutable_usage()->set_reasoning_tokens(11); });
  with("neg-calls", [](auto& e) { e.mutable_usage()->set_calls(-1); });
  with("saturated-charge", [](auto& e) { e.set_charge_micros(kMax); });
  with("charge-over-bound", [](auto& e) { e.set_charge_micros(kMaxChargeMicros + 1); });
  with("neg-multiplier", [](auto& e) { e.set_multiplier_ppm(-1); });
  std::vector<KafkaMessage> batch;
  batch.push_back(Msg(Event("ok-1", 10, 0, 1)));
  for (const auto& e : poison) batch.push_back(Msg(e));
  batch.push_back(Msg(Event("ok-2", 0, 10, 2)));
  source_.Push(batch);
  ASSERT_EQ(*consumer_.RunOnce(), batch.size());
  EXPECT_THAT(journal_, ElementsAre("dlq:10", "ledger:2", "commit@12"));
  EXPECT_EQ(dead_.sent.size(), poison.size());
  EXPECT_EQ(metrics_.events_dead_letter.Value(), 10);
  EXPECT_EQ(Balance(1), -10);
  EXPECT_EQ(Balance(2), -20);
  EXPECT_EQ(Balance(9), 0) << "nothing of a poison event is billed";
  EXPECT_TRUE(sleeps_.empty()) << "poison is not retried";
}

TEST_F(UsageConsumerTest, EventTheLedgerRefusesIsDeadLetteredWithoutWedgingTheBatch) {
  // Account 2's balance is so far below zero that one more charge leaves bigint's range:
  // PostgreSQL (and the fake) refuse the transaction, and would refuse it on every retry.
  fake_ledger_.SetStoredBalance(2, std::numeric_limits<int64_t>::min() + 5);
  ASSERT_TRUE(book_.TopUp(1, 1000, "", "fund").ok());
  auto hold = book_.Reserve({"r1", 1, "m", 10, 0, 0, kMultiplierOne});
  ASSERT_TRUE(hold.ok());
  auto e1 = Event("r1", 10, 0, 1);
  e1.set_hold_id(hold->hold_id);
  source_.Push({Msg(e1), Msg(Event("r2", 10, 0, 2)), Msg(Event("r3", 0, 10, 3)), Msg(Event("r3", 0, 10, 3))});
  ASSERT_EQ(*consumer_.RunOnce(), 4u);
  EXPECT_THAT(journal_, ElementsAre("ledger_fail", "ledger:1", "ledger_fail", "ledger:1", "ledger:0", "dlq:1",
                                    "commit@4"));
  ASSERT_EQ(dead_.sent.size(), 1u);
  EXPECT_EQ(dead_.sent[0].offset, 1);
  EXPECT_TRUE(sleeps_.empty()) << "a refused event is not retried";
  EXPECT_EQ(Balance(1), 1000 - 10);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0) << "settled hold released";
  EXPECT_EQ(Balance(3), -20);
  EXPECT_EQ(metrics_.events_billed.Value(), 2);
  EXPECT_EQ(metrics_.events_duplicate.Value(), 1);
  EXPECT_EQ(metrics_.events_dead_letter.Value(), 1);

  // The next batch flows as usual.
  source_.Push({Msg(Event("r4", 5, 0, 1))});
  ASSERT_EQ(*consumer_.RunOnce(), 1u);
  EXPECT_EQ(Balance(1), 1000 - 15);
}

TEST_F(UsageConsumerTest, TransientFailureWhileIsolatingResumesAtTheSameEvent) {
  fake_ledger_.SetStoredBalance(2, std::numeric_limits<int64_t>::min() + 5);
  // The third transaction (r2 alone) first fails transiently (PostgreSQL restarting).
  ledger_.before_settle = [this](int call) {
    if (call == 3) fake_ledger_.FailNextSettles(1);
  };
  source_.Push({Msg(Event("r1", 10, 0, 1)), Msg(Event("r2", 10, 0, 2)), Msg(Event("r3", 0, 10, 3))});
  ASSERT_EQ(*consumer_.RunOnce(), 3u);
  EXPECT_THAT(journal_, ElementsAre("ledger_fail", "ledger:1", "ledger_fail", "ledger_fail", "ledger:1",
                                    "dlq:1", "commit@3"));
  EXPECT_THAT(sleeps_, ElementsAre(100)) << "only the transient failure backs off";
  EXPECT_EQ(metrics_.events_billed.Value(), 2);
  EXPECT_EQ(metrics_.events_duplicate.Value(), 0) << "r1 was not settled again";
  EXPECT_EQ(Balance(1), -10);
  EXPECT_EQ(Balance(3), -20);
}

TEST_F(UsageConsumerTest, WatermarkAdvancesOnlyWhenEveryPartitionIsCaughtUp) {
  EXPECT_EQ(watermark_.Through(), absl::InfinitePast());
  ASSERT_TRUE(consumer_.RunOnce().ok());  // progress unknown (a source that cannot tell)
  EXPECT_EQ(watermark_.Through(), absl::InfinitePast());
  now_ += absl::Seconds(1);
  source_.progress = []() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
    return absl::UnavailableError("all brokers down");
  };
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), absl::InfinitePast()) << "Kafka unreachable: not caught up";
  now_ += absl::Seconds(1);
  source_.progress = []() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
    return std::vector<KafkaPartitionProgress>{};
  };
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), absl::InfinitePast()) << "no partition assigned: not caught up";
  now_ += absl::Seconds(1);
  SetProgress(7, 7);
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), now_);
  const absl::Time caught_up = now_;
  now_ += absl::Milliseconds(500);
  SetProgress(7, 9);  // lagging
  ASSERT_TRUE(consumer_.RunOnce().ok());
  now_ += absl::Seconds(5);
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), caught_up);
}

TEST_F(UsageConsumerTest, SteadyStreamStillAdvancesTheWatermarkToWhenItsBacklogWasNoted) {
  SetProgress(100, 150);  // never caught up: new events keep arriving
  ASSERT_TRUE(consumer_.RunOnce().ok());
  const absl::Time noted = now_;
  now_ += absl::Seconds(2);
  SetProgress(149, 200);
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), absl::InfinitePast()) << "offset 149 of the noted backlog is not settled";
  now_ += absl::Seconds(2);
  SetProgress(150, 260);
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), noted) << "everything in Kafka at `noted` is settled";
}

TEST_F(UsageConsumerTest, AReassignedPartitionDoesNotPinTheWatermarkForEver) {
  SetProgress(100, 150);  // partition 0 lagging: its high watermark is noted
  ASSERT_TRUE(consumer_.RunOnce().ok());
  now_ += absl::Seconds(2);
  source_.progress = []() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
    return std::vector<KafkaPartitionProgress>{{"routeall.usage.v1", 1, 10, 20}};  // now only partition 1
  };
  ASSERT_TRUE(consumer_.RunOnce().ok());
  const absl::Time renoted = now_;
  now_ += absl::Seconds(2);
  source_.progress = []() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
    return std::vector<KafkaPartitionProgress>{{"routeall.usage.v1", 1, 20, 30}};
  };
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(watermark_.Through(), renoted);
}

TEST_F(UsageConsumerTest, LateUsageEventFindsItsHoldKeptDuringAnOutageAndIsBilledOnce) {
  ASSERT_TRUE(book_.TopUp(1, 1000, "", "fund").ok());
  auto hold = book_.Reserve({"r1", 1, "m", 300, 200, 0, kMultiplierOne});  // 300 + 400 = 700 held
  ASSERT_TRUE(hold.ok());
  // Kafka unreachable for billing for an hour: the TTL passes, settlement cannot confirm.
  source_.progress = []() -> absl::StatusOr<std::vector<KafkaPartitionProgress>> {
    return absl::UnavailableError("all brokers down");
  };
  for (int i = 0; i < 60; ++i) {
    now_ += absl::Minutes(1);
    ASSERT_TRUE(consumer_.RunOnce().ok());
    book_.ExpireHolds();
  }
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 700) << "the hold outlived its TTL";
  EXPECT_EQ(metrics_.holds_expired.Value(), 0);
  EXPECT_EQ(book_.Reserve({"r2", 1, "m", 300, 200, 0, kMultiplierOne}).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "the held balance cannot be spent twice";
  // Kafka is back; the event that was waiting there arrives.
  auto e = Event("r1", 300, 150);  // 600
  e.set_hold_id(hold->hold_id);
  source_.Push({Msg(e)});
  SetProgress(1, 1);
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_EQ(Balance(), 400);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0);
  EXPECT_EQ(metrics_.holds_expired.Value(), 0);
}

TEST_F(UsageConsumerTest, FailingTransactionIsRetriedOnTheSameBatchWithoutCommitting) {
  fake_ledger_.FailNextSettles(3);
  source_.Push({Msg(Event("r1", 10, 0))});
  source_.Push({Msg(Event("r2", 20, 0))});
  ASSERT_EQ(*consumer_.RunOnce(), 1u);
  EXPECT_THAT(journal_, ElementsAre("ledger_fail", "ledger_fail", "ledger_fail", "ledger:1", "commit@1"));
  EXPECT_THAT(sleeps_, ElementsAre(100, 200, 400)) << "exponential back-off";
  EXPECT_EQ(source_.polls, 1) << "the batch in hand is retried, never skipped";
  EXPECT_EQ(Balance(), -10);
  ASSERT_EQ(*consumer_.RunOnce(), 1u);
  EXPECT_EQ(Balance(), -30);
}

TEST_F(UsageConsumerTest, DeadLetterFailureBlocksTheBatchUntilDelivered) {
  dead_.fail_sends = 1;
  source_.Push({Msg("garbage-that-is-not-a-proto\xff"), Msg(Event("r1", 10, 0))});
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_THAT(journal_, ElementsAre("dlq_fail", "dlq:1", "ledger:1", "commit@2"));
}

TEST_F(UsageConsumerTest, CommitFailureRetriesOnlyTheCommit) {
  source_.fail_commits = 2;
  source_.Push({Msg(Event("r1", 10, 0))});
  ASSERT_TRUE(consumer_.RunOnce().ok());
  EXPECT_THAT(journal_, ElementsAre("ledger:1", "commit_fail", "commit_fail", "commit@1"));
  EXPECT_EQ(Balance(), -10) << "in-memory balance follows the ledger commit exactly once";
}

TEST_F(UsageConsumerTest, StopFinishesTheBatchInHandThenCloses) {
  source_.Push({Msg(Event("r1", 10, 0))});
  source_.on_poll = [this] {
    if (source_.polls == 1) consumer_.Stop();  // SIGTERM while the first batch is in hand
  };
  consumer_.Run();
  EXPECT_THAT(journal_, ElementsAre("ledger:1", "commit@1"));
  EXPECT_EQ(source_.polls, 1);
  EXPECT_TRUE(source_.closed);
}

TEST_F(UsageConsumerTest, AtShutdownAFailingBatchIsLeftUncommitted) {
  UsageConsumerOptions opts;
  opts.stop_grace = std::chrono::milliseconds(0);
  UsageConsumer consumer(
      &source_, &dead_, &ledger_, &catalog_, &book_, &metrics_, [this] { return now_; }, opts,
      [](std::chrono::milliseconds) {});
  fake_ledger_.FailNextSettles(1000);
  consumer.Stop();
  EXPECT_FALSE(consumer.Settle({Msg(Event("r1", 10, 0))}).ok());
  EXPECT_THAT(journal_, ElementsAre("ledger_fail"));
}

}  // namespace
}  // namespace routeall::billing
