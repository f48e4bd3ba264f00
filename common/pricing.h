// The one pricing function: usage x price x group multiplier -> integer micro-credits. The
// gateway's X-RouteAll-Charge-Credit header and billing's ledger row both come from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"

#include "routeall/billing/v1/billing_service.pb.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall {

// 1 credit = 1,000,000 micro-credits. Token rates are micro-credits per million tokens;
// per-call and per-search fees are micro-credits each; multipliers are parts per million.
inline constexpr int64_t kMicrosPerCredit = 1000000;
inline constexpr int64_t kMultiplierOne = 1000000;

// Sanity bounds on one request. No real request comes near them; anything beyond is a bug or
// an attack, never something to bill. Each usage count (every token kind, calls, searches)
// is at most 10^9, and one charge at most 10^15 micro-credits (10^9 credits), so the sum of
// a whole batch of charges (500 x 10^15) stays far inside int64.
inline constexpr int64_t kMaxUsageCount = 1000000000;
inline constexpr int64_t kMaxChargeMicros = int64_t{1000000000} * 1000000;

// Tokens of each kind as billed (derived once from a canonical Usage).
struct BilledTokens {
  int64_t input = 0;        // prompt tokens served neither from nor into the cache
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  int64_t output = 0;       // completion tokens that are not reasoning
  int64_t reasoning = 0;
  int64_t calls = 0;
  int64_t searches = 0;
};

// Splits usage into disjoint billed kinds. prompt_tokens includes cache reads and writes
// and completion_tokens includes reasoning (the canonical convention); inconsistent counts
// (a part larger than its whole) are clamped so no kind is negative or counted twice.
BilledTokens SplitUsage(const llm::v1::Usage& usage);

// OK, or INVALID_ARGUMENT naming the first problem: a negative count, a count above
// kMaxUsageCount, or parts larger than their whole (cached + cache_write > prompt,
// reasoning > completion). Billing dead-letters usage events that fail it.
// The gateway passes a tighter max_count (what it will believe from an upstream); a larger one
// is clamped to kMaxUsageCount.
absl::Status ValidateUsage(const llm::v1::Usage& usage, int64_t max_count = kMaxUsageCount);

// Charge in micro-credits. Every kind is priced exactly (rate x tokens, in micro-credits per
// million), summed, multiplied by the group multiplier, and only then rounded once, half
// up, to whole micro-credits, so splitting a request's usage differently can never change
// its charge by more than the final rounding. Unset reasoning rate = output rate.
// Negative rates and multipliers count as 0, so a charge is never negative. The arithmetic is
// checked: nullopt when the exact charge does not fit in int64 (absurd counts or prices).
std::optional<int64_t> ExactChargeMicros(const billing::v1::ModelPrice& price, int64_t multiplier_ppm,
                                         const llm::v1::Usage& usage);

// ExactChargeMicros saturated: a charge too large for int64 is INT64_MAX, never a wrapped
// negative, zero or small number. So a hold sized from absurd bounds is refused for
// insufficient balance, and an event carrying such a charge fails billing's kMaxChargeMicros check.
int64_t ComputeChargeMicros(const billing::v1::ModelPrice& price, int64_t multiplier_ppm,
                            const llm::v1::Usage& usage);

// "1.234567" for 1234567 micro-credits (the X-RouteAll-Charge-Credit header format).
std::string FormatCredits(int64_t micros);

}  // namespace routeall
