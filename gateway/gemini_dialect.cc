// GeminiDialect: generateContent bodies, SSE GenerateContentResponse chunks, Google errors.
#include "gateway/gemini_dialect.h"

#include <nlohmann/json.hpp>

#include "common/codecs/gemini_codec.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;

class GeminiStreamEncoder : public StreamEncoder {
 public:
  GeminiStreamEncoder(std::string id, std::string model) : enc_(std::move(id), std::move(model)) {}
  std::string Chunk(const v1::ChatChunk& chunk) override { return enc_.Chunk(chunk); }
  std::string Finish(const v1::Usage& usage) override { return enc_.Finish(usage); }
  std::string Error(const codecs::ApiError& err) override { return enc_.Error(err); }

 private:
  codecs::gemini::StreamEncoder enc_;
};

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

bool ParseGeminiModelPath(std::string_view path, std::string* model, std::string* action) {
  for (std::string_view prefix : {"/v1beta/models/", "/v1/models/"}) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = path.substr(prefix.size());
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    *model = std::string(rest.substr(0, colon));
    *action = std::string(rest.substr(colon + 1));
    return model->find('/') == std::string::npos;
  }
  return false;
}

std::string GeminiDialect::ApiKey(const HttpRequest& req) const {
  auto it = req.find("x-goog-api-key");
  if (it != req.end()) return std::string(it->value());
  return QueryParam(std::string_view(req.target().data(), req.target().size()), "key");
}

std::optional<codecs::ApiError> GeminiDialect::Decode(const HttpRequest& req, v1::ChatRequest* out) const {
  std::string_view target(req.target().data(), req.target().size());
  std::string model, action;
  if (!ParseGeminiModelPath(target.substr(0, target.find('?')), &model, &action) ||
      (action != "generateContent" && action != "streamGenerateContent")) {
    // The path only: the query may hold the caller's key (?key=).
    return codecs::ApiError{404, "not_found_error",
                            "Unknown Gemini method: " + std::string(target.substr(0, target.find('?'))), "", "NOT_FOUND"};
  }
  bool stream = action == "streamGenerateContent";
  if (stream && QueryParam(target, "alt") != "sse") {
    return codecs::InvalidField("alt", "streamGenerateContent is served as Server-Sent Events only: add ?alt=sse.");
  }
  return codecs::gemini::DecodeGenerateContentRequest(model, req.body(), stream, out);
}

std::string GeminiDialect::EncodeResponse(const v1::ChatResponse& res) const {
  return Dump(codecs::gemini::EncodeGenerateContentResponse(res));
}

HttpResponse GeminiDialect::Error(const codecs::ApiError& err) const {
  HttpResponse res{static_cast<http::status>(err.http_status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = Dump(codecs::gemini::EncodeError(err));
  return res;
}

std::string GeminiDialect::EncodeModels(const std::vector<std::string>& models) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : models) {
    list.push_back({{"name", "models/" + m},
                    {"displayName", m},
                    {"supportedGenerationMethods", {"generateContent", "streamGenerateContent"}}});
  }
  return Dump({{"models", list}});
}

std::unique_ptr<StreamEncoder> GeminiDialect::NewStreamEncoder(const v1::ChatRequest& req, const std::string& id,
                                                               int64_t) const {
  return std::make_unique<GeminiStreamEncoder>(id, req.model());
}

}  // namespace routeall::gateway
