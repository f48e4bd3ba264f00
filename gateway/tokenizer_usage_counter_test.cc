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

}  // namespace
}  // namespace routeall::gateway
