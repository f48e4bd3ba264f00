// The OpenAI Chat Completions dialect of the public API.
#pragma once

#include "gateway/dialect.h"

namespace routeall::gateway {

class OpenAIDialect : public PublicDialect {
 public:
  // PublicDialect
  const char* Name() const override { return "openai"; }
  std::string ApiKey(const HttpRequest& req) const override;
  std::optional<codecs::ApiError> Decode(const HttpRequest& req, llm::v1::ChatRequest* out) const override;
  std::string EncodeResponse(const llm::v1::ChatResponse& res) const override;
  HttpResponse Error(const codecs::ApiError& err) const override;
  std::string ResponseId(const std::string& request_id) const override { return "chatcmpl-" + request_id; }
  std::string EncodeModels(const std::vector<std::string>& models) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const llm::v1::ChatRequest& req, const std::string& id,
                                                  int64_t created) const override;
};

// Renders an error in the OpenAI envelope; used for routes that have no other dialect.
HttpResponse OpenAIErrorResponse(const codecs::ApiError& err);

// The bearer token of an Authorization header ("" when absent or not Bearer).
std::string BearerToken(const HttpRequest& req);

}  // namespace routeall::gateway
