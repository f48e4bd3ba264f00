// ComputeChargeMicros and friends.
#include "common/pricing.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace routeall {

BilledTokens SplitUsage(const llm::v1::Usage& u) {
  BilledTokens t;
  int64_t prompt = std::max<int64_t>(0, u.prompt_tokens());
  t.cache_read = std::clamp<int64_t>(u.cached_tokens(), 0, prompt);
  t.cache_write = std::clamp<int64_t>(u.cache_write_tokens(), 0, prompt - t.cache_read);
  t.input = prompt - t.cache_read - t.cache_write;
  int64_t completion = std::max<int64_t>(0, u.completion_tokens());
  t.reasoning = std::clamp<int64_t>(u.reasoning_tokens(), 0, completion);
  t.output = completion - t.reasoning;
  t.calls = std::max<int64_t>(0, u.calls());
  t.searches = std::max<int64_t>(0, u.web_search_calls());
  return t;
}

absl::Status ValidateUsage(const llm::v1::Usage& u, int64_t max_count) {
  max_count = std::min(max_count, kMaxUsageCount);
  const std::pair<const char*, int64_t> counts[] = {
      {"prompt_tokens", u.prompt_tokens()},         {"cached_tokens", u.cached_tokens()},
      {"cache_write_tokens", u.cache_write_tokens()}, {"completion_tokens", u.completion_tokens()},
      {"reasoning_tokens", u.reasoning_tokens()},   {"calls", u.calls()},
      {"web_search_calls", u.web_search_calls()}};
  for (const auto& [name, v] : counts) {
    if (v < 0) return absl::InvalidArgumentError(absl::StrCat("usage ", name, " is negative: ", v));
    if (v > max_count) {
      return absl::InvalidArgumentError(absl::StrCat("usage ", name, " exceeds ", max_count, ": ", v));
    }
  }
  // Each is <= kMaxUsageCount (1e9) here, so the sum cannot overflow.
  if (u.cached_tokens() + u.cache_write_tokens() > u.prompt_tokens()) {
    return absl::InvalidArgumentError("usage cached_tokens + cache_write_tokens exceed prompt_tokens");
  }
  if (u.reasoning_tokens() > u.completion_tokens()) {
    return absl::InvalidArgumentError("usage reasoning_tokens exceed completion_tokens");
  }
  return absl::OkStatus();
}

namespace {

using i128 = __int128;

// acc += a x b; false on overflow (acc is then unspecified).
bool MulAdd(i128& acc, int64_t a, int64_t b) {
  i128 product;
  if (__builtin_mul_overflow(i128(a), i128(b), &product)) return false;
  return !__builtin_add_overflow(acc, product, &acc);
}

}  // namespace

std::optional<int64_t> ExactChargeMicros(const billing::v1::ModelPrice& p, int64_t multiplier_ppm,
                                         const llm::v1::Usage& usage) {
  BilledTokens t = SplitUsage(usage);  // every count >= 0
  auto rate = [](int64_t r) { return std::max<int64_t>(0, r); };
  const int64_t reasoning_rate = rate(p.has_reasoning_per_mtok() ? p.reasoning_per_mtok() : p.output_per_mtok());
  // Fees in micro-credits, then everything in micro-credits x 1e6 (rates are per million
  // tokens): exact, no rounding yet. Every term is >= 0; each step is overflow-checked.
  i128 fees = 0;
  if (!MulAdd(fees, t.calls, rate(p.per_call())) || !MulAdd(fees, t.searches, rate(p.per_search()))) {
    return std::nullopt;
  }
  i128 sum;
  if (__builtin_mul_overflow(fees, i128(1000000), &sum)) return std::nullopt;
  if (!MulAdd(sum, t.input, rate(p.input_per_mtok())) || !MulAdd(sum, t.cache_read, rate(p.cache_read_per_mtok())) ||
      !MulAdd(sum, t.cache_write, rate(p.cache_write_per_mtok())) || !MulAdd(sum, t.output, rate(p.output_per_mtok())) ||
      !MulAdd(sum, t.reasoning, reasoning_rate)) {
    return std::nullopt;
  }
  i128 scaled;
  if (__builtin_mul_overflow(sum, i128(std::max<int64_t>(0, multiplier_ppm)), &scaled)) return std::nullopt;
  const i128 denom = i128(1000000) * 1000000;
  if (__builtin_add_overflow(scaled, denom / 2, &scaled)) return std::nullopt;
  const i128 charge = scaled / denom;  // half up
  if (charge > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(charge);
}

int64_t ComputeChargeMicros(const billing::v1::ModelPrice& p, int64_t multiplier_ppm, const llm::v1::Usage& usage) {
  return ExactChargeMicros(p, multiplier_ppm, usage).value_or(std::numeric_limits<int64_t>::max());
}

std::string FormatCredits(int64_t micros) {
  std::string sign = micros < 0 ? "-" : "";
  // Negate in unsigned arithmetic so INT64_MIN is safe too.
  uint64_t m = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  std::string frac = std::to_string(m % kMicrosPerCredit);
  frac.insert(0, 6 - frac.size(), '0');
  return sign + std::to_string(m / kMicrosPerCredit) + "." + frac;
}

}  // namespace routeall
