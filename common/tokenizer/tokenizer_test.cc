#include "common/tokenizer/tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/tokenizer/pretokenizer.h"
#include "common/testing.h"
#include "common/tokenizer/unicode.h"
#include "nlohmann/json.hpp"

namespace routeall::tokenizer {
namespace {

#define REQUIRE_TOKENIZER_DIR(var) ROUTEALL_REQUIRE_ENV(var, "ROUTEALL_TOKENIZER_DIR")

// Loaded once per process (each discovered test is its own process, so this is cheap enough).
const Tokenizer& Get(const std::string& dir, Encoding enc) {
  static std::map<Encoding, std::unique_ptr<Tokenizer>>* cache =
      new std::map<Encoding, std::unique_ptr<Tokenizer>>();
  auto& slot = (*cache)[enc];
  if (!slot) {
    auto tok = Tokenizer::LoadFromDir(dir, enc);
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status();
      std::abort();
    }
    slot = std::move(*tok);
  }
  return *slot;
}

struct Vector {
  std::string name;
  std::string bytes;
  std::vector<uint32_t> o200k;
  std::vector<uint32_t> cl100k;
};

std::vector<Vector> LoadVectors() {
  std::ifstream in(std::string(ROUTEALL_TOKENIZER_TESTDATA) + "/vectors.json");
  EXPECT_TRUE(in.good()) << "testdata/vectors.json";
  nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Vector> out;
  for (const auto& v : j.at("vectors")) {
    Vector vec;
    vec.name = v.at("name").get<std::string>();
    EXPECT_TRUE(absl::Base64Unescape(v.at("text_b64").get<std::string>(), &vec.bytes)) << vec.name;
    vec.o200k = v.at("o200k").get<std::vector<uint32_t>>();
    vec.cl100k = v.at("cl100k").get<std::vector<uint32_t>>();
    if (v.contains("text")) {
      EXPECT_EQ(v.at("text").get<std::string>(), vec.bytes) << vec.name;
    }
    out.push_back(std::move(vec));
  }
  return out;
}

std::vector<std::string> Pieces(Encoding enc, std::string_view text) {
  std::vector<std::string> out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const size_t e = enc == Encoding::kO200kBase ? internal::NextPieceO200k(p, text.size(), i)
                                                 : internal::NextPieceCl100k(p, text.size(), i);
    EXPECT_GT(e, i);
    out.emplace_back(text.substr(i, e - i));
    i = e;
  }
  return out;
}

using Strs = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// No rank data needed.

TEST(EncodingForModel, Table) {
  const std::vector<std::pair<std::string, Encoding>> cases = {
      {"gpt-4o", Encoding::kO200kBase},
      {"gpt-4o-mini", Encoding::kO200kBase},
      {"gpt-4o-2024-08-06", Encoding::kO200kBase},
      {"chatgpt-4o-latest", Encoding::kO200kBase},
      {"gpt-4.1", Encoding::kO200kBase},
      {"gpt-4.1-nano", Encoding::kO200kBase},
      {"gpt-4.5-preview", Encoding::kO200kBase},
      {"gpt-5", Encoding::kO200kBase},
      {"gpt-5-mini", Encoding::kO200kBase},
      {"o1", Encoding::kO200kBase},
      {"o1-mini", Encoding::kO200kBase},
      {"o3-2025-04-16", Encoding::kO200kBase},
      {"o4-mini", Encoding::kO200kBase},
      {"gpt-oss-120b", Encoding::kO200kBase},
      {"GPT-4O", Encoding::kO200kBase},
      {"openai/gpt-4o", Encoding::kO200kBase},
      {"ft:gpt-4o-mini:org::abc123", Encoding::kO200kBase},
      {"gpt-4", Encoding::kCl100kBase},
      {"gpt-4-0613", Encoding::kCl100kBase},
      {"gpt-4-turbo", Encoding::kCl100kBase},
      {"gpt-4-32k", Encoding::kCl100kBase},
      {"gpt-3.5-turbo", Encoding::kCl100kBase},
      {"gpt-3.5-turbo-0125", Encoding::kCl100kBase},
      {"azure/gpt-35-turbo", Encoding::kCl100kBase},
      {"ft:gpt-3.5-turbo:org::x", Encoding::kCl100kBase},
      {"text-embedding-3-small", Encoding::kCl100kBase},
      {"text-embedding-ada-002", Encoding::kCl100kBase},
      // no public tokenizer: documented o200k approximation
      {"claude-sonnet-4-5", Encoding::kO200kBase},
      {"gemini-2.5-pro", Encoding::kO200kBase},
      {"deepseek-chat", Encoding::kO200kBase},
      {"o100-custom", Encoding::kO200kBase},
      {"", Encoding::kO200kBase},
  };
  for (const auto& [model, want] : cases) {
    EXPECT_EQ(EncodingForModel(model), want) << model;
  }
  EXPECT_EQ(EncodingName(Encoding::kO200kBase), "o200k_base");
  EXPECT_EQ(EncodingName(Encoding::kCl100kBase), "cl100k_base");
}

