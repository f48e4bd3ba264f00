// UsageCounter on the real BPE tokenizer (o200k_base / cl100k_base, picked per model).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tokenizer/tokenizer.h"
#include "gateway/usage_counter.h"

namespace routeall::gateway {

class TokenizerUsageCounter : public UsageCounter {
 public:
  // Loads both encodings from dir (scripts/bootstrap puts them in .cache/tokenizer).
  static absl::StatusOr<std::unique_ptr<TokenizerUsageCounter>> Load(const std::string& dir);

  // UsageCounter
  llm::v1::Usage Count(const llm::v1::ChatRequest& req, const std::string& produced) const override;

 private:
  TokenizerUsageCounter(std::unique_ptr<tokenizer::Tokenizer> o200k, std::unique_ptr<tokenizer::Tokenizer> cl100k)
      : o200k_(std::move(o200k)), cl100k_(std::move(cl100k)) {}

  std::unique_ptr<tokenizer::Tokenizer> o200k_, cl100k_;
};

// Prompt tokens of one image part by OpenAI's vision formula (size read from PNG/GIF/JPEG
// headers of inline data; 1024x1024 when unknown; 85 at detail "low").
int64_t ImagePromptTokens(const llm::v1::Image& img);

}  // namespace routeall::gateway
