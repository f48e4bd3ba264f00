// TokenizerUsageCounter: OpenAI's chat-prompt formula over the canonical request.
#include "gateway/tokenizer_usage_counter.h"

namespace routeall::gateway {
namespace {
namespace v1 = ::routeall::llm::v1;

const char* RoleName(v1::Role r) {
  switch (r) {
    case v1::ROLE_SYSTEM: return "system";
    case v1::ROLE_DEVELOPER: return "developer";
    case v1::ROLE_ASSISTANT: return "assistant";
    case v1::ROLE_TOOL: return "tool";
    default: return "user";
  }
}
}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerUsageCounter>> TokenizerUsageCounter::Load(const std::string& dir) {
  auto o200k = tokenizer::Tokenizer::LoadFromDir(dir, tokenizer::Encoding::kO200kBase);
  if (!o200k.ok()) return o200k.status();
  auto cl100k = tokenizer::Tokenizer::LoadFromDir(dir, tokenizer::Encoding::kCl100kBase);
  if (!cl100k.ok()) return cl100k.status();
  return std::unique_ptr<TokenizerUsageCounter>(new TokenizerUsageCounter(std::move(*o200k), std::move(*cl100k)));
}

v1::Usage TokenizerUsageCounter::Count(const v1::ChatRequest& req, const std::string& produced) const {
  const tokenizer::Tokenizer& tok =
      tokenizer::EncodingForModel(req.model()) == tokenizer::Encoding::kCl100kBase ? *cl100k_ : *o200k_;
  // Message text as the upstream sees it: parts, tool calls (name + arguments) and, once,
  // the tool definitions (OpenAI injects them into the prompt; this is the usual estimate).
  std::vector<std::pair<std::string, std::string>> messages;
  for (const auto& m : req.messages()) {
    std::string text;
    for (const auto& p : m.parts()) {
      if (p.part_case() == v1::ContentPart::kText) text += p.text();
      if (p.has_thinking()) text += p.thinking().text();
    }
    for (const auto& c : m.tool_calls()) text += c.name() + c.arguments_json();
    messages.emplace_back(RoleName(m.role()), std::move(text));
  }
  int64_t prompt = static_cast<int64_t>(tokenizer::CountChatPrompt(tok, messages));
  for (const auto& t : req.tools()) {
    prompt += static_cast<int64_t>(tok.Count(t.name()) + tok.Count(t.description()) + tok.Count(t.parameters_json()));
  }
  v1::Usage u;
  u.set_prompt_tokens(prompt);
  u.set_completion_tokens(static_cast<int64_t>(tok.Count(produced)));
  u.set_source(v1::USAGE_SOURCE_COUNTED);
  return u;
}

}  // namespace routeall::gateway
