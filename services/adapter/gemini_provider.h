// Google Gemini generateContent upstreams.
#pragma once

#include "services/adapter/provider.h"

namespace routeall::adapter {

class GeminiProvider : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;

 protected:
  // HttpProvider
  http::HttpClientRequest BuildRequest(const v1::GenerateRequest& req) const override;
  std::optional<codecs::ApiError> DecodeResponse(std::string_view body, llm::v1::ChatResponse* out) const override;
  v1::UpstreamError HttpError(int status, const std::string& body) const override;
  std::unique_ptr<UpstreamStreamDecoder> NewStreamDecoder() const override;
};

}  // namespace routeall::adapter
