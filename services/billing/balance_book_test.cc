// BalanceBook with fake stores and a fake clock: holds, boundaries, idempotency, expiry.
#include "services/billing/balance_book.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "common/pricing.h"
#include "services/billing/fake_ledger_store.h"
#include "services/billing/fake_price_store.h"

namespace routeall::billing {
namespace {

using ::testing::HasSubstr;

class BalanceBookTest : public ::testing::Test {
 protected:
  BalanceBookTest()
      : metrics_(registry_),
        catalog_(&prices_, [this] { return now_; }),
        book_(
            &ledger_, &catalog_, &metrics_, [this] { return now_; },
            [this] { return "h" + std::to_string(++next_id_); }, BalanceBookOptions{absl::Minutes(30)}) {
    // 1 micro-credit per prompt token, 2 per output token.
    ModelPrice p;
    p.set_model("m");
    p.set_input_per_mtok(1000000);
    p.set_output_per_mtok(2000000);
    p.set_per_call(1000);
    EXPECT_TRUE(catalog_.Set(p).ok());
  }

  // A request sized at 100 prompt + 50 output tokens: a 200 micro-credit hold at 1.0x.
  static ReserveParams Req(const std::string& id, int64_t account = 1) {
    return ReserveParams{id, account, "m", 100, 50, 0, 1000000};
  }

  void Fund(int64_t account, int64_t micros) {
    ASSERT_TRUE(book_
                    .TopUp(account, micros, "test",
                           "fund-" + std::to_string(account) + "-" + std::to_string(++fund_seq_))
                    .ok());
  }

  prometheus::Registry registry_;
  BillingMetrics metrics_;
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  int next_id_ = 0;
  int fund_seq_ = 0;
  FakeLedgerStore ledger_;
  FakePriceStore prices_;
  PriceCatalog catalog_;
  BalanceBook book_;
};

TEST_F(BalanceBookTest, ReserveSucceedsAtExactBoundaryAndFailsOneMicroBelow) {
  Fund(1, 200);
  auto ok = book_.Reserve(Req("r1", 1));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->hold_micros, 200);
  EXPECT_EQ(ok->available_micros, 0);
  EXPECT_EQ(ok->price.version(), 1);

  Fund(2, 199);
  auto short_by_one = book_.Reserve(Req("r2", 2));
  ASSERT_EQ(short_by_one.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(short_by_one.status().message()),
            "insufficient balance: available 0.000199 credits, this request may cost up to 0.000200");
  EXPECT_EQ(metrics_.reserve_ok.Value(), 1);
  EXPECT_EQ(metrics_.reserve_insufficient.Value(), 1);
}

TEST_F(BalanceBookTest, HoldUsesMultiplierCallsAndPricingFunction) {
  Fund(1, 1000000);
  ReserveParams p = Req("r1");
  p.multiplier_ppm = 1500000;
  p.calls = 2;
  auto r = book_.Reserve(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hold_micros, (200 + 2000) * 3 / 2);
}

TEST_F(BalanceBookTest, OpenHoldsReduceAvailability) {
  Fund(1, 500);
  auto a = book_.Reserve(Req("r1"));
  auto b = book_.Reserve(Req("r2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->available_micros, 100);
  EXPECT_EQ(book_.Reserve(Req("r3")).status().code(), absl::StatusCode::kFailedPrecondition);
  auto bal = book_.GetBalance(1);
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->balance_micros, 500);
  EXPECT_EQ(bal->held_micros, 400);
}

TEST_F(BalanceBookTest, RetriedReserveReturnsTheSameHold) {
  Fund(1, 300);
  auto first = book_.Reserve(Req("r1"));
  auto again = book_.Reserve(Req("r1"));
  ASSERT_TRUE(first.ok() && again.ok()) << again.status();
  EXPECT_EQ(first->hold_id, again->hold_id);
  EXPECT_EQ(again->hold_micros, 200);
  EXPECT_EQ(again->available_micros, 100);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 200);
}

TEST_F(BalanceBookTest, ReleaseFreesTheHoldAndIsIdempotent) {
  Fund(1, 200);
  auto h = book_.Reserve(Req("r1"));
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(book_.Reserve(Req("r2")).ok());
  EXPECT_TRUE(book_.Release(h->hold_id, 1).ok());
  EXPECT_TRUE(book_.Release(h->hold_id, 1).ok());
  EXPECT_TRUE(book_.Release("no-such-hold", 1).ok());
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0);
  EXPECT_TRUE(book_.Reserve(Req("r2")).ok());
}

