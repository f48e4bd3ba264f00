// Blocking HTTP/1.1 + HTTPS client with pooled keep-alive connections and real timeouts, used
// by the adapter to call upstream LLM providers (unary and streamed).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace routeall::http {

struct HttpClientRequest {
  std::string method = "POST";
  std::string url;  // http://host:port/path?q or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{10000};      // DNS + TCP connect + TLS handshake
  std::chrono::milliseconds first_byte_timeout{600000};  // from sending until the whole head arrived
  std::chrono::milliseconds idle_timeout{300000};        // max gap between body reads
  std::chrono::milliseconds total_timeout{0};            // whole call including retry; 0 = none
  // Send() refuses a response body larger than this (RESOURCE_EXHAUSTED): an upstream's
  // answer is untrusted input too.
  size_t max_body_bytes = 32u << 20;
  // Polled while waiting on the upstream (every kCancelPollInterval): true aborts the call at
  // once (CANCELLED) instead of at the next byte the upstream happens to send.
  std::function<bool()> cancelled;
};

inline constexpr std::chrono::milliseconds kCancelPollInterval{50};

struct HttpClientResponseHead {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  // First header with this name (ASCII case-insensitive), or "" if absent.
  std::string Header(std::string_view name) const;
};

struct HttpClientResponse {
  HttpClientResponseHead head;
  std::string body;
};

// Error contract of HttpClient::Send / Stream (non-2xx statuses are NOT errors, they are responses):
//   INVALID_ARGUMENT   bad URL, method or header (CR/LF injection); nothing was sent.
//   UNAVAILABLE        DNS failure, connect refused/reset, TLS handshake/verification failure,
//                      connection closed or reset, malformed response.
//   DEADLINE_EXCEEDED  connect_timeout, first_byte_timeout, idle_timeout or total_timeout.
//   CANCELLED          on_head or on_data returned false, or req.cancelled() became true (the
//                      upstream connection was closed).
//   RESOURCE_EXHAUSTED Send(): the body exceeded req.max_body_bytes (connection closed).
// If ANY byte of the response had arrived before the failure, the status carries the payload
// kResponseStartedPayload and its message starts with "response started: ". Use ResponseStarted()
// to test it: only failures WITHOUT it are safe to retry on another upstream.
inline constexpr char kResponseStartedPayload[] = "type.routeall.dev/http.ResponseStarted";

// True iff `status` is an error raised after at least one response byte arrived (inline: the
// adapter's providers use it without linking the client).
inline bool ResponseStarted(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kResponseStartedPayload).has_value();
}

// True iff `status` is an UNAVAILABLE or DEADLINE_EXCEEDED error raised before any response
// byte arrived: the request can be sent again elsewhere.
bool RetryableBeforeResponse(const absl::Status& status);

// Interface so the adapter's failover logic can be tested with MockHttpClient.
// Implementations are thread-safe: many threads may call Send/Stream at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends the request and reads the whole response body.
  virtual absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& req) = 0;
  // Streaming: on_head once (return false to abort), then on_data for each piece of the
  // (de-chunked) body as it arrives (return false to abort, e.g. the client went away; the
  // upstream connection is then closed at once). Both run on the calling thread.
  // Returns OK when the body ended normally.
  virtual absl::Status Stream(const HttpClientRequest& req,
                              const std::function<bool(const HttpClientResponseHead&)>& on_head,
                              const std::function<bool(std::string_view)>& on_data) = 0;
};

struct BeastHttpClientOptions {
  int max_idle_per_host = 64;
  std::chrono::seconds idle_keepalive{60};  // pooled connections idle longer are dropped
  bool verify_tls = true;
  std::string ca_file;  // empty = system default CA paths
  int io_threads = 2;
};

// Boost.Beast implementation: an internal io_context driven by io_threads threads runs the
// socket operations (so timeouts are real); the calling thread waits for each step and does
// the HTTP parsing itself. Connections are pooled per scheme+host+port.
class BeastHttpClient : public HttpClient {
 public:
  static absl::StatusOr<std::unique_ptr<BeastHttpClient>> Create(BeastHttpClientOptions options);
  ~BeastHttpClient() override;
  BeastHttpClient(const BeastHttpClient&) = delete;
  BeastHttpClient& operator=(const BeastHttpClient&) = delete;

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& req) override;
  absl::Status Stream(const HttpClientRequest& req,
                      const std::function<bool(const HttpClientResponseHead&)>& on_head,
                      const std::function<bool(std::string_view)>& on_data) override;

  // Number of idle pooled connections (all hosts); for tests and metrics.
  size_t IdleConnectionCount() const;

  struct Impl;

 private:
  explicit BeastHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace routeall::http
