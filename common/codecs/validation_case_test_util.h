// One malformed-request case for the codecs' parameterized validation tests (shared by the
// OpenAI, Anthropic and Gemini codec tests).
#pragma once

#include <functional>
#include <ostream>

#include <nlohmann/json.hpp>

namespace routeall::codecs {

struct ValidationCase {
  const char* name;
  // Breaks a valid request body.
  std::function<void(nlohmann::json&)> mutate;
  // The field the 400 must name.
  const char* param;
};

// Test names in gtest output instead of byte dumps.
inline void PrintTo(const ValidationCase& c, std::ostream* os) { *os << c.name; }

}  // namespace routeall::codecs