TEST_F(BalanceBookTest, ExpiredHoldsAreReleasedAndCounted) {
  Fund(1, 200);
  ASSERT_TRUE(book_.Reserve(Req("r1")).ok());
  now_ += absl::Minutes(30) - absl::Milliseconds(1);
  EXPECT_EQ(book_.ExpireHolds(), 0);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 200);
  now_ += absl::Milliseconds(1);
  EXPECT_EQ(book_.ExpireHolds(), 1);
  EXPECT_EQ(metrics_.holds_expired.Value(), 1);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0);
  EXPECT_EQ(book_.GetBalance(1)->balance_micros, 200) << "expiry never charges";
  EXPECT_TRUE(book_.Reserve(Req("r2")).ok());
}

TEST_F(BalanceBookTest, ReserveDropsExpiredHoldsOfTheAccountWithoutASweep) {
  Fund(1, 200);
  ASSERT_TRUE(book_.Reserve(Req("r1")).ok());
  now_ += absl::Hours(1);
  EXPECT_TRUE(book_.Reserve(Req("r2")).ok());
  EXPECT_EQ(metrics_.holds_expired.Value(), 1);
}

TEST_F(BalanceBookTest, ConcurrentHoldsOnOneAccountNeverExceedItsBalance) {
  constexpr int64_t kBalance = 1000003;
  Fund(1, kBalance);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 400;
  std::atomic<int64_t> granted{0};
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::atomic<int64_t> min_available{kBalance};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        // Hold sizes 2 x (1..97) + 100 micro-credits: uneven, so the boundary is hit mid-stream.
        ReserveParams p = Req("t" + std::to_string(t) + "-" + std::to_string(i));
        p.max_output_tokens = 1 + (t * 31 + i * 7) % 97;
        auto r = book_.Reserve(p);
        if (r.ok()) {
          granted += r->hold_micros;
          ++ok;
          const int64_t available = r->available_micros;
          int64_t seen = min_available.load();
          while (available < seen && !min_available.compare_exchange_weak(seen, available)) {
          }
        } else if (absl::IsFailedPrecondition(r.status())) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0) << "the test must actually exhaust the balance";
  EXPECT_LE(granted.load(), kBalance) << "granted holds exceed the balance";
  EXPECT_GT(granted.load(), kBalance - 300) << "refused while there was room for the largest hold";
  EXPECT_GE(min_available.load(), 0);
  auto bal = book_.GetBalance(1);
  ASSERT_TRUE(bal.ok());
  EXPECT_EQ(bal->held_micros, granted.load());
  EXPECT_EQ(bal->balance_micros, kBalance);
}

// A book whose hold expiry waits for usage settlement (the production wiring).
class GatedExpiryTest : public BalanceBookTest {
 protected:
  GatedExpiryTest()
      : gated_(
            &ledger_, &catalog_, &metrics_, [this] { return now_; },
            [this] { return "g" + std::to_string(++next_id_); },
            BalanceBookOptions{absl::Minutes(30), &settled_, absl::Hours(24)}) {
    EXPECT_TRUE(gated_.TopUp(1, 200, "", "fund").ok());
  }
  SettlementWatermark settled_;
  BalanceBook gated_;
};

