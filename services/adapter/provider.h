// One upstream provider's wire protocol behind one interface (a unary and a streaming call),
// so the adapter service and its tests treat OpenAI, Anthropic and Gemini alike.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/codecs/api_error.h"
#include "common/http/http_client.h"
#include "routeall/adapter/v1/adapter_service.pb.h"

namespace routeall::adapter {

// Receives stream events in order; returns false when nobody reads them any more.
using StreamSink = std::function<bool(v1::GenerateStreamResponse&&)>;
// True once the caller no longer wants the answer (polled while waiting on the upstream).
using CancelCheck = std::function<bool()>;

// Bounds on what an upstream may send; per-channel overrides travel in Upstream.
struct ProviderLimits {
  // A unary answer's body (the transport refuses beyond it).
  size_t max_body_bytes = 32u << 20;
  // A stream that yields no content for this long is cut (pings/comments keep bytes flowing
  // but do not count as progress).
  std::chrono::milliseconds stream_idle_timeout{300000};
  // Nothing streams longer than this.
  std::chrono::milliseconds stream_total_timeout{1800000};
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Never fails outside the response: upstream and transport errors come back in-band as
  // GenerateResponse.error so the gateway can fail over.
  virtual v1::GenerateResponse Generate(const v1::GenerateRequest& req, const CancelCheck& cancelled = nullptr) = 0;
  // Emits chunks, then at most one error event (which ends the stream).
  virtual void GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink,
                              const CancelCheck& cancelled = nullptr) = 0;
};

// Turns one upstream SSE stream into canonical chunks (one instance per stream).
class UpstreamStreamDecoder {
 public:
  virtual ~UpstreamStreamDecoder() = default;
  // One SSE event (event name, data) -> chunks, or an in-stream error.
  virtual std::optional<codecs::ApiError> Feed(const std::string& event, const std::string& data,
                                               std::vector<llm::v1::ChatChunk>* out) = 0;
  // The upstream said the answer is complete ([DONE], message_stop, a finish reason).
  virtual bool Done() const = 0;
  // Usage the stream reported but no emitted chunk carried yet (emitted at the end).
  virtual std::optional<llm::v1::Usage> PendingUsage() const { return std::nullopt; }
};

// The HTTP+SSE machinery every provider shares; a provider supplies only its wire format.
class HttpProvider : public Provider {
 public:
  explicit HttpProvider(http::HttpClient& client) : client_(client) {}

  void set_limits(const ProviderLimits& limits) { limits_ = limits; }

  // Provider
  v1::GenerateResponse Generate(const v1::GenerateRequest& req, const CancelCheck& cancelled = nullptr) final;
  void GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink,
                      const CancelCheck& cancelled = nullptr) final;

 protected:
  // URL, headers and body for req (stream or not, from req.request().stream()).
  virtual http::HttpClientRequest BuildRequest(const v1::GenerateRequest& req) const = 0;
  virtual std::optional<codecs::ApiError> DecodeResponse(std::string_view body, llm::v1::ChatResponse* out) const = 0;
  // A non-2xx answer -> UpstreamError (message and type from the provider's envelope).
  virtual v1::UpstreamError HttpError(int status, const std::string& body) const = 0;
  virtual std::unique_ptr<UpstreamStreamDecoder> NewStreamDecoder() const = 0;

  // Timeouts from the channel: first byte and idle gaps, and the whole call when unary.
  static void ApplyTimeouts(const v1::GenerateRequest& req, http::HttpClientRequest* out);

 private:
  http::HttpClient& client_;
  ProviderLimits limits_;
};

// Which upstream HTTP statuses are worth another channel: 408/429/5xx/529 are the channel's
// trouble; 401/403 mean the channel's own credential is bad, which another channel may not
// share; other 4xx are the request's fault.
bool RetryableHttpStatus(int status);

// Joins a channel base URL and an API path, tolerating a trailing "/" or a base that
// already ends in the path's version prefix ("https://api.openai.com/v1" + "/v1/chat/completions").
std::string JoinUrl(const std::string& base, const std::string& path);

// A transport failure (no HTTP answer) -> UpstreamError.
v1::UpstreamError TransportError(const absl::Status& st);

// An UpstreamError from a provider's JSON error body {"error":{"message", <type key>}}; the
// type is the first of type_keys present as a string.
v1::UpstreamError UpstreamErrorFromEnvelope(int status, const std::string& body,
                                            std::initializer_list<const char*> type_keys);

// An UpstreamError with status, type and message (retryable from the status).
v1::UpstreamError MakeUpstreamError(int status, std::string type, std::string message, std::string body = "");

}  // namespace routeall::adapter
