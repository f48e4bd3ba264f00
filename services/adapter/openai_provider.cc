// OpenAIProvider: canonical -> OpenAI JSON, "data:" chunks and [DONE] -> canonical chunks.
#include "services/adapter/openai_provider.h"

#include <nlohmann/json.hpp>

#include "common/codecs/openai_codec.h"

namespace routeall::adapter {
namespace {

class OpenAIStreamDecoder : public UpstreamStreamDecoder {
 public:
  std::optional<codecs::ApiError> Feed(const std::string&, const std::string& data,
                                       std::vector<llm::v1::ChatChunk>* out) override {
    if (data == "[DONE]") {
      done_ = true;
      return std::nullopt;
    }
    llm::v1::ChatChunk chunk;
    if (auto err = codecs::openai::DecodeChatChunk(data, &chunk)) return err;
    // Some compatible servers never send [DONE]: a finish reason or the usage chunk ends it too.
    if (chunk.has_usage()) done_ = true;
    for (const auto& d : chunk.deltas()) {
      if (d.finish_reason() != llm::v1::FINISH_REASON_UNSPECIFIED) done_ = true;
    }
    out->push_back(std::move(chunk));
    return std::nullopt;
  }
  bool Done() const override { return done_; }

 private:
  bool done_ = false;
};

}  // namespace

http::HttpClientRequest OpenAIProvider::BuildRequest(const v1::GenerateRequest& req) const {
  http::HttpClientRequest out;
  out.url = JoinUrl(req.upstream().base_url(), "/v1/chat/completions");
  out.headers.push_back({"Content-Type", "application/json"});
  out.headers.push_back({"Accept-Encoding", "identity"});
  if (!req.upstream().api_key().empty()) out.headers.push_back({"Authorization", "Bearer " + req.upstream().api_key()});
  if (req.request().stream()) out.headers.push_back({"Accept", "text/event-stream"});
  out.body = codecs::openai::EncodeChatRequest(req.request(), req.upstream().upstream_model())
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ApplyTimeouts(req, &out);
  return out;
}

std::optional<codecs::ApiError> OpenAIProvider::DecodeResponse(std::string_view body, llm::v1::ChatResponse* out) const {
  return codecs::openai::DecodeChatResponse(body, out);
}

v1::UpstreamError OpenAIProvider::HttpError(int status, const std::string& body) const {
  return UpstreamErrorFromEnvelope(status, body, {"code", "type"});
}

std::unique_ptr<UpstreamStreamDecoder> OpenAIProvider::NewStreamDecoder() const {
  return std::make_unique<OpenAIStreamDecoder>();
}

}  // namespace routeall::adapter
