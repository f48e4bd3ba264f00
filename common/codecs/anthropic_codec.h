// Anthropic Messages API wire format <-> the canonical routeall.llm.v1 messages. Pure
// functions and small stream state machines, no I/O: the public side (decode requests,
// encode responses and SSE events) and the upstream side (encode requests, decode
// responses and SSE events) live together so every mapping has its inverse beside it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/codecs/api_error.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall::codecs::anthropic {

// ---- Public side -------------------------------------------------------------------

// Client -> canonical. Validates every field it knows (400 whose param and message name
// the field, "messages.1.content.0.type") and keeps unknown top-level fields, server
// tools and cache_control breakpoints in passthrough_json for an Anthropic upstream.
std::optional<ApiError> DecodeMessagesRequest(std::string_view body, llm::v1::ChatRequest* out);

// Canonical -> client response body (the first choice: Anthropic has no n).
nlohmann::json EncodeMessagesResponse(const llm::v1::ChatResponse& res);

// Canonical chunks -> the client's SSE events (message_start, ping, content blocks,
// message_delta, message_stop). One per stream.
class StreamEncoder {
 public:
  explicit StreamEncoder(std::string id, std::string model);

  // SSE text for one chunk: may be empty or several events.
  std::string Chunk(const llm::v1::ChatChunk& chunk);
  // Ends the stream. reason UNSPECIFIED (and an empty stop_sequence) mean "the one the
  // chunks carried". Usage is the complete, billed usage.
  std::string Finish(const llm::v1::Usage& usage,
                     llm::v1::FinishReason reason = llm::v1::FINISH_REASON_UNSPECIFIED,
                     const std::string& stop_sequence = "");
  // An error event for a stream broken after its start.
  std::string Error(const ApiError& err);

 private:
  enum class Block { kNone, kThinking, kText, kTool };
  std::string Start();
  std::string Open(Block kind, const nlohmann::json& content_block);
  std::string Close();
  std::string Delta(const nlohmann::json& delta);

  std::string id_;
  std::string model_;
  bool started_ = false;
  bool finished_ = false;
  Block open_ = Block::kNone;
  int open_index_ = -1;       // Anthropic content block index of the open block
  int open_tool_ = -1;        // canonical tool call index of the open tool_use block
  std::string open_tool_id_;  // its id, to notice a new call reusing the index
  int next_index_ = 0;
  bool any_tool_ = false;
  llm::v1::FinishReason seen_reason_ = llm::v1::FINISH_REASON_UNSPECIFIED;
  std::string seen_stop_sequence_;
};

// {"type":"error","error":{"type","message"}} with Anthropic's type for the status.
nlohmann::json EncodeError(const ApiError& err);
// invalid_request_error, authentication_error, ..., overloaded_error, api_error.
std::string ErrorTypeForStatus(int http_status);

// ---- Upstream side -----------------------------------------------------------------

// Canonical -> upstream request body (model = upstream_model, or req.model() if empty).
nlohmann::json EncodeMessagesRequest(const llm::v1::ChatRequest& req, const std::string& upstream_model);

// Upstream response body (or error body) -> canonical.
std::optional<ApiError> DecodeMessagesResponse(std::string_view body, llm::v1::ChatResponse* out);

// Upstream SSE events -> canonical chunks. One per stream.
class StreamDecoder {
 public:
  // One SSE event. event may be empty (the data's "type" decides). An `error` event
  // returns an ApiError whose code is Anthropic's error type ("overloaded_error").
  std::optional<ApiError> Feed(std::string_view event, std::string_view data, std::vector<llm::v1::ChatChunk>* out);
  // message_stop was seen.
  bool Done() const { return done_; }
  // The usage reported so far (complete once Done()); nullopt before message_start.
  std::optional<llm::v1::Usage> FinalUsage() const;

 private:
  enum class Block { kOther, kText, kThinking, kTool };
  llm::v1::ChatChunk NewChunk() const;

  std::string id_;
  std::string model_;
  bool have_usage_ = false;
  bool done_ = false;
  int64_t input_ = 0, cache_read_ = 0, cache_write_ = 0, output_ = 0, web_searches_ = 0;
  std::map<int64_t, Block> blocks_;
  std::map<int64_t, int> tool_ordinal_;
  int next_tool_ = 0;
};

// Usage in Anthropic's shape: input_tokens EXCLUDES cache reads and writes.
nlohmann::json EncodeUsage(const llm::v1::Usage& u);
void DecodeUsage(const nlohmann::json& j, llm::v1::Usage* out);

// end_turn, max_tokens, tool_use, stop_sequence, refusal ("" for UNSPECIFIED).
std::string FinishReasonName(llm::v1::FinishReason r);
llm::v1::FinishReason ParseStopReason(std::string_view s);

}  // namespace routeall::codecs::anthropic
