// Hashing and randomness helpers on OpenSSL, shared by key handling and request ids.
#pragma once

#include <string>
#include <string_view>

namespace routeall {

// Lower-case hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

// n random bytes from OpenSSL's CSPRNG, hex-encoded (2n characters).
std::string RandomHex(size_t n_bytes);

}  // namespace routeall
