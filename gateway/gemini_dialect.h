// The Google Gemini dialect of the public API (POST /v1beta/models/{model}:generateContent
// and :streamGenerateContent?alt=sse).
#pragma once

#include "gateway/dialect.h"

namespace routeall::gateway {

class GeminiDialect : public PublicDialect {
 public:
  // PublicDialect
  const char* Name() const override { return "gemini"; }
  // x-goog-api-key, or the ?key= query parameter.
  std::string ApiKey(const HttpRequest& req) const override;
  // The model and the streaming mode come from the path.
  std::optional<codecs::ApiError> Decode(const HttpRequest& req, llm::v1::ChatRequest* out) const override;
  std::string EncodeResponse(const llm::v1::ChatResponse& res) const override;
  HttpResponse Error(const codecs::ApiError& err) const override;
  std::string ResponseId(const std::string& request_id) const override { return request_id; }
  std::string EncodeModels(const std::vector<std::string>& models) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const llm::v1::ChatRequest& req, const std::string& id,
                                                  int64_t created) const override;
};

// Splits "/v1beta/models/{model}:{action}" (or /v1/...) into model and action; false when
// the path is not of that form.
bool ParseGeminiModelPath(std::string_view path, std::string* model, std::string* action);

}  // namespace routeall::gateway
