#include "common/tokenizer/tokenizer.h"

#include <memory>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/tokenizer/pretokenizer.h"
#include "common/tokenizer/unicode.h"

namespace routeall::tokenizer {
namespace {

constexpr uint32_t kNoRank = std::numeric_limits<uint32_t>::max();
// Pieces up to this many bytes use tiktoken's own O(n*m) merge loop on a stack array (fastest
// for the short pieces of normal text); longer ones (very long words, digit-free symbol runs)
// use an equivalent O(n log n) heap so a hostile 1 MB "word" cannot take quadratic time.
constexpr size_t kSmallPiece = 128;

struct EncodingInfo {
  size_t rank_count;  // ranks 0..rank_count-1, all present
  std::vector<std::pair<uint32_t, std::string>> specials;
};

const EncodingInfo& Info(Encoding enc) {
  static const EncodingInfo o200k{199998, {{199999, "<|endoftext|>"}, {200018, "<|endofprompt|>"}}};
  static const EncodingInfo cl100k{100256,
                                   {{100257, "<|endoftext|>"},
                                    {100258, "<|fim_prefix|>"},
                                    {100259, "<|fim_middle|>"},
                                    {100260, "<|fim_suffix|>"},
                                    {100276, "<|endofprompt|>"}}};
  return enc == Encoding::kCl100kBase ? cl100k : o200k;
}

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64 with padding; appends to *out.
bool Base64Decode(std::string_view in, std::string* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const unsigned char ch = static_cast<unsigned char>(in[i + k]);
      if (ch == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after '='
      v[k] = Base64Value(ch);
      if (v[k] < 0) return false;
    }
    const uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out->push_back(static_cast<char>(w >> 16));
    if (pad < 2) out->push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    const std::string msg = absl::StrCat("tokenizer rank file ", path, ": ", std::strerror(err),
                                         " (fetch it with scripts/bootstrap)");
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
  }
  std::string data;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::InvalidArgumentError(absl::StrCat("tokenizer rank file ", path, ": read error"));
  return data;
}

uint64_t NextTokenizerId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

template <typename F>
void ForEachPiece(Encoding enc, std::string_view text, F&& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  if (enc == Encoding::kCl100kBase) {
    while (i < n) {
      const size_t e = internal::NextPieceCl100k(p, n, i);
      f(text.substr(i, e - i));
      i = e;
    }
  } else {
    while (i < n) {
      const size_t e = internal::NextPieceO200k(p, n, i);
      f(text.substr(i, e - i));
      i = e;
    }
  }
}

}  // namespace

