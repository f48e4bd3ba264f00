// TokenizerUsageCounter: OpenAI's chat-prompt formula over the canonical request.
#include "gateway/tokenizer_usage_counter.h"

#include <algorithm>
#include <cmath>

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
// The first bytes of a base64 payload (enough for an image header).
std::string DecodeBase64Prefix(std::string_view b64, size_t max_out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v = val(c);
    if (v < 0) {
      if (c == '=') break;
      continue;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
      if (out.size() >= max_out) break;
    }
  }
  return out;
}

// Width and height from a PNG, GIF or JPEG header; false when unknown.
bool ImageSize(const std::string& b, int64_t* w, int64_t* h) {
  auto u8 = [&](size_t i) { return static_cast<int64_t>(static_cast<unsigned char>(b[i])); };
  if (b.size() >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    *w = (u8(16) << 24) | (u8(17) << 16) | (u8(18) << 8) | u8(19);
    *h = (u8(20) << 24) | (u8(21) << 16) | (u8(22) << 8) | u8(23);
    return *w > 0 && *h > 0;
  }
  if (b.size() >= 10 && (b.compare(0, 6, "GIF87a") == 0 || b.compare(0, 6, "GIF89a") == 0)) {
    *w = u8(6) | (u8(7) << 8);
    *h = u8(8) | (u8(9) << 8);
    return *w > 0 && *h > 0;
  }
  if (b.size() >= 4 && u8(0) == 0xFF && u8(1) == 0xD8) {
    size_t i = 2;
    while (i + 9 < b.size()) {
      if (u8(i) != 0xFF) return false;
      int64_t marker = u8(i + 1);
      int64_t len = (u8(i + 2) << 8) | u8(i + 3);
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
        *h = (u8(i + 5) << 8) | u8(i + 6);
        *w = (u8(i + 7) << 8) | u8(i + 8);
        return *w > 0 && *h > 0;
      }
      i += 2 + static_cast<size_t>(len);
    }
  }
  return false;
}

}  // namespace

int64_t ImagePromptTokens(const v1::Image& img) {
  // OpenAI's vision formula: 85 base tokens, plus 170 per 512-px tile after fitting the image
  // in 2048x2048 and scaling its short side to 768. An image whose size cannot be read (a URL,
  // an unknown format) is counted as 1024x1024 (765 tokens), the usual size.
  if (img.detail() == "low") return 85;
  int64_t w = 1024, h = 1024;
  if (!img.data_base64().empty()) {
    int64_t iw = 0, ih = 0;
    if (ImageSize(DecodeBase64Prefix(img.data_base64(), 64 * 1024), &iw, &ih)) {
      w = std::min<int64_t>(iw, 1 << 16);
      h = std::min<int64_t>(ih, 1 << 16);
    }
  }
  double dw = static_cast<double>(w), dh = static_cast<double>(h);
  if (dw > 2048 || dh > 2048) {
    double f = 2048.0 / std::max(dw, dh);
    dw *= f;
    dh *= f;
  }
  if (std::min(dw, dh) > 768) {
    double f = 768.0 / std::min(dw, dh);
    dw *= f;
    dh *= f;
  }
  auto tiles = static_cast<int64_t>(std::ceil(dw / 512.0) * std::ceil(dh / 512.0));
  return 85 + 170 * tiles;
}

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
  int64_t images = 0;
  for (const auto& m : req.messages()) {
    std::string text;
    for (const auto& p : m.parts()) {
      if (p.part_case() == v1::ContentPart::kText) text += p.text();
      if (p.has_thinking()) text += p.thinking().text();
      if (p.has_image()) images += ImagePromptTokens(p.image());
    }
    for (const auto& c : m.tool_calls()) text += c.name() + c.arguments_json();
    messages.emplace_back(RoleName(m.role()), std::move(text));
  }
  int64_t prompt = static_cast<int64_t>(tokenizer::CountChatPrompt(tok, messages)) + images;
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
