// Text helpers shared by every dialect: word splitting, token counting and safe JSON dumping.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_TEXT_UTIL_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_TEXT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace routeall::fake_upstream {

// Ordered so rendered objects keep the field order the real APIs use.
using Json = nlohmann::ordered_json;

// Splits text into pieces that concatenate back to the input; each piece is
// one word with the whitespace that precedes it ("a b" -> {"a", " b"}).
std::vector<std::string> SplitWords(std::string_view text);

// Number of whitespace-separated words; this is the fake's token count.
int64_t CountWords(std::string_view text);

// Keeps at most max_chars UTF-8 code points, never splitting a sequence.
std::string TruncateUtf8(std::string_view text, size_t max_chars);

// Cuts text into pieces of about piece_bytes, on code point boundaries.
std::vector<std::string> ChunkUtf8(std::string_view text, size_t piece_bytes);

// Compact dump that never throws on invalid UTF-8 (replaces it instead).
std::string DumpJson(const Json& value);
std::string DumpJsonPretty(const Json& value);

std::string ToLower(std::string_view text);
std::string Trim(std::string_view text);

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_TEXT_UTIL_H_
