// ComputeChargeMicros and friends.
#include "common/pricing.h"

#include <algorithm>
#include <cstdlib>

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

int64_t ComputeChargeMicros(const billing::v1::ModelPrice& p, int64_t multiplier_ppm, const llm::v1::Usage& usage) {
  using i128 = __int128;
  BilledTokens t = SplitUsage(usage);
  int64_t reasoning_rate = p.has_reasoning_per_mtok() ? p.reasoning_per_mtok() : p.output_per_mtok();
  // Sum in micro-credits x 1e6 (rates are per million tokens): exact, no rounding yet.
  i128 sum = i128(t.input) * p.input_per_mtok() + i128(t.cache_read) * p.cache_read_per_mtok() +
             i128(t.cache_write) * p.cache_write_per_mtok() + i128(t.output) * p.output_per_mtok() +
             i128(t.reasoning) * reasoning_rate +
             (i128(t.calls) * p.per_call() + i128(t.searches) * p.per_search()) * 1000000;
  i128 scaled = sum * std::max<int64_t>(0, multiplier_ppm);
  const i128 denom = i128(1000000) * 1000000;
  i128 charge = (scaled + denom / 2) / denom;  // half up; every term is >= 0
  return static_cast<int64_t>(charge);
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
