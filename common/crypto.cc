// Sha256Hex and RandomHex.
#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <random>
#include <vector>

namespace routeall {
namespace {
std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xf];
  }
  return out;
}
}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string RandomHex(size_t n_bytes) {
  std::vector<unsigned char> buf(n_bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(n_bytes)) != 1) {
    // Only ids use this path; a CSPRNG failure must not take the process down.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
  }
  return Hex(buf.data(), n_bytes);
}

}  // namespace routeall