std::string_view EncodingName(Encoding enc) {
  return enc == Encoding::kCl100kBase ? "cl100k_base" : "o200k_base";
}

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromDir(const std::string& dir,
                                                                  Encoding enc) {
  return Load(absl::StrCat(dir, "/", std::string(EncodingName(enc)), ".tiktoken"), enc);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path, Encoding enc) {
  absl::StatusOr<std::string> data = ReadFile(path);
  if (!data.ok()) return data.status();
  const EncodingInfo& info = Info(enc);
  const std::string name(EncodingName(enc));
  auto bad = [&](size_t line, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer rank file ", path, " (", name,
                                                   ") line ", line, ": ", why));
  };

  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->enc_ = enc;
  tok->id_ = NextTokenizerId();
  tok->arena_.reserve(data->size());
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // (offset, length) in arena_, by rank
  spans.assign(info.rank_count, {0, 0});
  std::vector<bool> seen(info.rank_count, false);
  size_t count = 0;
  size_t line_no = 0;
  std::string_view rest(*data);
  while (!rest.empty()) {
    ++line_no;
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
      return bad(line_no, "want \"<base64 token> <rank>\"");
    }
    const std::string_view b64 = line.substr(0, sp);
    const std::string_view rank_text = line.substr(sp + 1);
    uint64_t rank = 0;
    if (rank_text.empty() || rank_text.size() > 10) return bad(line_no, "bad rank");
    for (char ch : rank_text) {
      if (ch < '0' || ch > '9') return bad(line_no, "bad rank");
      rank = rank * 10 + static_cast<uint64_t>(ch - '0');
    }
    if (rank >= info.rank_count) {
      return bad(line_no, absl::StrCat("rank ", rank, " out of range: ", name, " has ranks 0..",
                                       info.rank_count - 1, " (is this the file of another encoding?)"));
    }
    if (seen[rank]) return bad(line_no, absl::StrCat("duplicate rank ", rank));
    const size_t off = tok->arena_.size();
    if (!Base64Decode(b64, &tok->arena_)) return bad(line_no, "bad base64");
    seen[rank] = true;
    spans[rank] = {static_cast<uint32_t>(off), static_cast<uint32_t>(tok->arena_.size() - off)};
    ++count;
  }
  if (count != info.rank_count) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer rank file ", path, ": ", count,
                                                   " ranks, but ", name, " has ", info.rank_count,
                                                   " (is this the file of another encoding?)"));
  }
  // arena_ is complete: views into it stay valid from here on.
  tok->decoder_.resize(info.rank_count);
  tok->ranks_.reserve(info.rank_count);
  for (uint32_t r = 0; r < info.rank_count; ++r) {
    const std::string_view bytes(tok->arena_.data() + spans[r].first, spans[r].second);
    tok->decoder_[r] = bytes;
    if (!tok->ranks_.emplace(bytes, r).second) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer rank file ", path,
                                                     ": duplicate token for rank ", r));
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    auto it = tok->ranks_.find(std::string_view(&c, 1));
    if (it == tok->ranks_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer rank file ", path,
                                                     ": no token for the single byte ", b));
    }
    tok->byte_rank_[b] = it->second;
  }
  tok->specials_ = info.specials;
  (void)internal::CodePointFlags(0x4E00);  // build the Unicode table now, not on first use
  return tok;
}

uint32_t Tokenizer::Rank(std::string_view bytes) const {
  auto it = ranks_.find(bytes);
  return it == ranks_.end() ? kNoRank : it->second;
}

