// libFuzzer: any bytes encode without crashing, decode back to the same bytes, Count equals the
// number of ids, every id is an ordinary token, and the pieces tile the input.
// Needs ROUTEALL_TOKENIZER_DIR (the rank files); without it every input is a no-op.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/tokenizer/tokenizer.h"

namespace {

using routeall::tokenizer::Encoding;
using routeall::tokenizer::Tokenizer;

std::unique_ptr<Tokenizer> g_tok[2];

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("ROUTEALL_TOKENIZER_DIR");
  if (dir == nullptr || *dir == '\0') {
    std::fprintf(stderr, "routeall_tokenizer_fuzz: ROUTEALL_TOKENIZER_DIR not set: nothing to fuzz\n");
    return 0;
  }
  const Encoding encs[2] = {Encoding::kO200kBase, Encoding::kCl100kBase};
  for (int i = 0; i < 2; ++i) {
    auto tok = Tokenizer::LoadFromDir(dir, encs[i]);
    if (!tok.ok()) {
      std::fprintf(stderr, "routeall_tokenizer_fuzz: %s\n", tok.status().ToString().c_str());
      std::abort();
    }
    g_tok[i] = std::move(*tok);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_tok[0]) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& tok : g_tok) {
    const std::vector<uint32_t> ids = tok->Encode(text);
    Check(tok->Decode(ids) == text, "Decode(Encode(x)) != x");
    Check(tok->Count(text) == ids.size(), "Count != Encode().size()");
    const uint32_t vocab = tok->encoding() == Encoding::kO200kBase ? 199998 : 100256;
    for (uint32_t id : ids) Check(id < vocab, "special or out-of-range id");
    size_t pos = 0;
    for (std::string_view piece : tok->Split(text)) {
      Check(!piece.empty() && piece.data() == text.data() + pos, "pieces do not tile the input");
      pos += piece.size();
    }
    Check(pos == text.size(), "pieces do not cover the input");
  }
  return 0;
}
