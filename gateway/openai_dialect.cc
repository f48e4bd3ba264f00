// OpenAIDialect: chat.completion bodies, chat.completion.chunk SSE, {"error":{...}} errors.
#include "gateway/openai_dialect.h"

#include "common/codecs/openai_codec.h"
#include "gateway/sse.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;

class OpenAIStreamEncoder : public StreamEncoder {
 public:
  OpenAIStreamEncoder(std::string id, std::string model, int64_t created, bool include_usage)
      : id_(std::move(id)), model_(std::move(model)), created_(created), include_usage_(include_usage) {}

  std::string Chunk(const v1::ChatChunk& chunk) override {
    if (chunk.deltas_size() == 0) return "";  // a usage-only chunk: sent once, at Finish
    v1::ChatChunk out = chunk;
    out.clear_usage();
    out.set_id(id_);
    out.set_model(model_);
    out.set_created_unix(created_);
    if (!sent_role_) {
      // OpenAI's first delta always names the role; converted upstreams may not send one.
      for (auto& d : *out.mutable_deltas()) {
        if (d.role() == v1::ROLE_UNSPECIFIED) d.set_role(v1::ROLE_ASSISTANT);
      }
      sent_role_ = true;
    } else {
      for (auto& d : *out.mutable_deltas()) d.clear_role();
    }
    return FormatSseEvent("", codecs::openai::EncodeChatChunk(out, include_usage_).dump());
  }

  std::string Finish(const v1::Usage& usage) override {
    std::string out;
    if (include_usage_) {
      v1::ChatChunk u;
      u.set_id(id_);
      u.set_model(model_);
      u.set_created_unix(created_);
      *u.mutable_usage() = usage;
      out = FormatSseEvent("", codecs::openai::EncodeChatChunk(u, true).dump());
    }
    return out + FormatSseEvent("", "[DONE]");
  }

  std::string Error(const codecs::ApiError& err) override {
    return FormatSseEvent("", codecs::openai::EncodeError(err).dump());
  }

 private:
  std::string id_, model_;
  int64_t created_;
  bool include_usage_;
  bool sent_role_ = false;
};

}  // namespace

std::string BearerToken(const HttpRequest& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return "";
  std::string_view v(it->value().data(), it->value().size());
  if (v.size() < 7 || !(v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) return "";
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

HttpResponse OpenAIErrorResponse(const codecs::ApiError& err) {
  HttpResponse res{static_cast<http::status>(err.http_status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = codecs::openai::EncodeError(err).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

std::string OpenAIDialect::ApiKey(const HttpRequest& req) const { return BearerToken(req); }

std::optional<codecs::ApiError> OpenAIDialect::Decode(const HttpRequest& req, v1::ChatRequest* out) const {
  return codecs::openai::DecodeChatRequest(req.body(), out);
}

std::string OpenAIDialect::EncodeResponse(const v1::ChatResponse& res) const {
  return codecs::openai::EncodeChatResponse(res).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string OpenAIDialect::EncodeModels(const std::vector<std::string>& models) const {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& m : models) data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "routeall"}});
  return nlohmann::json{{"object", "list"}, {"data", data}}.dump();
}

HttpResponse OpenAIDialect::Error(const codecs::ApiError& err) const { return OpenAIErrorResponse(err); }

std::unique_ptr<StreamEncoder> OpenAIDialect::NewStreamEncoder(const v1::ChatRequest& req, const std::string& id,
                                                               int64_t created) const {
  return std::make_unique<OpenAIStreamEncoder>(id, req.model(), created, req.include_usage());
}

}  // namespace routeall::gateway
