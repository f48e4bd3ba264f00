// AnthropicProvider: canonical -> Messages JSON; message_start..message_stop -> chunks.
#include "services/adapter/anthropic_provider.h"

#include <nlohmann/json.hpp>

#include "common/codecs/anthropic_codec.h"

namespace routeall::adapter {
namespace {

class AnthropicStreamDecoder : public UpstreamStreamDecoder {
 public:
  std::optional<codecs::ApiError> Feed(const std::string& event, const std::string& data,
                                       std::vector<llm::v1::ChatChunk>* out) override {
    return decoder_.Feed(event, data, out);
  }
  bool Done() const override { return decoder_.Done(); }

 private:
  codecs::anthropic::StreamDecoder decoder_;
};

}  // namespace

http::HttpClientRequest AnthropicProvider::BuildRequest(const v1::GenerateRequest& req) const {
  http::HttpClientRequest out;
  out.url = JoinUrl(req.upstream().base_url(), "/v1/messages");
  out.headers.push_back({"Content-Type", "application/json"});
  out.headers.push_back({"Accept-Encoding", "identity"});
  out.headers.push_back({"anthropic-version", "2023-06-01"});
  if (!req.upstream().api_key().empty()) out.headers.push_back({"x-api-key", req.upstream().api_key()});
  if (req.request().stream()) out.headers.push_back({"Accept", "text/event-stream"});
  out.body = codecs::anthropic::EncodeMessagesRequest(req.request(), req.upstream().upstream_model())
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ApplyTimeouts(req, &out);
  return out;
}

std::optional<codecs::ApiError> AnthropicProvider::DecodeResponse(std::string_view body,
                                                                  llm::v1::ChatResponse* out) const {
  return codecs::anthropic::DecodeMessagesResponse(body, out);
}

v1::UpstreamError AnthropicProvider::HttpError(int status, const std::string& body) const {
  // {"type":"error","error":{"type":"overloaded_error","message":"..."}}; 529 is "overloaded".
  return UpstreamErrorFromEnvelope(status, body, {"type"});
}

std::unique_ptr<UpstreamStreamDecoder> AnthropicProvider::NewStreamDecoder() const {
  return std::make_unique<AnthropicStreamDecoder>();
}

}  // namespace routeall::adapter
