// Key format, uniqueness, rejection sampling and hash stability.
#include "services/auth/key_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace routeall::auth {
namespace {

TEST(KeyGeneratorTest, KeyIsPrefixPlus48Base62Characters) {
  auto key = GenerateApiKey();
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_THAT(*key, ::testing::MatchesRegex("sk-ra-[0-9A-Za-z]{48}"));
  EXPECT_EQ(KeyPrefix(*key), key->substr(0, 12));
  EXPECT_EQ(KeyPrefix(*key).rfind("sk-ra-", 0), 0u);
}

TEST(KeyGeneratorTest, KeysAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto key = GenerateApiKey();
    ASSERT_TRUE(key.ok());
    EXPECT_TRUE(seen.insert(*key).second) << "duplicate " << *key;
  }
}

TEST(KeyGeneratorTest, BytesAtOrAbove248AreRejectedNotFolded) {
  // 247 -> 247 % 62 = 61 ('z'); 248..255 would alias onto '0'..'7' under plain modulo.
  int calls = 0;
  auto key = GenerateApiKey([&](uint8_t* out, size_t len) {
    ++calls;
    for (size_t i = 0; i < len; ++i) out[i] = (i % 2 == 0) ? 255 : 247;
    return true;
  });
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "sk-ra-" + std::string(48, 'z'));
  EXPECT_EQ(calls, 2);  // 64 bytes yield 32 usable, so a second draw is needed
}

TEST(KeyGeneratorTest, SourceThatOnlyYieldsRejectedBytesFailsInsteadOfSpinning) {
  auto key = GenerateApiKey([](uint8_t* out, size_t len) {
    for (size_t i = 0; i < len; ++i) out[i] = 250;
    return true;
  });
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInternal);
}

TEST(KeyGeneratorTest, FailingSourceIsAnError) {
  auto key = GenerateApiKey([](uint8_t*, size_t) { return false; });
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInternal);
}

TEST(KeyGeneratorTest, HashIsStableLowercaseHexSha256) {
  // echo -n abc | sha256sum
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashApiKey("sk-ra-x"), HashApiKey("sk-ra-x"));
  EXPECT_NE(HashApiKey("sk-ra-x"), HashApiKey("sk-ra-y"));
  EXPECT_TRUE(IsKeyHash(HashApiKey("anything")));
}

TEST(KeyGeneratorTest, IsKeyHashRejectsOtherShapes) {
  EXPECT_FALSE(IsKeyHash(""));
  EXPECT_FALSE(IsKeyHash(std::string(63, 'a')));
  EXPECT_FALSE(IsKeyHash(std::string(64, 'A')));
  EXPECT_FALSE(IsKeyHash(std::string(64, 'g')));
  EXPECT_TRUE(IsKeyHash(std::string(64, 'f')));
}

}  // namespace
}  // namespace routeall::auth
