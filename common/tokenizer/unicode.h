// Internal: UTF-8 decoding and the Unicode classes of tiktoken's pre-tokenization patterns.
#pragma once

#include <cstddef>
#include <cstdint>

namespace routeall::tokenizer::internal {

// The general categories the patterns name; \s (White_Space) is kSpace. Anything else is kOther.
enum class UClass : uint8_t { kOther, kLu, kLl, kLt, kLm, kLo, kM, kN, kSpace };

struct UnicodeRange {
  uint32_t first;
  uint32_t last;
  UClass cls;
};
extern const UnicodeRange kUnicodeRanges[];  // sorted, disjoint (unicode_table.cc, generated)
extern const size_t kUnicodeRangeCount;

// Per-character flags the scanners test. An invalid UTF-8 byte has none (like punctuation).
enum : uint8_t {
  kFlagL = 1 << 0,      // \p{L}
  kFlagN = 1 << 1,      // \p{N}
  kFlagSpace = 1 << 2,  // \s
  kFlagUpper = 1 << 3,  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]  (o200k's "upper" run)
  kFlagLower = 1 << 4,  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]        (o200k's "lower" run)
  kFlagNewline = 1 << 5,  // \r or \n
};

// Flags of a code point (<= 0x10FFFF). O(1): a two-level table built once, thread-safely.
uint8_t CodePointFlags(uint32_t cp);

struct Char {
  uint8_t flags;
  uint8_t len;  // bytes, 1..4; an invalid byte is a 1-byte "character" with flags 0
};

extern const uint8_t kAsciiFlags[128];

// Decodes the character at p[0] (n >= 1 bytes available). Well-formed UTF-8 only (Unicode
// Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF); otherwise one invalid byte.
inline Char DecodeChar(const unsigned char* p, size_t n) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return {kAsciiFlags[b0], 1};
  uint32_t cp;
  uint8_t len;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (n < 2 || (p[1] & 0xC0) != 0x80) return {0, 1};
    cp = ((b0 & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (n < 3 || (p[2] & 0xC0) != 0x80) return {0, 1};
    const unsigned char b1 = p[1];
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (b1 < lo || b1 > hi) return {0, 1};
    cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    len = 3;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (n < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return {0, 1};
    const unsigned char b1 = p[1];
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (b1 < lo || b1 > hi) return {0, 1};
    cp = ((b0 & 0x07u) << 18) | ((b1 & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    len = 4;
  } else {
    return {0, 1};
  }
  return {CodePointFlags(cp), len};
}

}  // namespace routeall::tokenizer::internal
