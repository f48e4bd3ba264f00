// A public-facing error, independent of dialect; each dialect codec renders it its own way.
#pragma once

#include <string>

namespace routeall::codecs {

struct ApiError {
  int http_status = 400;
  // OpenAI-style type: invalid_request_error, authentication_error, permission_error,
  // not_found_error, rate_limit_error, insufficient_balance, server_error, ...
  std::string type = "invalid_request_error";
  std::string message;
  // The offending request field ("temperature", "messages[1].content"), when one is to blame.
  std::string param;
  // A stable machine code ("invalid_value", "invalid_api_key", "model_not_found", ...).
  std::string code;
};

inline ApiError InvalidField(std::string param, std::string message, std::string code = "invalid_value") {
  return ApiError{400, "invalid_request_error", std::move(message), std::move(param), std::move(code)};
}

}  // namespace routeall::codecs
