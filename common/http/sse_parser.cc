// SseParser: splits the byte stream into lines without copying complete lines, then applies the
// WHATWG field rules line by line.
#include "common/http/sse_parser.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace routeall::http {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

absl::Status TooLong(size_t max_line) {
  return absl::ResourceExhaustedError(absl::StrCat("SSE line or event larger than ", max_line, " bytes"));
}

}  // namespace

void SseParser::Reset() {
  line_.clear();
  skip_lf_ = false;
  first_line_ = true;
  have_data_ = false;
  data_.clear();
  event_type_.clear();
  last_id_.clear();
  error_ = absl::OkStatus();
}

absl::Status SseParser::Feed(std::string_view bytes, const std::function<void(Event&&)>& on_event) {
  if (!error_.ok()) return error_;
  size_t pos = 0;
  const size_t size = bytes.size();
  if (skip_lf_ && pos < size) {
    if (bytes[pos] == '\n') ++pos;
    skip_lf_ = false;
  }
  while (pos < size) {
    // Find the next CR or LF.
    size_t end = pos;
    while (end < size && bytes[end] != '\n' && bytes[end] != '\r') ++end;
    if (end == size) {
      // Incomplete line: keep it for the next feed.
      if (line_.size() + (end - pos) > max_line_) return error_ = TooLong(max_line_);
      line_.append(bytes.data() + pos, end - pos);
      break;
    }
    std::string_view line;
    if (line_.empty()) {
      line = bytes.substr(pos, end - pos);  // common case: no copy
    } else {
      line_.append(bytes.data() + pos, end - pos);
      line = line_;
    }
    if (line.size() > max_line_) return error_ = TooLong(max_line_);
    bool cr = bytes[end] == '\r';
    pos = end + 1;
    if (cr) {
      if (pos < size) {
        if (bytes[pos] == '\n') ++pos;
      } else {
        skip_lf_ = true;  // the '\n' of a "\r\n" may come in the next feed
      }
    }
    ProcessLine(line, on_event);
    line_.clear();
    if (!error_.ok()) return error_;
  }
  return absl::OkStatus();
}

void SseParser::ProcessLine(std::string_view line, const std::function<void(Event&&)>& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    // Blank line: dispatch. An event without data lines is dropped, but its type is still reset.
    if (have_data_) {
      Event ev;
      ev.event = event_type_.empty() ? "message" : std::move(event_type_);
      data_.pop_back();  // the '\n' appended after the last data line
      ev.data = std::move(data_);
      ev.id = last_id_;
      on_event(std::move(ev));
    }
    have_data_ = false;
    data_.clear();
    event_type_.clear();
    return;
  }
  if (line[0] == ':') return;  // comment (e.g. keep-alive pings)
  std::string_view field = line, value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_line_ + 1) {
      error_ = TooLong(max_line_);
      return;
    }
    data_.append(value.data(), value.size());
    data_.push_back('\n');
    have_data_ = true;
  } else if (field == "event") {
    event_type_.assign(value.data(), value.size());
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value.data(), value.size());
  }
  // "retry" and unknown fields are ignored: reconnection is the adapter's business, not the parser's.
}

}  // namespace routeall::http
