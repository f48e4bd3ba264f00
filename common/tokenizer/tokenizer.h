// Exact OpenAI token counts (tiktoken's o200k_base and cl100k_base), for billing what a stream
// produced when the provider's usage report never arrives (client gone, upstream cancelled) or
// an upstream omits usage.
//
// Equal to tiktoken's encode_ordinary() (special tokens such as "<|endoftext|>" are plain text)
// for every valid UTF-8 input. Invalid UTF-8 is never rejected or replaced: each byte that is not
// part of a well-formed sequence is a character of its own that is neither letter, number nor
// space (as Python's "surrogateescape" decoding would make it) and is encoded as raw bytes, so
// Decode(Encode(x)) == x for any bytes. See common/tokenizer/README.md.
//
// The rank files are data, loaded at run time (scripts/lib/tokenizer_data.sh fetches them).
// A loaded Tokenizer is immutable; all const methods may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace routeall::tokenizer {

enum class Encoding {
  kO200kBase,   // GPT-4o, GPT-4.1, GPT-5, o-series; the default
  kCl100kBase,  // GPT-4, GPT-3.5, text-embedding-3
};

// "o200k_base" / "cl100k_base": also the rank file's base name (<dir>/<name>.tiktoken).
std::string_view EncodingName(Encoding enc);

class Tokenizer {
 public:
  // Loads a .tiktoken rank file ("base64(token bytes) rank" per line). NOT_FOUND when the file
  // does not exist; INVALID_ARGUMENT when it cannot be read or parsed, or is not the rank file
  // of `enc` (wrong number of ranks, a missing single-byte token, duplicate tokens or ranks).
  // `enc` picks the pre-tokenization pattern and the special tokens known to Decode.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& path, Encoding enc);
  // Load(<dir>/<EncodingName(enc)>.tiktoken, enc).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadFromDir(const std::string& dir,
                                                                Encoding enc);

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  ~Tokenizer();

  Encoding encoding() const { return enc_; }

  // Number of tokens of `text`; always Encode(text).size(), without building the vector.
  size_t Count(std::string_view text) const;
  std::vector<uint32_t> Encode(std::string_view text) const;
  // Concatenated bytes of the tokens (special tokens as their text); unknown ids are skipped.
  std::string Decode(const std::vector<uint32_t>& tokens) const;

  // The pre-tokenization pieces (regex matches) of `text`, for tests and diagnostics.
  std::vector<std::string_view> Split(std::string_view text) const;

 private:
  Tokenizer() = default;
  template <typename Sink>
  void EncodePiece(std::string_view piece, Sink& sink) const;
  template <typename Sink>
  void MergePiece(std::string_view piece, Sink& sink) const;  // BPE, with the thread cache
  size_t CountPiece(std::string_view piece) const;
  uint32_t Rank(std::string_view bytes) const;  // kNoRank when not a token

  Encoding enc_ = Encoding::kO200kBase;
  uint64_t id_ = 0;     // process-unique, keys the per-thread piece cache
  std::string arena_;   // every token's bytes, back to back
  absl::flat_hash_map<std::string_view, uint32_t> ranks_;  // views into arena_
  std::vector<std::string_view> decoder_;                   // rank -> bytes (views into arena_)
  std::vector<std::pair<uint32_t, std::string>> specials_;  // for Decode only
  uint32_t byte_rank_[256] = {};
};

// The encoding of a model name. o200k_base for gpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1*, o3*,
// o4*, chatgpt-*, gpt-oss*; cl100k_base for gpt-4 / gpt-4-* (gpt-4-turbo, gpt-4-0613, ...),
// gpt-3.5*, gpt-35-* (Azure), text-embedding-3*, text-embedding-ada-002. Case-insensitive; a
// provider prefix ("openai/gpt-4o", "azure/gpt-35-turbo") and a fine-tune prefix ("ft:gpt-4o-
// mini:org::id") are ignored. Everything else (Claude, Gemini, DeepSeek, Llama, ...) has no public
// tokenizer the gateway can run and gets o200k_base as a documented approximation.
Encoding EncodingForModel(std::string_view model);

// One chat message as OpenAI counts it; `name` is optional (empty = absent).
struct ChatMessage {
  std::string_view role;
  std::string_view content;
  std::string_view name;
};

// Prompt tokens of a chat completion request the way OpenAI counts them (OpenAI cookbook,
// "How to count tokens with tiktoken", models since gpt-3.5-turbo-0613): 3 per message + the
// tokens of its role and content (+ its name's tokens + 1 when it has a name), + 3 for the
// assistant reply priming. Content is the message's canonical text.
size_t CountChatPrompt(const Tokenizer& tok, const std::vector<ChatMessage>& messages);
// Same, for (role, content) pairs without names.
size_t CountChatPrompt(const Tokenizer& tok,
                       const std::vector<std::pair<std::string, std::string>>& role_and_text);

}  // namespace routeall::tokenizer
