// The Anthropic Messages dialect of the public API (POST /v1/messages).
#pragma once

#include "gateway/dialect.h"

namespace routeall::gateway {

class AnthropicDialect : public PublicDialect {
 public:
  // PublicDialect
  const char* Name() const override { return "anthropic"; }
  // x-api-key, or a Bearer token (the SDK's auth_token).
  std::string ApiKey(const HttpRequest& req) const override;
  std::optional<codecs::ApiError> Decode(const HttpRequest& req, llm::v1::ChatRequest* out) const override;
  std::string EncodeResponse(const llm::v1::ChatResponse& res) const override;
  HttpResponse Error(const codecs::ApiError& err) const override;
  std::string ResponseId(const std::string& request_id) const override { return "msg_" + request_id; }
  std::string EncodeModels(const std::vector<std::string>& models) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const llm::v1::ChatRequest& req, const std::string& id,
                                                  int64_t created) const override;
};

}  // namespace routeall::gateway
