// The pricing function on the seed's example and its edge cases.
#include "common/pricing.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

namespace routeall {
namespace {

billing::v1::ModelPrice Gpt4o() {
  // $2.50 / 1M input, $1.25 / 1M cached, $10 / 1M output; 1 credit = $1.
  billing::v1::ModelPrice p;
  p.set_model("gpt-4o");
  p.set_input_per_mtok(2500000);
  p.set_cache_read_per_mtok(1250000);
  p.set_cache_write_per_mtok(3125000);
  p.set_output_per_mtok(10000000);
  return p;
}

llm::v1::Usage U(int64_t prompt, int64_t cached, int64_t completion, int64_t reasoning = 0, int64_t write = 0) {
  llm::v1::Usage u;
  u.set_prompt_tokens(prompt);
  u.set_cached_tokens(cached);
  u.set_completion_tokens(completion);
  u.set_reasoning_tokens(reasoning);
  u.set_cache_write_tokens(write);
  return u;
}

TEST(PricingTest, SeedExampleCachedTokensBillAtTheCacheRate) {
  // prompt 972 with 896 cached: 76 x 2.5 + 896 x 1.25 = 190 + 1120 = 1310 micro-credits.
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(972, 896, 0)), 1310);
  // Billing all 972 at the input rate (the peers' bug) would be 2430.
  EXPECT_NE(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(972, 0, 0)), 1310);
  // With 40 output tokens: + 400.
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(972, 896, 40)), 1710);
}

TEST(PricingTest, GroupMultiplierAppliesToTheExactSumThenRoundsOnce) {
  // 1710 x 1.5 = 2565; x 0.333333 = 569.99943 -> 570.
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), 1500000, U(972, 896, 40)), 2565);
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), 333333, U(972, 896, 40)), 570);
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), 0, U(972, 896, 40)), 0);
}

TEST(PricingTest, FractionalMicroCreditsRoundHalfUpOnlyAtTheEnd) {
  billing::v1::ModelPrice p;
  p.set_input_per_mtok(1);       // 1e-6 micro-credit per token
  p.set_output_per_mtok(500000);  // 0.5 micro-credit per token
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(0, 0, 1)), 1);   // 0.5 -> 1
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(0, 0, 3)), 2);   // 1.5 -> 2
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(499999, 0, 0)), 0);  // 0.499999 -> 0
}

TEST(PricingTest, ReasoningUsesItsRateOrFallsBackToOutput) {
  auto p = Gpt4o();
  // 100 completion of which 60 reasoning, no reasoning rate: all at output rate.
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(0, 0, 100, 60)), 1000);
  p.set_reasoning_per_mtok(20000000);
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(0, 0, 100, 60)), 400 + 1200);
}

TEST(PricingTest, CacheWritesBillAtTheWriteRate) {
  // 1000 prompt: 200 read, 300 written, 500 plain.
  // 500 x 2.5 + 200 x 1.25 + 300 x 3.125 = 1250 + 250 + 937.5 = 2437.5 -> 2438 (rounded once, at the end)
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(1000, 200, 0, 0, 300)), 2438);
}

TEST(PricingTest, PerCallAndPerSearchFees) {
  billing::v1::ModelPrice p;
  p.set_per_call(40000);
  p.set_per_search(25000);
  llm::v1::Usage u;
  u.set_calls(2);
  u.set_web_search_calls(3);
  EXPECT_EQ(ComputeChargeMicros(p, 2000000, u), (80000 + 75000) * 2);
}

TEST(PricingTest, InconsistentCountsAreClampedNeverNegative) {
  auto t = SplitUsage(U(10, 50, 5, 9, 7));
  EXPECT_EQ(t.cache_read, 10);
  EXPECT_EQ(t.cache_write, 0);
  EXPECT_EQ(t.input, 0);
  EXPECT_EQ(t.reasoning, 5);
  EXPECT_EQ(t.output, 0);
  EXPECT_GE(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(-5, -1, -3)), 0);
}

TEST(PricingTest, HugeCountsDoNotOverflow) {
  billing::v1::ModelPrice p;
  p.set_output_per_mtok(int64_t{1} << 40);
  // 1e9 tokens at 2^40 micro/Mtok = 1e3 x 2^40 micro ~ 1.1e15: fits, computed exactly.
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, U(0, 0, 1000000000)), int64_t{1000} << 40);
}

