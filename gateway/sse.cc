// SSE formatting.
#include "gateway/sse.h"

namespace routeall::gateway {

std::string FormatSseEvent(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(data.size() + event.size() + 16);
  if (!event.empty()) {
    out.append("event: ").append(event).append("\n");
  }
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    std::string_view line = data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.append("data: ").append(line).append("\n");
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out.append("\n");
  return out;
}

http::response_header<> SseHeader() {
  http::response_header<> h;
  h.result(http::status::ok);
  h.version(11);
  h.set(http::field::content_type, "text/event-stream; charset=utf-8");
  h.set(http::field::cache_control, "no-cache");
  h.set("X-Accel-Buffering", "no");
  return h;
}

}  // namespace routeall::gateway
