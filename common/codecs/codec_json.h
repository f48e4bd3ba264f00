// Small JSON helpers shared by the Anthropic and Gemini codecs, so both read numbers and
// dump text the same defensive way (untrusted input never throws or overflows).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/codecs/json_limits.h"

namespace routeall::codecs::internal {

inline std::string JsonTypeName(const nlohmann::json& j) {
  using nlohmann::json;
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

// An integral JSON number (a float with no fraction counts) within [lo, hi]. Checked in
// double first: get<int64_t>() on an out-of-range float is undefined behaviour.
inline bool AsInt(const nlohmann::json& j, int64_t lo, int64_t hi, int64_t* out) {
  if (!j.is_number()) return false;
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
  }
  double d = j.get<double>();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) return false;
  if (d >= 9.2e18 || d <= -9.2e18) return false;  // hi near INT64_MAX rounds up to 2^63
  *out = static_cast<int64_t>(d);
  return true;
}

// Token counts an upstream may plausibly report; anything beyond is nonsense.
inline constexpr int64_t kMaxReportedCount = int64_t{1} << 40;
// What a present but invalid count (negative, fractional, beyond kMaxReportedCount) decodes
// to: negative even when summed with other valid counts, so the gateway sees the report is
// untrustworthy and counts the usage itself instead of billing zero for it.
inline constexpr int64_t kInvalidCount = -(int64_t{1} << 50);

// A token count: 0 when absent, kInvalidCount when present but nonsense.
inline int64_t CountOr0(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 0;
  int64_t v = 0;
  if (!AsInt(*it, 0, kMaxReportedCount, &v)) return kInvalidCount;
  return v;
}

// j[key] when j is an object and the field is a string; def otherwise (never throws, unlike
// json::value, which throws on a field of the wrong type).
inline std::string StrOr(const nlohmann::json& j, const char* key, const std::string& def = "") {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}

// j[key] when it is an integer in [0, 2^20] (indexes); def otherwise.
inline int IndexOr(const nlohmann::json& j, const char* key, int def = 0) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  int64_t v = 0;
  return it != j.end() && AsInt(*it, 0, 1 << 20, &v) ? static_cast<int>(v) : def;
}

// Canonical strings may come from anywhere; replace invalid UTF-8 instead of throwing.
inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The JSON object the text holds, or fallback when it is not one.
inline nlohmann::json ParseObjectOr(const std::string& text, nlohmann::json fallback) {
  nlohmann::json j = ParseBounded(text);
  return j.is_object() ? j : fallback;
}

}  // namespace routeall::codecs::internal
