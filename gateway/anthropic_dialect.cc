// AnthropicDialect: Messages bodies, the message_start..message_stop event stream and
// {"type":"error","error":{...}} errors.
#include "gateway/anthropic_dialect.h"

#include <nlohmann/json.hpp>

#include "common/codecs/anthropic_codec.h"
#include "gateway/openai_dialect.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;

class AnthropicStreamEncoder : public StreamEncoder {
 public:
  AnthropicStreamEncoder(std::string id, std::string model) : enc_(std::move(id), std::move(model)) {}
  std::string Chunk(const v1::ChatChunk& chunk) override { return enc_.Chunk(chunk); }
  std::string Finish(const v1::Usage& usage) override { return enc_.Finish(usage); }
  std::string Error(const codecs::ApiError& err) override { return enc_.Error(err); }

 private:
  codecs::anthropic::StreamEncoder enc_;
};

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

std::string AnthropicDialect::ApiKey(const HttpRequest& req) const {
  auto it = req.find("x-api-key");
  if (it != req.end()) return std::string(it->value());
  return BearerToken(req);
}

std::optional<codecs::ApiError> AnthropicDialect::Decode(const HttpRequest& req, v1::ChatRequest* out) const {
  return codecs::anthropic::DecodeMessagesRequest(req.body(), out);
}

std::string AnthropicDialect::EncodeResponse(const v1::ChatResponse& res) const {
  return Dump(codecs::anthropic::EncodeMessagesResponse(res));
}

HttpResponse AnthropicDialect::Error(const codecs::ApiError& err) const {
  HttpResponse res{static_cast<http::status>(err.http_status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = Dump(codecs::anthropic::EncodeError(err));
  return res;
}

std::string AnthropicDialect::EncodeModels(const std::vector<std::string>& models) const {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& m : models) {
    data.push_back({{"type", "model"}, {"id", m}, {"display_name", m}, {"created_at", "1970-01-01T00:00:00Z"}});
  }
  nlohmann::json body = {{"data", data}, {"has_more", false}};
  body["first_id"] = models.empty() ? nlohmann::json(nullptr) : nlohmann::json(models.front());
  body["last_id"] = models.empty() ? nlohmann::json(nullptr) : nlohmann::json(models.back());
  return Dump(body);
}

std::unique_ptr<StreamEncoder> AnthropicDialect::NewStreamEncoder(const v1::ChatRequest& req, const std::string& id,
                                                                  int64_t) const {
  return std::make_unique<AnthropicStreamEncoder>(id, req.model());
}

}  // namespace routeall::gateway
