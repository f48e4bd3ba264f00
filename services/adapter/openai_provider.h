// OpenAI Chat Completions upstreams (OpenAI, DeepSeek, any OpenAI-compatible server).
#pragma once

#include "common/http/http_client.h"
#include "services/adapter/provider.h"

namespace routeall::adapter {

class OpenAIProvider : public Provider {
 public:
  explicit OpenAIProvider(http::HttpClient& client) : client_(client) {}

  // Provider
  v1::GenerateResponse Generate(const v1::GenerateRequest& req) override;
  void GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink) override;

 private:
  http::HttpClientRequest BuildRequest(const v1::GenerateRequest& req) const;
  http::HttpClient& client_;
};

// Turns a non-2xx upstream answer into an UpstreamError (message from the OpenAI envelope).
v1::UpstreamError OpenAIHttpError(int status, const std::string& body);
// Turns a transport failure into an UpstreamError.
v1::UpstreamError TransportError(const absl::Status& st);

}  // namespace routeall::adapter