TEST(Unicode, Classes) {
  using namespace internal;
  EXPECT_EQ(CodePointFlags('A'), kFlagL | kFlagUpper);
  EXPECT_EQ(CodePointFlags('z'), kFlagL | kFlagLower);
  EXPECT_EQ(CodePointFlags('7'), kFlagN);
  EXPECT_EQ(CodePointFlags('\n'), kFlagSpace | kFlagNewline);
  EXPECT_EQ(CodePointFlags('!'), 0);
  EXPECT_EQ(CodePointFlags(0x00E9), kFlagL | kFlagLower);               // é Ll
  EXPECT_EQ(CodePointFlags(0x01C5), kFlagL | kFlagUpper);               // ǅ Lt
  EXPECT_EQ(CodePointFlags(0x02B0), kFlagL | kFlagUpper | kFlagLower);  // ʰ Lm
  EXPECT_EQ(CodePointFlags(0x4E2D), kFlagL | kFlagUpper | kFlagLower);  // 中 Lo
  EXPECT_EQ(CodePointFlags(0x0301), kFlagUpper | kFlagLower);           // combining acute: M
  EXPECT_EQ(CodePointFlags(0x0661), kFlagN);                            // Arabic-Indic 1
  EXPECT_EQ(CodePointFlags(0x2167), kFlagN);                            // Ⅷ Nl
  EXPECT_EQ(CodePointFlags(0x3000), kFlagSpace);
  EXPECT_EQ(CodePointFlags(0x2028), kFlagSpace);
  EXPECT_EQ(CodePointFlags(0x0085), kFlagSpace);
  EXPECT_EQ(CodePointFlags(0x200B), 0);                                 // ZWSP is not \s
  EXPECT_EQ(CodePointFlags(0x001C), 0);                                 // not White_Space
  EXPECT_EQ(CodePointFlags(0x1C89), kFlagL | kFlagUpper);               // Unicode 16.0 Lu
  EXPECT_EQ(CodePointFlags(0x1F600), 0);                                // emoji: So
  EXPECT_EQ(CodePointFlags(0x10FFFF), 0);
}

TEST(Unicode, DecodeInvalidBytesOneAtATime) {
  using internal::DecodeChar;
  auto len = [](std::string_view s) {
    return DecodeChar(reinterpret_cast<const unsigned char*>(s.data()), s.size()).len;
  };
  EXPECT_EQ(len("\xC3\xA9"), 2);
  EXPECT_EQ(len("\xE4\xB8\xAD"), 3);
  EXPECT_EQ(len("\xF0\x9F\x98\x80"), 4);
  EXPECT_EQ(len("\xC3"), 1);              // truncated
  EXPECT_EQ(len("\xC0\xAF"), 1);          // overlong
  EXPECT_EQ(len("\xE0\x80\xAF"), 1);      // overlong
  EXPECT_EQ(len("\xED\xA0\x80"), 1);      // surrogate
  EXPECT_EQ(len("\xF4\x90\x80\x80"), 1);  // above U+10FFFF
  EXPECT_EQ(len("\x80"), 1);
  EXPECT_EQ(DecodeChar(reinterpret_cast<const unsigned char*>("\xFF"), 1).flags, 0);
}

TEST(Pretokenizer, O200kSplits) {
  const Encoding e = Encoding::kO200kBase;
  EXPECT_EQ(Pieces(e, "a  \n\n  b"), (Strs{"a", "  \n\n", " ", " b"}));
  EXPECT_EQ(Pieces(e, "hello   "), (Strs{"hello", "   "}));
  EXPECT_EQ(Pieces(e, "a\n  "), (Strs{"a", "\n", "  "}));
  EXPECT_EQ(Pieces(e, "1234567"), (Strs{"123", "456", "7"}));
  EXPECT_EQ(Pieces(e, "They'LL don't"), (Strs{"They'LL", " don't"}));
  EXPECT_EQ(Pieces(e, "HelloWorld HTTPServer"), (Strs{"Hello", "World", " HTTPServer"}));
  EXPECT_EQ(Pieces(e, "a//b\n/"), (Strs{"a", "//", "b", "\n", "/"}));
  EXPECT_EQ(Pieces(e, " !!!\n\nx"), (Strs{" !!!\n\n", "x"}));
  EXPECT_EQ(Pieces(e, "it'\xC5\xBF"), (Strs{"it'\xC5\xBF"}));  // 'ſ folds to 's
  EXPECT_EQ(Pieces(e, "ab\xFF" "cd"), (Strs{"ab", "\xFF" "cd"}));
}

