// Key generation on OpenSSL RAND_bytes and SHA-256 through EVP.
#include "services/auth/key_generator.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>

#include "absl/status/status.h"

namespace routeall::auth {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// 248 = 4 * 62: bytes at or above it are rejected so every character is equally likely.
constexpr unsigned kRejectFrom = 256 - 256 % 62;

}  // namespace

absl::StatusOr<std::string> GenerateApiKey() {
  return GenerateApiKey([](uint8_t* out, size_t len) { return RAND_bytes(out, static_cast<int>(len)) == 1; });
}

absl::StatusOr<std::string> GenerateApiKey(const RandomBytes& random) {
  std::string key(kKeyPrefix);
  std::array<uint8_t, 64> buf{};
  // A source that keeps returning rejected bytes is broken; give up instead of spinning.
  for (int round = 0; round < 64 && key.size() < kKeyPrefix.size() + kKeyRandomChars; ++round) {
    if (!random(buf.data(), buf.size())) return absl::InternalError("random source failed");
    for (uint8_t b : buf) {
      if (b >= kRejectFrom) continue;
      key.push_back(kBase62[b % 62]);
      if (key.size() == kKeyPrefix.size() + kKeyRandomChars) break;
    }
  }
  if (key.size() != kKeyPrefix.size() + kKeyRandomChars) {
    return absl::InternalError("random source returned too few usable bytes");
  }
  return key;
}

std::string HashApiKey(std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure, where aborting is the only sane answer.
  if (EVP_Digest(key.data(), key.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

std::string KeyPrefix(std::string_view key) { return std::string(key.substr(0, kShownPrefixChars)); }

bool IsKeyHash(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace routeall::auth