namespace {

// tiktoken's byte-pair merge: start from single bytes, repeatedly merge the adjacent pair whose
// concatenation has the lowest rank (leftmost on ties) until no adjacent pair is a token.
// Calls sink(start, end) for each final part, left to right. n >= 2.

template <typename RankFn, typename Sink>
void MergeSmall(std::string_view piece, const RankFn& rank, Sink& sink) {
  struct Part {
    uint32_t start;
    uint32_t rank;
  };
  const size_t n = piece.size();
  Part parts[kSmallPiece + 1];
  size_t m = n + 1;
  for (size_t i = 0; i + 1 < n; ++i) parts[i] = {uint32_t(i), rank(piece.substr(i, 2))};
  parts[n - 1] = {uint32_t(n - 1), kNoRank};
  parts[n] = {uint32_t(n), kNoRank};
  auto pair_rank = [&](size_t i) {
    // parts[i + 1] is about to be removed: the new pair at i spans parts[i]..parts[i + 3].
    return i + 3 < m ? rank(piece.substr(parts[i].start, parts[i + 3].start - parts[i].start)) : kNoRank;
  };
  for (;;) {
    uint32_t min_rank = kNoRank;
    size_t min_i = 0;
    for (size_t i = 0; i + 1 < m; ++i) {
      if (parts[i].rank < min_rank) {
        min_rank = parts[i].rank;
        min_i = i;
      }
    }
    if (min_rank == kNoRank) break;
    if (min_i > 0) parts[min_i - 1].rank = pair_rank(min_i - 1);
    parts[min_i].rank = pair_rank(min_i);
    std::memmove(&parts[min_i + 1], &parts[min_i + 2], (m - min_i - 2) * sizeof(Part));
    --m;
  }
  for (size_t i = 0; i + 1 < m; ++i) sink(parts[i].start, parts[i + 1].start);
}

// Same merges in the same order with a heap keyed by (rank, start): the leftmost lowest-rank pair
// is exactly what tiktoken's linear scan picks.
template <typename RankFn, typename Sink>
void MergeLarge(std::string_view piece, const RankFn& rank, Sink& sink) {
  const size_t n = piece.size();
  std::vector<uint32_t> next(n), prev(n), version(n, 0);
  std::vector<uint32_t> pair(n, kNoRank);  // current rank of the pair starting at a part start
  for (size_t i = 0; i < n; ++i) {
    next[i] = uint32_t(i + 1);
    prev[i] = uint32_t(i - 1);  // wraps for 0; never read there
  }
  struct Entry {
    uint32_t rank;
    uint32_t start;
    uint32_t version;
    bool operator>(const Entry& o) const {
      return rank != o.rank ? rank > o.rank : start > o.start;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto compute = [&](uint32_t s) {
    const uint32_t b = next[s];
    if (b >= n) return kNoRank;
    const uint32_t e = next[b];
    return rank(piece.substr(s, e - s));
  };
  for (uint32_t i = 0; i + 1 < n; ++i) {
    pair[i] = rank(piece.substr(i, 2));
    if (pair[i] != kNoRank) heap.push({pair[i], i, 0});
  }
  auto update = [&](uint32_t s) {
    pair[s] = compute(s);
    ++version[s];
    if (pair[s] != kNoRank) heap.push({pair[s], s, version[s]});
  };
  while (!heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    if (top.version != version[top.start]) continue;  // stale (also covers merged-away starts)
    const uint32_t s = top.start;
    const uint32_t b = next[s];
    next[s] = next[b];
    if (next[s] < n) prev[next[s]] = s;
    ++version[b];  // b is gone
    update(s);
    if (s > 0) update(prev[s]);
  }
  for (uint32_t s = 0; s < n; s = next[s]) sink(s, next[s]);
}

}  // namespace

namespace {

// Per-thread cache of BPE results for short pieces that are not a token themselves (frequent
// words with a suffix, "\n\n\t\t", "!\")", ...). Direct-mapped, no locks: each thread has its
// own, so concurrent calls never share state. Keyed by the tokenizer's process-unique id, so a
// Tokenizer destroyed and another created at the same address cannot see stale entries.
constexpr size_t kCacheMaxPiece = 32;
constexpr size_t kCacheMaxIds = 8;
constexpr size_t kCacheSlots = 1024;  // ~80 KB per thread

struct CacheSlot {
  uint64_t tokenizer_id = 0;  // 0 = empty
  uint8_t len = 0;
  uint8_t count = 0;
  char bytes[kCacheMaxPiece];
  uint32_t ids[kCacheMaxIds];
};

struct PieceCache {
  CacheSlot slots[kCacheSlots];
};

PieceCache& ThreadCache() {
  // On the heap, not in static TLS: 80 KB of static TLS per thread would make every
  // pthread_create with a small stack (civetweb asks for ~100 KB) fail with EINVAL.
  thread_local std::unique_ptr<PieceCache> cache = std::make_unique<PieceCache>();
  return *cache;
}

inline size_t PieceHash(std::string_view piece) {
  uint64_t h = 0xcbf29ce484222325ull ^ piece.size();  // FNV-1a
  for (unsigned char c : piece) h = (h ^ c) * 0x100000001b3ull;
  return static_cast<size_t>(h ^ (h >> 29)) & (kCacheSlots - 1);
}

}  // namespace

template <typename Sink>
void Tokenizer::MergePiece(std::string_view piece, Sink& sink) const {
  auto rank = [this](std::string_view b) { return Rank(b); };
  if (piece.size() > kCacheMaxPiece) {
    auto part = [&](uint32_t s, uint32_t e) { sink(Rank(piece.substr(s, e - s))); };
    if (piece.size() <= kSmallPiece) {
      MergeSmall(piece, rank, part);
    } else {
      MergeLarge(piece, rank, part);
    }
    return;
  }
  CacheSlot& slot = ThreadCache().slots[PieceHash(piece)];
  if (slot.tokenizer_id == id_ && slot.len == piece.size() &&
      std::memcmp(slot.bytes, piece.data(), piece.size()) == 0) {
    for (uint8_t k = 0; k < slot.count; ++k) sink(slot.ids[k]);
    return;
  }
  uint32_t ids[kCacheMaxPiece];  // a piece of n bytes has at most n tokens
  size_t count = 0;
  auto part = [&](uint32_t s, uint32_t e) { ids[count++] = Rank(piece.substr(s, e - s)); };
  MergeSmall(piece, rank, part);
  for (size_t k = 0; k < count; ++k) sink(ids[k]);
  if (count <= kCacheMaxIds) {
    slot.tokenizer_id = id_;
    slot.len = static_cast<uint8_t>(piece.size());
    slot.count = static_cast<uint8_t>(count);
    std::memcpy(slot.bytes, piece.data(), piece.size());
    std::memcpy(slot.ids, ids, count * sizeof(uint32_t));
  }
}

template <typename Sink>
void Tokenizer::EncodePiece(std::string_view piece, Sink& sink) const {
  if (piece.size() == 1) {
    sink(byte_rank_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  if (const uint32_t r = Rank(piece); r != kNoRank) {
    sink(r);
    return;
  }
  MergePiece(piece, sink);
}

size_t Tokenizer::CountPiece(std::string_view piece) const {
  if (piece.size() == 1 || ranks_.contains(piece)) return 1;
  size_t count = 0;
  auto counter = [&](uint32_t) { ++count; };
  MergePiece(piece, counter);
  return count;
}

size_t Tokenizer::Count(std::string_view text) const {
  size_t total = 0;
  ForEachPiece(enc_, text, [&](std::string_view piece) { total += CountPiece(piece); });
  return total;
}

std::vector<uint32_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<uint32_t> out;
  out.reserve(text.size() / 3 + 1);
  auto push = [&](uint32_t id) { out.push_back(id); };
  ForEachPiece(enc_, text, [&](std::string_view piece) { EncodePiece(piece, push); });
  return out;
}

std::string Tokenizer::Decode(const std::vector<uint32_t>& tokens) const {
  std::string out;
  for (uint32_t id : tokens) {
    if (id < decoder_.size()) {
      out.append(decoder_[id]);
      continue;
    }
    for (const auto& [sid, text] : specials_) {
      if (sid == id) out.append(text);
    }
  }
  return out;
}

std::vector<std::string_view> Tokenizer::Split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  ForEachPiece(enc_, text, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

Encoding EncodingForModel(std::string_view model) {
  std::string m(model);
  for (char& ch : m) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  std::string_view v(m);
  if (const size_t slash = v.rfind('/'); slash != std::string_view::npos) v.remove_prefix(slash + 1);
  auto starts = [&](std::string_view prefix) { return v.substr(0, prefix.size()) == prefix; };
  if (starts("ft:")) v.remove_prefix(3);
  // name == prefix, or prefix followed by '-' (so "o1" does not claim "o100-foo")
  auto family = [&](std::string_view prefix) {
    return v == prefix || (starts(prefix) && v.size() > prefix.size() && v[prefix.size()] == '-');
  };
  for (std::string_view p : {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-", "gpt-oss"}) {
    if (starts(p)) return Encoding::kO200kBase;
  }
  for (std::string_view p : {"o1", "o3", "o4"}) {
    if (family(p)) return Encoding::kO200kBase;
  }
  if (family("gpt-4")) return Encoding::kCl100kBase;
  for (std::string_view p : {"gpt-3.5", "gpt-35-", "text-embedding-3", "text-embedding-ada-002"}) {
    if (starts(p)) return Encoding::kCl100kBase;
  }
  return Encoding::kO200kBase;
}

size_t CountChatPrompt(const Tokenizer& tok, const std::vector<ChatMessage>& messages) {
  size_t total = 3;  // every reply is primed with <|start|>assistant<|message|>
  for (const ChatMessage& msg : messages) {
    total += 3 + tok.Count(msg.role) + tok.Count(msg.content);
    if (!msg.name.empty()) total += tok.Count(msg.name) + 1;
  }
  return total;
}

size_t CountChatPrompt(const Tokenizer& tok,
                       const std::vector<std::pair<std::string, std::string>>& role_and_text) {
  size_t total = 3;
  for (const auto& [role, text] : role_and_text) total += 3 + tok.Count(role) + tok.Count(text);
  return total;
}

}  // namespace routeall::tokenizer
