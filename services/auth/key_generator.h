// API key generation and hashing: the only place that knows the key format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace routeall::auth {

inline constexpr std::string_view kKeyPrefix = "sk-ra-";
// 48 base62 characters carry ~285 bits of entropy.
inline constexpr size_t kKeyRandomChars = 48;
// How much of a key is shown in lists: "sk-ra-" plus 6 random characters.
inline constexpr size_t kShownPrefixChars = 12;

// Fills `out` with `len` random bytes; false when the source failed.
using RandomBytes = std::function<bool(uint8_t* out, size_t len)>;

// A new key "sk-ra-" + 48 base62 characters from OpenSSL's CSPRNG (RAND_bytes).
absl::StatusOr<std::string> GenerateApiKey();

// Same, from the given byte source (tests feed it fixed bytes to check rejection sampling).
absl::StatusOr<std::string> GenerateApiKey(const RandomBytes& random);

// Lowercase hex SHA-256 of the key, as stored and as sent by the gateway to Authorize.
// Plain SHA-256 (not bcrypt/argon2) is right here: the keys are 285-bit random strings, so
// there is nothing to brute-force and a slow hash would only cost latency on every request.
std::string HashApiKey(std::string_view key);

// The part of a key that is safe to show (first 12 characters).
std::string KeyPrefix(std::string_view key);

// Whether s is 64 lowercase hex characters, the shape of HashApiKey's output.
bool IsKeyHash(std::string_view s);

}  // namespace routeall::auth
