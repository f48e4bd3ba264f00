// Server-Sent Events framing (text/event-stream), shared by every streaming dialect.
#pragma once

#include <string>
#include <string_view>

#include "gateway/http_server.h"

namespace routeall::gateway {

// "event: <event>\n" (when non-empty) then one "data: " line per line of data, then a
// blank line. Newlines inside data are split so a payload can never end the event early.
std::string FormatSseEvent(std::string_view event, std::string_view data);

// The response header every SSE stream starts with (no proxy buffering, no caching).
http::response_header<> SseHeader();

// Writes events through a ResponseWriter, one flushed chunk per event.
class SseWriter {
 public:
  explicit SseWriter(ResponseWriter& out) : out_(out) {}
  // Sends the header with any extra fields already set on `header`.
  bool Begin(http::response_header<> header = SseHeader()) { return out_.BeginStream(std::move(header)); }
  bool Event(std::string_view event, std::string_view data) { return out_.Write(FormatSseEvent(event, data)); }
  bool Data(std::string_view data) { return Event({}, data); }
  bool End() { return out_.EndStream(); }

 private:
  ResponseWriter& out_;
};

}  // namespace routeall::gateway
