// Implements knob layering and the [[fake k=v]] directive grammar.
#include "knobs.h"

#include <charconv>
#include <utility>

namespace routeall::fake_upstream {
namespace {

constexpr std::string_view kDirectiveOpen = "[[fake";
constexpr std::string_view kDirectiveClose = "]]";

using KnobField = std::optional<int64_t> Knobs::*;

const std::vector<std::pair<std::string, KnobField>>& KnobTable() {
  static const std::vector<std::pair<std::string, KnobField>> kTable = {
      {"latency_ms", &Knobs::latency_ms},
      {"ttft_ms", &Knobs::ttft_ms},
      {"chunk_delay_ms", &Knobs::chunk_delay_ms},
      {"status", &Knobs::status},
      {"fail_after_chunks", &Knobs::fail_after_chunks},
      {"error_event_after_chunks", &Knobs::error_event_after_chunks},
      {"reset", &Knobs::reset},
      {"prompt_tokens", &Knobs::prompt_tokens},
      {"cached_tokens", &Knobs::cached_tokens},
      {"cache_write_tokens", &Knobs::cache_write_tokens},
      {"reasoning_tokens", &Knobs::reasoning_tokens},
      {"completion_tokens", &Knobs::completion_tokens},
      {"omit_usage", &Knobs::omit_usage},
      {"words", &Knobs::words},
      {"fail_first_n", &Knobs::fail_first_n},
      {"ping_after_chunks", &Knobs::ping_after_chunks},
      {"ping_interval_ms", &Knobs::ping_interval_ms},
      {"huge_body_bytes", &Knobs::huge_body_bytes},
  };
  return kTable;
}

KnobField FindField(std::string_view name) {
  for (const auto& [knob_name, field] : KnobTable()) {
    if (knob_name == name) return field;
  }
  return nullptr;
}

std::optional<int64_t> ParseInt(std::string_view value) {
  if (value == "true") return 1;
  if (value == "false") return 0;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
  return out;
}

}  // namespace

void Knobs::OverlayWith(const Knobs& top) {
  for (const auto& [name, field] : KnobTable()) {
    if ((top.*field).has_value()) this->*field = top.*field;
  }
}

Json Knobs::ToJson() const {
  Json out = Json::object();
  for (const auto& [name, field] : KnobTable()) {
    if ((this->*field).has_value()) out[name] = *(this->*field);
  }
  return out;
}

const std::vector<std::string>& KnobNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& entry : KnobTable()) names.push_back(entry.first);
    return names;
  }();
  return kNames;
}

bool SetKnob(Knobs* knobs, std::string_view name, std::string_view value, std::string* error) {
  KnobField field = FindField(name);
  if (field == nullptr) {
    *error = "unknown knob '" + std::string(name) + "'";
    return false;
  }
  std::optional<int64_t> parsed = ParseInt(value);
  if (!parsed) {
    *error = "knob '" + std::string(name) + "' needs an integer, got '" + std::string(value) + "'";
    return false;
  }
  knobs->*field = *parsed;
  return true;
}

bool ParseKnobsJson(const Json& object, Knobs* knobs, std::string* error) {
  if (!object.is_object()) {
    *error = "knobs must be a JSON object";
    return false;
  }
  for (const auto& [name, value] : object.items()) {
    std::string text;
    if (value.is_boolean()) {
      text = value.get<bool>() ? "1" : "0";
    } else if (value.is_number_integer()) {
      text = std::to_string(value.get<int64_t>());
    } else if (value.is_number()) {
      text = std::to_string(static_cast<int64_t>(value.get<double>()));
    } else if (value.is_string()) {
      text = value.get<std::string>();
    } else {
      *error = "knob '" + name + "' must be a number, string or boolean";
      return false;
    }
    if (!SetKnob(knobs, name, text, error)) return false;
  }
  return true;
}

std::map<std::string, std::string> ParseDirective(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while ((pos = text.find(kDirectiveOpen, pos)) != std::string_view::npos) {
    size_t body_start = pos + kDirectiveOpen.size();
    size_t end = text.find(kDirectiveClose, body_start);
    if (end == std::string_view::npos) break;
    // "[[fakeX" is not a directive: the keyword must be followed by space or "]]".
    if (body_start != end && text[body_start] != ' ' && text[body_start] != '\t') {
      pos = body_start;
      continue;
    }
    std::string_view body = text.substr(body_start, end - body_start);
    size_t i = 0;
    while (i < body.size()) {
      while (i < body.size() && (body[i] == ' ' || body[i] == '\t')) ++i;
      size_t token_start = i;
      while (i < body.size() && body[i] != ' ' && body[i] != '\t') ++i;
      std::string_view token = body.substr(token_start, i - token_start);
      size_t eq = token.find('=');
      if (eq != std::string_view::npos && eq > 0) {
        out[std::string(token.substr(0, eq))] = std::string(token.substr(eq + 1));
      }
    }
    pos = end + kDirectiveClose.size();
  }
  return out;
}

void ApplyDirective(const std::map<std::string, std::string>& directive, Knobs* knobs) {
  std::string ignored;
  for (const auto& [name, value] : directive) SetKnob(knobs, name, value, &ignored);
}

std::string StripDirectives(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find(kDirectiveOpen, pos);
    size_t close = open == std::string_view::npos ? open : text.find(kDirectiveClose, open);
    if (close == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, open - pos));
    pos = close + kDirectiveClose.size();
  }
  return Trim(out);
}

}  // namespace routeall::fake_upstream
