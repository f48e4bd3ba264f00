// Behaviour knobs (latency, faults, usage overrides) and the in-text [[fake ...]] directive parser.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_KNOBS_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_KNOBS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text_util.h"

namespace routeall::fake_upstream {

// Every knob is optional so layers (process defaults -> instance config ->
// request directive) can be overlaid; an unset knob means "no effect".
struct Knobs {
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> ttft_ms;
  std::optional<int64_t> chunk_delay_ms;
  std::optional<int64_t> status;
  std::optional<int64_t> fail_after_chunks;
  std::optional<int64_t> error_event_after_chunks;
  std::optional<int64_t> reset;
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> cached_tokens;
  std::optional<int64_t> cache_write_tokens;
  std::optional<int64_t> reasoning_tokens;
  std::optional<int64_t> completion_tokens;
  std::optional<int64_t> omit_usage;
  std::optional<int64_t> words;
  std::optional<int64_t> fail_first_n;
  std::optional<int64_t> ping_after_chunks;
  std::optional<int64_t> ping_interval_ms;
  std::optional<int64_t> huge_body_bytes;

  // Copies every knob that `top` sets over this one.
  void OverlayWith(const Knobs& top);
  Json ToJson() const;
};

// Names accepted by SetKnob / ParseKnobsJson, in documentation order.
const std::vector<std::string>& KnobNames();

// Sets one knob from its textual value ("1", "true", "250"). Returns false
// with *error set for an unknown name or a non-integer value.
bool SetKnob(Knobs* knobs, std::string_view name, std::string_view value, std::string* error);

// Parses a JSON object of knobs (numbers, numeric strings or booleans).
bool ParseKnobsJson(const Json& object, Knobs* knobs, std::string* error);

// Key/value pairs of every `[[fake k=v ...]]` directive in text, later
// directives overriding earlier ones.
std::map<std::string, std::string> ParseDirective(std::string_view text);

// Applies a directive to knobs, ignoring unknown keys or bad values so a typo
// in a prompt never turns into a failed request.
void ApplyDirective(const std::map<std::string, std::string>& directive, Knobs* knobs);

// The text with every directive removed and surrounding whitespace trimmed.
std::string StripDirectives(std::string_view text);

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_KNOBS_H_
