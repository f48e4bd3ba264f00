// Bounds on untrusted JSON, enforced before a parser or any recursive walk sees the text: a
// copy, dump or destructor of a 1,000,000-deep array recurses once per level and would
// overflow the thread's stack.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/codecs/api_error.h"

namespace routeall::codecs {

// Deepest array/object nesting accepted anywhere (client bodies, upstream bodies and events,
// JSON carried inside strings such as tool arguments). Real requests stay far below it; JSON
// Schemas of tools are the deepest legitimate input and rarely pass 20.
inline constexpr int kMaxJsonDepth = 128;

// Whether text nests arrays/objects at most `limit` deep. A linear scan that stops at the
// first level beyond the limit; brackets inside strings do not count. Malformed text is not
// judged here (the parser rejects it).
bool JsonDepthWithin(std::string_view text, int limit = kMaxJsonDepth);

// json::parse without exceptions, bounded: a discarded value when text is not JSON or nests
// deeper than kMaxJsonDepth (then *too_deep is set when given).
nlohmann::json ParseBounded(std::string_view text, bool* too_deep = nullptr);

// The 400 a public route answers for a body beyond kMaxJsonDepth (each dialect renders it).
ApiError TooDeepError();

}  // namespace routeall::codecs