TEST(Pretokenizer, Cl100kSplits) {
  const Encoding e = Encoding::kCl100kBase;
  EXPECT_EQ(Pieces(e, "a  \n\n  b"), (Strs{"a", "  \n\n", " ", " b"}));
  EXPECT_EQ(Pieces(e, "a\n  "), (Strs{"a", "\n  "}));
  EXPECT_EQ(Pieces(e, "They'LL don't"), (Strs{"They", "'LL", " don", "'t"}));
  EXPECT_EQ(Pieces(e, "HelloWorld"), (Strs{"HelloWorld"}));
  EXPECT_EQ(Pieces(e, "a//b\n/"), (Strs{"a", "//", "b", "\n", "/"}));
  EXPECT_EQ(Pieces(e, "12345"), (Strs{"123", "45"}));
}

TEST(Load, MissingFileIsNotFound) {
  auto tok = Tokenizer::Load("/nonexistent/o200k_base.tiktoken", Encoding::kO200kBase);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(tok.status().message().find("/nonexistent/o200k_base.tiktoken"), std::string::npos);
}

TEST(Load, GarbageIsInvalidArgument) {
  const std::string path = ::testing::TempDir() + "/garbage.tiktoken";
  for (const std::string& content :
       {std::string("not a rank file\n"), std::string("IQ== x\n"), std::string("I!== 0\n"),
        std::string("IQ== 0\nIQ== 0\n"), std::string("IQ== 0\n")}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    auto tok = Tokenizer::Load(path, Encoding::kCl100kBase);
    ASSERT_FALSE(tok.ok()) << content;
    EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument) << tok.status();
  }
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------
// Needs the rank files (ROUTEALL_TOKENIZER_DIR, made by scripts/lib/tokenizer_data.sh).

TEST(Vectors, EqualTiktoken) {
  REQUIRE_TOKENIZER_DIR(dir);
  const Tokenizer& o200k = Get(dir, Encoding::kO200kBase);
  const Tokenizer& cl100k = Get(dir, Encoding::kCl100kBase);
  const std::vector<Vector> vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 500u);
  size_t checked = 0;
  for (const Vector& v : vectors) {
    EXPECT_EQ(o200k.Encode(v.bytes), v.o200k) << v.name << " (o200k_base)";
    EXPECT_EQ(cl100k.Encode(v.bytes), v.cl100k) << v.name << " (cl100k_base)";
    EXPECT_EQ(o200k.Count(v.bytes), v.o200k.size()) << v.name;
    EXPECT_EQ(cl100k.Count(v.bytes), v.cl100k.size()) << v.name;
    EXPECT_EQ(o200k.Decode(v.o200k), v.bytes) << v.name;
    EXPECT_EQ(cl100k.Decode(v.cl100k), v.bytes) << v.name;
    ++checked;
  }
  RecordProperty("vectors", static_cast<int>(checked));
}

TEST(RoundTrip, RandomBytesAndText) {
  REQUIRE_TOKENIZER_DIR(dir);
  std::mt19937 rng(1234);
  const std::vector<std::string> alphabet = {
      "a", "Z", "0", " ", "  ", "\n", "\r\n", "\t", "'", "'s", "!", "/", "\xC3\xA9", "\xE4\xB8\xAD",
      "\xCC\x81", "\xF0\x9F\x98\x80", "\xE2\x80\x8D", "\xFF", "\xC3", "\xE2\x82", "\x80", "\xC2\xA0"};
  for (Encoding enc : {Encoding::kO200kBase, Encoding::kCl100kBase}) {
    const Tokenizer& tok = Get(dir, enc);
    for (int round = 0; round < 2000; ++round) {
      std::string s;
      const int n = static_cast<int>(rng() % 64);
      for (int k = 0; k < n; ++k) {
        if (rng() % 4 == 0) {
          s.push_back(static_cast<char>(rng() & 0xFF));
        } else {
          s += alphabet[rng() % alphabet.size()];
        }
      }
      const std::vector<uint32_t> ids = tok.Encode(s);
      ASSERT_EQ(tok.Decode(ids), s);
      ASSERT_EQ(tok.Count(s), ids.size());
    }
  }
}