TEST_F(GatedExpiryTest, HoldOutlivesItsTtlUntilSettlementCatchesUpPastIt) {
  const absl::Time expiry = now_ + absl::Minutes(30);
  ASSERT_TRUE(gated_.Reserve(Req("r1")).ok());
  settled_.Advance(now_);  // caught up when the hold was taken, then Kafka became unreachable
  now_ += absl::Hours(2);
  EXPECT_EQ(gated_.ExpireHolds(), 0);
  EXPECT_EQ(gated_.ExpireHolds(), 0);
  EXPECT_EQ(metrics_.holds_expiry_postponed.Value(), 1) << "counted once per hold";
  EXPECT_EQ(metrics_.holds_expired.Value(), 0);
  EXPECT_EQ(gated_.GetBalance(1)->held_micros, 200);
  // The balance the hold covers cannot be spent a second time meanwhile.
  EXPECT_EQ(gated_.Reserve(Req("r2")).status().code(), absl::StatusCode::kFailedPrecondition);

  settled_.Advance(expiry - absl::Milliseconds(1));  // not yet past the expiry
  EXPECT_EQ(gated_.ExpireHolds(), 0);
  settled_.Advance(expiry);  // every event in Kafka up to the expiry is settled: none was for r1
  EXPECT_EQ(gated_.ExpireHolds(), 1);
  EXPECT_EQ(metrics_.holds_expired.Value(), 1);
  EXPECT_EQ(gated_.GetBalance(1)->held_micros, 0);
  EXPECT_TRUE(gated_.Reserve(Req("r2")).ok());
}

TEST_F(GatedExpiryTest, NothingLeaksForeverAHoldIsReleasedAtTheMaxAge) {
  ASSERT_TRUE(gated_.Reserve(Req("r1")).ok());  // settlement never catches up at all
  now_ += absl::Hours(24) - absl::Milliseconds(1);
  EXPECT_EQ(gated_.ExpireHolds(), 0);
  now_ += absl::Milliseconds(1);
  EXPECT_EQ(gated_.ExpireHolds(), 1);
  EXPECT_EQ(gated_.GetBalance(1)->held_micros, 0);
}

TEST_F(GatedExpiryTest, NeverReleasedBeforeItsTtlEvenWhenCaughtUp) {
  ASSERT_TRUE(gated_.Reserve(Req("r1")).ok());
  now_ += absl::Minutes(29);
  settled_.Advance(now_);
  EXPECT_EQ(gated_.ExpireHolds(), 0) << "a hold is never released before its TTL";
}

