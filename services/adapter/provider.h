// One upstream provider's wire protocol behind one interface (a unary and a streaming call),
// so the adapter service and its tests treat OpenAI, Anthropic and Gemini alike.
#pragma once

#include <functional>
#include <string>

#include "routeall/adapter/v1/adapter_service.pb.h"

namespace routeall::adapter {

// Receives stream events in order; returns false when nobody reads them any more.
using StreamSink = std::function<bool(v1::GenerateStreamResponse&&)>;

class Provider {
 public:
  virtual ~Provider() = default;
  // Never fails outside the response: upstream and transport errors come back in-band as
  // GenerateResponse.error so the gateway can fail over.
  virtual v1::GenerateResponse Generate(const v1::GenerateRequest& req) = 0;
  // Emits chunks, then at most one error event (which ends the stream).
  virtual void GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink) = 0;
};

// Classification shared by every provider: which upstream HTTP statuses are worth another
// channel. 429/5xx/529/408 are the channel's trouble; 401/403 mean the channel's own
// credential is bad, which another channel may not share; other 4xx are the request's fault.
bool RetryableHttpStatus(int status);

// Joins a channel base URL and an API path, tolerating a trailing "/" or a base that
// already ends in the path's version prefix ("https://api.openai.com/v1" + "/v1/chat/completions").
std::string JoinUrl(const std::string& base, const std::string& path);

}  // namespace routeall::adapter
