// Incremental Server-Sent Events parser (WHATWG "event stream interpretation") for upstream
// streaming responses, fed with body pieces exactly as they arrive from the network.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace routeall::http {

class SseParser {
 public:
  struct Event {
    std::string event;  // "message" when the stream gave no (or an empty) event field, as the spec says
    std::string data;   // data lines joined with '\n', no trailing '\n'
    std::string id;     // last event ID seen so far in the stream (persists across events)
  };

  static constexpr size_t kDefaultMaxLine = 8u << 20;

  // max_line bounds one line and one event's accumulated data, so a hostile upstream cannot make
  // us buffer forever.
  explicit SseParser(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Feeds bytes; calls on_event for each complete event (dispatched on the blank line that ends
  // it). Lines may end in "\n", "\r\n" or "\r", and may be split anywhere across calls. Returns
  // RESOURCE_EXHAUSTED once a line or an event's data exceeds max_line; the parser then stays
  // failed. Events pending at the end of the stream are discarded, per the spec.
  absl::Status Feed(std::string_view bytes, const std::function<void(Event&&)>& on_event);

  // Forgets everything (partial line, pending event, last event ID, error).
  void Reset();

 private:
  void ProcessLine(std::string_view line, const std::function<void(Event&&)>& on_event);

  size_t max_line_;
  std::string line_;         // partial line carried over between feeds
  bool skip_lf_ = false;     // the previous line ended in '\r': a leading '\n' belongs to it
  bool first_line_ = true;   // a UTF-8 BOM is only stripped from the very first line
  bool have_data_ = false;   // spec: data buffer non-empty (a "data:" line was seen)
  std::string data_;
  std::string event_type_;
  std::string last_id_;
  absl::Status error_;
};

}  // namespace routeall::http
