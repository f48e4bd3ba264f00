// Throughput and memory of routeall_tokenizer.
//
//   routeall_tokenizer_bench <rank dir> [--threads N] [file...]
//       loads both encodings (prints load time and RSS before/after), then counts each file
//       (default: /usr/share/common-licenses/GPL-3, plain English) with each encoding for >= 1 s
//       per run on N threads (default 1) and prints MB/s (input bytes / wall time, all threads).
//   routeall_tokenizer_bench <rank dir> --encode o200k_base|cl100k_base
//       dev tool: each stdin line is base64 text; prints its token ids, space-separated.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/tokenizer/tokenizer.h"

namespace {

using routeall::tokenizer::Encoding;
using routeall::tokenizer::Tokenizer;

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::unique_ptr<Tokenizer> MustLoad(const std::string& dir, Encoding enc) {
  auto tok = Tokenizer::LoadFromDir(dir, enc);
  if (!tok.ok()) {
    std::cerr << tok.status() << "\n";
    std::exit(1);
  }
  return std::move(*tok);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " <rank dir> [--threads N] [file...] | --encode ENC\n";
    return 2;
  }
  const std::string dir = argv[1];
  if (argc >= 4 && std::strcmp(argv[2], "--encode") == 0) {
    const Encoding enc = std::string(argv[3]) == "cl100k_base" ? Encoding::kCl100kBase : Encoding::kO200kBase;
    auto tok = MustLoad(dir, enc);
    std::string line, text;
    while (std::getline(std::cin, line)) {
      text.clear();
      if (!absl::Base64Unescape(line, &text)) {
        std::cerr << "bad base64\n";
        return 1;
      }
      const std::vector<uint32_t> ids = tok->Encode(text);
      std::string out;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out.push_back(' ');
        out += std::to_string(ids[i]);
      }
      std::cout << out << "\n";
    }
    return 0;
  }
  int threads = 1;
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) files.push_back("/usr/share/common-licenses/GPL-3");

  const long rss0 = RssKb();
  const auto t0 = std::chrono::steady_clock::now();
  auto o200k = MustLoad(dir, Encoding::kO200kBase);
  const auto t1 = std::chrono::steady_clock::now();
  auto cl100k = MustLoad(dir, Encoding::kCl100kBase);
  const auto t2 = std::chrono::steady_clock::now();
  const long rss1 = RssKb();
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("load: o200k_base %.0f ms, cl100k_base %.0f ms; RSS %ld KB before, %ld KB after (+%.1f MB)\n",
              ms(t0, t1), ms(t1, t2), rss0, rss1, (rss1 - rss0) / 1024.0);

  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << file << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (const Tokenizer* tok : {o200k.get(), cl100k.get()}) {
      const size_t tokens = tok->Count(text);
      // Repeat until >= 1 s of wall time; every thread counts the whole text each round.
      size_t rounds = 0;
      const auto start = std::chrono::steady_clock::now();
      double secs = 0;
      do {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
          pool.emplace_back([&] {
            if (tok->Count(text) != tokens) std::abort();
          });
        }
        for (auto& th : pool) th.join();
        ++rounds;
        secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (secs < 1.0);
      const double mb = static_cast<double>(text.size()) * rounds * threads / 1e6;
      std::printf("%s %s: %zu bytes, %zu tokens, %d thread(s): %.1f MB/s\n", file.c_str(),
                  std::string(routeall::tokenizer::EncodingName(tok->encoding())).c_str(), text.size(),
                  tokens, threads, mb / secs);
    }
  }
  std::printf("RSS at exit %ld KB\n", RssKb());
  return 0;
}