TEST(PricingTest, AbsurdCountsSaturateAtInt64MaxNeverWrap) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t counts[] = {kMax, int64_t{1} << 62, int64_t{1} << 50, int64_t{1} << 40};
  const int64_t multipliers[] = {1, kMultiplierOne, 1500000, kMax};
  for (int64_t n : counts) {
    for (int64_t m : multipliers) {
      SCOPED_TRACE(testing::Message() << "count " << n << " multiplier " << m);
      // More tokens never cost less than the same shape at 10^9 tokens: no wrap to
      // negative, zero or tiny.
      const std::function<llm::v1::Usage(int64_t)> shapes[] = {
          [](int64_t k) { return U(k, 0, 0); }, [](int64_t k) { return U(0, 0, k); },
          [](int64_t k) { return U(k, k, k); }, [](int64_t k) { return U(k, 0, k, k, 0); }};
      for (const auto& shape : shapes) {
        const int64_t sane = ComputeChargeMicros(Gpt4o(), m, shape(kMaxUsageCount));
        const int64_t c = ComputeChargeMicros(Gpt4o(), m, shape(n));
        EXPECT_GT(sane, 0);
        EXPECT_GE(c, sane);
      }
    }
  }
  // 2^62 prompt tokens x 2.5 micro each = 1.15e19 > int64: saturated, and flagged as not exact.
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), kMultiplierOne, U(int64_t{1} << 62, 0, 0)), kMax);
  EXPECT_FALSE(ExactChargeMicros(Gpt4o(), kMultiplierOne, U(int64_t{1} << 62, 0, 0)).has_value());
  // Beyond even 128-bit intermediates: every factor at int64's maximum.
  billing::v1::ModelPrice huge;
  huge.set_output_per_mtok(kMax);
  huge.set_per_call(kMax);
  llm::v1::Usage u = U(0, 0, kMax);
  u.set_calls(kMax);
  EXPECT_EQ(ComputeChargeMicros(huge, kMax, u), kMax);
  EXPECT_FALSE(ExactChargeMicros(huge, kMax, u).has_value());
  // The largest sane request is computed exactly.
  EXPECT_EQ(ExactChargeMicros(Gpt4o(), kMultiplierOne, U(kMaxUsageCount, 0, kMaxUsageCount)),
            int64_t{2500} * 1000000 + int64_t{10000} * 1000000);
}

TEST(PricingTest, NegativeRatesAndMultipliersNeverMakeANegativeCharge) {
  billing::v1::ModelPrice p;
  p.set_input_per_mtok(-1000000);
  p.set_per_call(-5);
  llm::v1::Usage u = U(1000, 0, 0);
  u.set_calls(3);
  EXPECT_EQ(ComputeChargeMicros(p, kMultiplierOne, u), 0);
  EXPECT_EQ(ComputeChargeMicros(Gpt4o(), -kMultiplierOne, U(1000, 0, 0)), 0);
}

TEST(PricingTest, ValidateUsageRejectsNegativeHugeAndInconsistentCounts) {
  EXPECT_TRUE(ValidateUsage(U(972, 896, 40, 10, 76)).ok());
  EXPECT_TRUE(ValidateUsage(U(kMaxUsageCount, 0, kMaxUsageCount)).ok());
  EXPECT_TRUE(ValidateUsage(llm::v1::Usage()).ok());
  const llm::v1::Usage bad[] = {U(-1, 0, 0), U(0, 0, -1), U(10, -1, 0), U(kMaxUsageCount + 1, 0, 0),
                                U(0, 0, std::numeric_limits<int64_t>::max()),
                                U(10, 11, 0),        // cached > prompt
                                U(10, 6, 0, 0, 5),   // cached + written > prompt
                                U(0, 0, 5, 6)};      // reasoning > completion
  for (const auto& u : bad) {
    EXPECT_EQ(ValidateUsage(u).code(), absl::StatusCode::kInvalidArgument) << u.ShortDebugString();
  }
  llm::v1::Usage calls;
  calls.set_calls(-1);
  EXPECT_FALSE(ValidateUsage(calls).ok());
  calls.set_calls(0);
  calls.set_web_search_calls(kMaxUsageCount + 1);
  EXPECT_FALSE(ValidateUsage(calls).ok());
}

TEST(PricingTest, FormatCredits) {
  EXPECT_EQ(FormatCredits(1710), "0.001710");
  EXPECT_EQ(FormatCredits(12345678), "12.345678");
  EXPECT_EQ(FormatCredits(0), "0.000000");
  EXPECT_EQ(FormatCredits(-5), "-0.000005");
}

}  // namespace
}  // namespace routeall
