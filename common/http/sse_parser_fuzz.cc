// libFuzzer target for SseParser: never crashes, and how the bytes are split never changes the
// events or the final status.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/sse_parser.h"

namespace {

using routeall::http::SseParser;

struct Result {
  std::vector<SseParser::Event> events;
  bool ok = true;
};

// Feeds `pieces` in order; a small max_line so the limit paths are exercised too.
Result Run(const std::vector<std::string_view>& pieces) {
  SseParser parser(64);
  Result r;
  for (std::string_view p : pieces) {
    absl::Status st = parser.Feed(p, [&](SseParser::Event&& e) { r.events.push_back(std::move(e)); });
    if (!st.ok()) {
      r.ok = false;
      break;
    }
  }
  return r;
}

bool Same(const Result& a, const Result& b) {
  if (a.ok != b.ok || a.events.size() != b.events.size()) return false;
  for (size_t i = 0; i < a.events.size(); ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    if (x.event != y.event || x.data != y.data || x.id != y.id) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result whole = Run({in});
  for (const auto& e : whole.events) {
    if (e.event.empty()) std::abort();  // defaults to "message"
  }
  if (size > 0) {
    // Split points derived from the data itself, so the fuzzer can steer them.
    size_t a = data[0] % (size + 1);
    size_t b = a + (data[size - 1] % (size - a + 1));
    if (!Same(whole, Run({in.substr(0, a), in.substr(a)}))) std::abort();
    if (!Same(whole, Run({in.substr(0, a), std::string_view(), in.substr(a, b - a), in.substr(b)}))) std::abort();
  }
  if (size <= 512) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < size; ++i) bytes.push_back(in.substr(i, 1));
    if (!Same(whole, Run(bytes))) std::abort();
  }
  return 0;
}
