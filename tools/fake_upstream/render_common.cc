// Dialect-dispatching error rendering shared by the request router.
#include <string>

#include "render.h"

namespace routeall::fake_upstream {

std::string RenderError(Dialect dialect, int status, const std::string& message) {
  switch (dialect) {
    case Dialect::kAnthropic:
      return RenderAnthropicError(status, message);
    case Dialect::kGemini:
      return RenderGeminiError(status, message);
    case Dialect::kOpenAi:
      break;
  }
  return RenderOpenAiError(status, message);
}

std::string DefaultErrorMessage(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Invalid API key";
    case 403:
      return "Permission denied";
    case 404:
      return "Not found";
    case 429:
      return "Rate limit exceeded";
    case 500:
      return "Internal server error";
    case 502:
      return "Bad gateway";
    case 503:
      return "Service unavailable";
    case 504:
      return "Gateway timeout";
    case 529:
      return "Overloaded";
    default:
      return "Injected error (status " + std::to_string(status) + ")";
  }
}

}  // namespace routeall::fake_upstream
