// gmock of HttpClient so the adapter's failover and streaming logic can be tested without sockets.
#pragma once

#include <functional>
#include <string_view>

#include "common/http/http_client.h"
#include "gmock/gmock.h"

namespace routeall::http {

class MockHttpClient : public HttpClient {
 public:
  MOCK_METHOD(absl::StatusOr<HttpClientResponse>, Send, (const HttpClientRequest& req), (override));
  MOCK_METHOD(absl::Status, Stream,
              (const HttpClientRequest& req, (const std::function<bool(const HttpClientResponseHead&)>& on_head),
               (const std::function<bool(std::string_view)>& on_data)),
              (override));
};

}  // namespace routeall::http
