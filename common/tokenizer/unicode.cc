#include "common/tokenizer/unicode.h"

#include <array>
#include <cstring>
#include <map>
#include <vector>

namespace routeall::tokenizer::internal {
namespace {

constexpr uint8_t FlagsOf(UClass c) {
  switch (c) {
    case UClass::kLu:
    case UClass::kLt:
      return kFlagL | kFlagUpper;
    case UClass::kLl:
      return kFlagL | kFlagLower;
    case UClass::kLm:
    case UClass::kLo:
      return kFlagL | kFlagUpper | kFlagLower;
    case UClass::kM:  // \p{M} is not \p{L}, but both o200k letter runs take it
      return kFlagUpper | kFlagLower;
    case UClass::kN:
      return kFlagN;
    case UClass::kSpace:
      return kFlagSpace;
    case UClass::kOther:
      return 0;
  }
  return 0;
}

constexpr std::array<uint8_t, 128> MakeAscii() {
  std::array<uint8_t, 128> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = FlagsOf(UClass::kLu);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = FlagsOf(UClass::kLl);
  for (int c = '0'; c <= '9'; ++c) t[c] = FlagsOf(UClass::kN);
  for (int c = 0x09; c <= 0x0D; ++c) t[c] = kFlagSpace;
  t[' '] = kFlagSpace;
  t['\r'] |= kFlagNewline;
  t['\n'] |= kFlagNewline;
  return t;
}
constexpr std::array<uint8_t, 128> kAscii = MakeAscii();

constexpr uint32_t kBlockBits = 7;
constexpr uint32_t kBlockSize = 1u << kBlockBits;
constexpr uint32_t kBlocks = 0x110000 >> kBlockBits;

// Two-level table: 0x110000 code points in 128-entry blocks, identical blocks shared (~50 KB).
struct Tables {
  std::vector<uint16_t> stage1;  // block number -> index of its 128 flags in stage2
  std::vector<uint8_t> stage2;

  Tables() : stage1(kBlocks) {
    std::vector<uint8_t> flat(0x110000, 0);
    for (size_t i = 0; i < kUnicodeRangeCount; ++i) {
      const UnicodeRange& r = kUnicodeRanges[i];
      for (uint32_t cp = r.first; cp <= r.last; ++cp) flat[cp] = FlagsOf(r.cls);
    }
    flat['\r'] |= kFlagNewline;
    flat['\n'] |= kFlagNewline;
    std::map<std::vector<uint8_t>, uint16_t> seen;
    for (uint32_t b = 0; b < kBlocks; ++b) {
      std::vector<uint8_t> block(flat.begin() + b * kBlockSize, flat.begin() + (b + 1) * kBlockSize);
      auto [it, inserted] = seen.emplace(block, static_cast<uint16_t>(stage2.size() / kBlockSize));
      if (inserted) stage2.insert(stage2.end(), block.begin(), block.end());
      stage1[b] = it->second;
    }
  }
};

const Tables& GetTables() {
  static const Tables* tables = new Tables();  // never destroyed: usable during exit
  return *tables;
}

}  // namespace

const uint8_t kAsciiFlags[128] = {
#define ROUTEALL_A(i) kAscii[i], kAscii[i + 1], kAscii[i + 2], kAscii[i + 3]
    ROUTEALL_A(0),  ROUTEALL_A(4),  ROUTEALL_A(8),   ROUTEALL_A(12),  ROUTEALL_A(16),
    ROUTEALL_A(20), ROUTEALL_A(24), ROUTEALL_A(28),  ROUTEALL_A(32),  ROUTEALL_A(36),
    ROUTEALL_A(40), ROUTEALL_A(44), ROUTEALL_A(48),  ROUTEALL_A(52),  ROUTEALL_A(56),
    ROUTEALL_A(60), ROUTEALL_A(64), ROUTEALL_A(68),  ROUTEALL_A(72),  ROUTEALL_A(76),
    ROUTEALL_A(80), ROUTEALL_A(84), ROUTEALL_A(88),  ROUTEALL_A(92),  ROUTEALL_A(96),
    ROUTEALL_A(100), ROUTEALL_A(104), ROUTEALL_A(108), ROUTEALL_A(112), ROUTEALL_A(116),
    ROUTEALL_A(120), ROUTEALL_A(124),
#undef ROUTEALL_A
};

uint8_t CodePointFlags(uint32_t cp) {
  if (cp < 128) return kAsciiFlags[cp];
  if (cp >= 0x110000) return 0;
  const Tables& t = GetTables();
  return t.stage2[static_cast<size_t>(t.stage1[cp >> kBlockBits]) * kBlockSize +
                  (cp & (kBlockSize - 1))];
}

}  // namespace routeall::tokenizer::internal
