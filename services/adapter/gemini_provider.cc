// GeminiProvider: canonical -> generateContent JSON (model in the URL); SSE payloads -> chunks.
#include "services/adapter/gemini_provider.h"

#include <nlohmann/json.hpp>

#include "common/codecs/gemini_codec.h"

namespace routeall::adapter {
namespace {

class GeminiStreamDecoder : public UpstreamStreamDecoder {
 public:
  std::optional<codecs::ApiError> Feed(const std::string&, const std::string& data,
                                       std::vector<llm::v1::ChatChunk>* out) override {
    size_t before = out->size();
    auto err = decoder_.Feed(data, out);
    for (size_t i = before; i < out->size(); ++i) {
      if ((*out)[i].has_usage()) usage_sent_ = true;
    }
    return err;
  }
  bool Done() const override { return decoder_.Done(); }
  std::optional<llm::v1::Usage> PendingUsage() const override {
    return usage_sent_ ? std::nullopt : decoder_.FinalUsage();
  }

 private:
  codecs::gemini::StreamDecoder decoder_;
  bool usage_sent_ = false;
};

}  // namespace

http::HttpClientRequest GeminiProvider::BuildRequest(const v1::GenerateRequest& req) const {
  http::HttpClientRequest out;
  const std::string& model =
      req.upstream().upstream_model().empty() ? req.request().model() : req.upstream().upstream_model();
  out.url = JoinUrl(req.upstream().base_url(), "/v1beta/models/" + model +
                                                   (req.request().stream() ? ":streamGenerateContent?alt=sse"
                                                                           : ":generateContent"));
  out.headers.push_back({"Content-Type", "application/json"});
  out.headers.push_back({"Accept-Encoding", "identity"});
  if (!req.upstream().api_key().empty()) out.headers.push_back({"x-goog-api-key", req.upstream().api_key()});
  out.body = codecs::gemini::EncodeGenerateContentRequest(req.request())
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ApplyTimeouts(req, &out);
  return out;
}

std::optional<codecs::ApiError> GeminiProvider::DecodeResponse(std::string_view body,
                                                               llm::v1::ChatResponse* out) const {
  return codecs::gemini::DecodeGenerateContentResponse(body, out);
}

v1::UpstreamError GeminiProvider::HttpError(int status, const std::string& body) const {
  // {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}
  return UpstreamErrorFromEnvelope(status, body, {"status"});
}

std::unique_ptr<UpstreamStreamDecoder> GeminiProvider::NewStreamDecoder() const {
  return std::make_unique<GeminiStreamDecoder>();
}

}  // namespace routeall::adapter
