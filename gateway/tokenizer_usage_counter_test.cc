// TokenizerUsageCounter on the real rank files: exact counts for a known prompt and output.
#include "gateway/tokenizer_usage_counter.h"

#include <gtest/gtest.h>

#include "common/testing.h"

namespace routeall::gateway {
namespace {

TEST(TokenizerUsageCounterTest, CountsPromptLikeOpenAIAndTheProducedText) {
  ROUTEALL_REQUIRE_ENV(dir, "ROUTEALL_TOKENIZER_DIR");
  auto counter = TokenizerUsageCounter::Load(dir);
  ASSERT_TRUE(counter.ok()) << counter.status();
  llm::v1::ChatRequest req;
  req.set_model("gpt-4o");
  auto* m = req.add_messages();
  m->set_role(llm::v1::ROLE_USER);
  m->add_parts()->set_text("Hello world");
  auto u = (*counter)->Count(req, "Hello world, how are you?");
  // o200k: "Hello world" = 2 tokens; 3 per message + "user" (1) + 2 + 3 priming = 9.
  EXPECT_EQ(u.prompt_tokens(), 9);
  // "Hello", " world", ",", " how", " are", " you", "?" = 7.
  EXPECT_EQ(u.completion_tokens(), 7);
  EXPECT_EQ(u.source(), llm::v1::USAGE_SOURCE_COUNTED);
  EXPECT_EQ((*counter)->Count(req, "").completion_tokens(), 0);
}

TEST(TokenizerUsageCounterTest, MissingDataIsAClearError) {
  auto counter = TokenizerUsageCounter::Load("/nonexistent-dir");
  ASSERT_FALSE(counter.ok());
  EXPECT_EQ(counter.status().code(), absl::StatusCode::kNotFound);
}

// A PNG of the given size: signature + IHDR, base64-encoded (the counter reads only this).
std::string PngBase64(uint32_t w, uint32_t h) {
  std::string b("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {w, h}) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
  b += std::string("\x08\x06\0\0\0", 5);
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < b.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(b[i])) << 16;
    if (i + 1 < b.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8;
    if (i + 2 < b.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(b[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < b.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < b.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

TEST(TokenizerUsageCounterTest, ImagesAreCountedByTheVisionFormula) {
  llm::v1::Image img;
  img.set_mime_type("image/png");
  img.set_data_base64(PngBase64(1024, 1024));
  EXPECT_EQ(ImagePromptTokens(img), 765);  // 768x768: 4 tiles
  img.set_data_base64(PngBase64(2048, 4096));
  EXPECT_EQ(ImagePromptTokens(img), 1105);  // 1024x2048 -> 768x1536: 6 tiles
  img.set_data_base64(PngBase64(100, 100));
  EXPECT_EQ(ImagePromptTokens(img), 255);  // one tile
  img.set_detail("low");
  EXPECT_EQ(ImagePromptTokens(img), 85);
  llm::v1::Image url;
  url.set_url("https://example.com/cat.jpg");
  EXPECT_EQ(ImagePromptTokens(url), 765);
}

}  // namespace
}  // namespace routeall::gateway