TEST(Tokenizer, SpecialTokensAreText) {
  REQUIRE_TOKENIZER_DIR(dir);
  const Tokenizer& o200k = Get(dir, Encoding::kO200kBase);
  const std::vector<uint32_t> ids = o200k.Encode("<|endoftext|>");
  EXPECT_GT(ids.size(), 1u);
  for (uint32_t id : ids) EXPECT_LT(id, 199998u);
  EXPECT_EQ(o200k.Decode({199999}), "<|endoftext|>");
  EXPECT_EQ(Get(dir, Encoding::kCl100kBase).Decode({100257, 100276}), "<|endoftext|><|endofprompt|>");
  EXPECT_EQ(o200k.Decode({4294967295u}), "");  // unknown ids are skipped
}

TEST(Tokenizer, KnownCounts) {
  REQUIRE_TOKENIZER_DIR(dir);
  const Tokenizer& o200k = Get(dir, Encoding::kO200kBase);
  const Tokenizer& cl100k = Get(dir, Encoding::kCl100kBase);
  EXPECT_EQ(o200k.Encode("hello world"), (std::vector<uint32_t>{24912, 2375}));
  EXPECT_EQ(cl100k.Encode("hello world"), (std::vector<uint32_t>{15339, 1917}));
  EXPECT_EQ(o200k.Count(""), 0u);
  EXPECT_EQ(o200k.Split("a  \n\n  b"), (std::vector<std::string_view>{"a", "  \n\n", " ", " b"}));
}

TEST(Load, WrongEncodingFileIsInvalidArgument) {
  REQUIRE_TOKENIZER_DIR(dir);
  auto a = Tokenizer::Load(dir + "/cl100k_base.tiktoken", Encoding::kO200kBase);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  auto b = Tokenizer::Load(dir + "/o200k_base.tiktoken", Encoding::kCl100kBase);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
}

// OpenAI cookbook "How to count tokens with tiktoken": these messages are 129 prompt tokens for
// gpt-3.5-turbo / gpt-4 (cl100k_base) and 124 for gpt-4o / gpt-4o-mini (o200k_base), as counted
// by both the cookbook's num_tokens_from_messages() and the API's usage.prompt_tokens.
TEST(CountChatPrompt, CookbookExample) {
  REQUIRE_TOKENIZER_DIR(dir);
  const std::vector<ChatMessage> messages = {
      {"system", "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.", ""},
      {"system", "New synergies will help drive top-line growth.", "example_user"},
      {"system", "Things working well together will increase revenue.", "example_assistant"},
      {"system", "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.", "example_user"},
      {"system", "Let's talk later when we're less busy about how to do better.", "example_assistant"},
      {"user", "This late pivot means we don't have time to boil the ocean for the client deliverable.", ""},
  };
  EXPECT_EQ(CountChatPrompt(Get(dir, Encoding::kCl100kBase), messages), 129u);
  EXPECT_EQ(CountChatPrompt(Get(dir, Encoding::kO200kBase), messages), 124u);

  const Tokenizer& o200k = Get(dir, Encoding::kO200kBase);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"system", "You are terse."}, {"user", "Say hi."}};
  // 3 + per message (3 + role + content): system=1, "You are terse."=4, user=1, "Say hi."=3
  EXPECT_EQ(CountChatPrompt(o200k, pairs),
            3 + (3 + o200k.Count("system") + o200k.Count("You are terse.")) +
                (3 + o200k.Count("user") + o200k.Count("Say hi.")));
  EXPECT_EQ(CountChatPrompt(o200k, pairs),
            CountChatPrompt(o200k, std::vector<ChatMessage>{{"system", "You are terse.", ""},
                                                            {"user", "Say hi.", ""}}));
  EXPECT_EQ(CountChatPrompt(o200k, std::vector<ChatMessage>{}), 3u);
}

TEST(Tokenizer, ConcurrentCountsAgree) {
  REQUIRE_TOKENIZER_DIR(dir);
  const std::vector<Vector> vectors = LoadVectors();
  const Tokenizer& o200k = Get(dir, Encoding::kO200kBase);
  const Tokenizer& cl100k = Get(dir, Encoding::kCl100kBase);
  size_t want = 0;
  for (const Vector& v : vectors) want += v.o200k.size() + v.cl100k.size();
  std::vector<size_t> got(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        size_t sum = 0;
        for (const Vector& v : vectors) sum += o200k.Count(v.bytes) + cl100k.Count(v.bytes);
        if (rep == 0 || sum != got[t]) got[t] = sum;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace routeall::tokenizer