TEST_F(BalanceBookTest, ReleaseByRequestIdDropsAHoldWhoseIdTheCallerNeverGot) {
  Fund(1, 200);
  ASSERT_TRUE(book_.Reserve(Req("r1")).ok());  // the gateway's Reserve deadline passed meanwhile
  ASSERT_TRUE(book_.Release("", 1, "r1").ok());
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0);
  EXPECT_TRUE(book_.Release("", 1, "r1").ok()) << "idempotent";
  EXPECT_EQ(book_.Reserve(Req("r1")).status().code(), absl::StatusCode::kAborted)
      << "a retry of the released request cannot take the hold again";
  EXPECT_TRUE(book_.Reserve(Req("r2")).ok()) << "the balance is free again";
  EXPECT_EQ(book_.Release("", 1, "").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BalanceBookTest, ReleaseByRequestIdBeforeTheReserveArrivesRefusesIt) {
  Fund(1, 200);
  // The gateway gave up and released before its slow Reserve reached billing.
  ASSERT_TRUE(book_.Release("", 1, "late").ok());
  EXPECT_EQ(book_.Reserve(Req("late")).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(book_.GetBalance(1)->held_micros, 0) << "no hold leaks from the late Reserve";
  now_ += absl::Minutes(30);  // the refusal lasts one TTL, then the request id is forgotten
  EXPECT_TRUE(book_.Reserve(Req("late")).ok());
}

TEST_F(BalanceBookTest, UnpricedModelIsNotFound) {
  Fund(1, 1000);
  ReserveParams p = Req("r1");
  p.model = "unknown";
  EXPECT_EQ(book_.Reserve(p).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(metrics_.reserve_unpriced.Value(), 1);
  EXPECT_EQ(metrics_.reserve_ok.Value(), 0);
}

TEST_F(BalanceBookTest, ReserveUsesTheLatestPriceVersion) {
  Fund(1, 1000);
  ModelPrice p;
  p.set_model("m");
  p.set_input_per_mtok(2000000);
  p.set_output_per_mtok(2000000);
  ASSERT_EQ(catalog_.Set(p)->version(), 2);
  auto r = book_.Reserve(Req("r1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->price.version(), 2);
  EXPECT_EQ(r->hold_micros, 300);
}

TEST_F(BalanceBookTest, TopUpReplayedReferenceIsANoOp) {
  auto a = book_.TopUp(1, 500, "card", "pay-1");
  auto b = book_.TopUp(1, 500, "card", "pay-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 500);
  EXPECT_EQ(*b, 500);
  EXPECT_EQ(book_.TopUp(1, 900, "card", "pay-1").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*book_.TopUp(1, -50, "refund", "refund-1"), 450);
  EXPECT_EQ(*book_.TopUp(1, -50, "refund", "refund-1"), 450);
  EXPECT_EQ(book_.TopUp(1, 0, "", "zero").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BalanceBookTest, TopUpWithoutAReferenceIsRefusedSoARetryCannotCreditTwice) {
  EXPECT_EQ(book_.TopUp(1, 100, "card", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_.TopUp(1, 100, "card", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_.GetBalance(1)->balance_micros, 0);
  EXPECT_EQ(book_.TopUp(1, kMaxChargeMicros + 1, "", "huge").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_.TopUp(1, std::numeric_limits<int64_t>::min(), "", "min").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*book_.TopUp(1, kMaxChargeMicros, "", "max"), kMaxChargeMicros);
}

TEST_F(BalanceBookTest, BalanceIsLoadedOnceAndOlderSnapshotsNeverWin) {
  ledger_.SetStoredBalance(1, 1000);  // written before this process started
  EXPECT_EQ(book_.GetBalance(1)->balance_micros, 1000);
  book_.ApplySettled({{1, 700, 5}}, {});
  EXPECT_EQ(book_.GetBalance(1)->balance_micros, 700);
  book_.ApplySettled({{1, 900, 3}}, {});  // a stale snapshot arriving late
  EXPECT_EQ(book_.GetBalance(1)->balance_micros, 700);
}

TEST_F(BalanceBookTest, SettlementReplacesTheHoldInOneStep) {
  Fund(1, 200);
  auto h = book_.Reserve(Req("r1"));
  ASSERT_TRUE(h.ok());
  book_.ApplySettled({{1, 50, 2}}, {{1, h->hold_id}});
  auto bal = book_.GetBalance(1);
  EXPECT_EQ(bal->balance_micros, 50);
  EXPECT_EQ(bal->held_micros, 0);
}

TEST_F(BalanceBookTest, UsageDefaultsToTheLast30Days) {
  UsageEntry old_entry{"old", 1, 0, "m", 0, 1, 0, 0, 1, 0, 0, 0, 3, 1, now_ - absl::Hours(24 * 31)};
  UsageEntry new_entry{"new", 1, 0, "m", 0, 1, 0, 0, 1, 0, 0, 0, 3, 1, now_ - absl::Hours(1)};
  ASSERT_TRUE(ledger_.SettleUsage({old_entry, new_entry}).ok());
  auto report = book_.GetUsage(1, std::nullopt, std::nullopt, 0);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->records.size(), 1u);
  EXPECT_EQ(report->records[0].request_id, "new");
  EXPECT_EQ(book_.GetUsage(1, now_, now_, 10).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace routeall::billing
