// A public API dialect as the request lifecycle sees it: where the key is, how requests
// decode, how answers, stream events and errors encode. OpenAI, Anthropic and Gemini each
// implement it; ChatPipeline is written once against it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/codecs/api_error.h"
#include "gateway/http_server.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall::gateway {

// Turns canonical chunks into this dialect's SSE text. Stateful: some dialects frame a
// stream with start/stop events around content blocks.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  // SSE text for one canonical chunk (may be empty, or several events).
  virtual std::string Chunk(const llm::v1::ChatChunk& chunk) = 0;
  // SSE text that ends a complete stream; usage is what will be billed.
  virtual std::string Finish(const llm::v1::Usage& usage) = 0;
  // SSE text that ends a stream broken after its start.
  virtual std::string Error(const codecs::ApiError& err) = 0;
};

class PublicDialect {
 public:
  virtual ~PublicDialect() = default;
  // "openai", "anthropic" or "gemini" (metrics and logs).
  virtual const char* Name() const = 0;
  // The API key the client presented ("" when none).
  virtual std::string ApiKey(const HttpRequest& req) const = 0;
  virtual std::optional<codecs::ApiError> Decode(const HttpRequest& req, llm::v1::ChatRequest* out) const = 0;
  // Body of a complete (non-streamed) answer.
  virtual std::string EncodeResponse(const llm::v1::ChatResponse& res) const = 0;
  // A complete error response (status, headers, body) in this dialect.
  virtual HttpResponse Error(const codecs::ApiError& err) const = 0;
  // The answer's id in this dialect's style, derived from the request id.
  virtual std::string ResponseId(const std::string& request_id) const = 0;
  // Body of this dialect's model list.
  virtual std::string EncodeModels(const std::vector<std::string>& models) const = 0;
  // id and created identify the whole answer, whichever upstream ends up serving it.
  virtual std::unique_ptr<StreamEncoder> NewStreamEncoder(const llm::v1::ChatRequest& req, const std::string& id,
                                                          int64_t created) const = 0;
};

}  // namespace routeall::gateway
