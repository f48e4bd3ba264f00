// JsonDepthWithin / ParseBounded: the depth pre-check every JSON entry point goes through.
#include "common/codecs/json_limits.h"

#include <string>

namespace routeall::codecs {

bool JsonDepthWithin(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character never ends the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limit) return false;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return true;
}

nlohmann::json ParseBounded(std::string_view text, bool* too_deep) {
  if (!JsonDepthWithin(text)) {
    if (too_deep != nullptr) *too_deep = true;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

ApiError TooDeepError() {
  return ApiError{400, "invalid_request_error",
                  "The request body nests JSON arrays/objects more than " + std::to_string(kMaxJsonDepth) +
                      " levels deep, beyond the limit of this API.",
                  "", "json_too_deep"};
}

}  // namespace routeall::codecs
