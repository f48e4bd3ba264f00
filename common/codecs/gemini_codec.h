// Google Gemini generateContent / streamGenerateContent wire format <-> the canonical
// routeall.llm.v1 messages. Pure functions and small stream state machines, no I/O: the
// public side and the upstream side live together so every mapping has its inverse beside it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/codecs/api_error.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall::codecs::gemini {

// ---- Public side -------------------------------------------------------------------

// Client -> canonical. model comes from the URL path (models/{model}:generateContent),
// stream from the method (streamGenerateContent). Accepts camelCase and snake_case field
// names as Google's JSON mapping does. Errors name the field Google's way
// ("Invalid value at 'generation_config.temperature'"); param holds the same path.
// Function calls without ids get "call_<ordinal>"; each functionResponse without an id
// takes the id of the matching earlier call.
std::optional<ApiError> DecodeGenerateContentRequest(std::string_view model, std::string_view body, bool stream,
                                                     llm::v1::ChatRequest* out);

// Canonical -> client response body.
nlohmann::json EncodeGenerateContentResponse(const llm::v1::ChatResponse& res);

// Canonical chunks -> the client's SSE events ("data: {GenerateContentResponse}\r\n\r\n").
// Tool call fragments are held until the call's arguments are complete JSON: Gemini sends
// whole functionCall objects.
class StreamEncoder {
 public:
  explicit StreamEncoder(std::string id, std::string model);
  std::string Chunk(const llm::v1::ChatChunk& chunk);
  // The last event: finishReason and the full usageMetadata. reason UNSPECIFIED = the one
  // the chunks carried.
  std::string Finish(const llm::v1::Usage& usage, llm::v1::FinishReason reason = llm::v1::FINISH_REASON_UNSPECIFIED);
  std::string Error(const ApiError& err);

 private:
  struct PendingCall {
    std::string id, name, args;
    bool sent = false;
  };
  // Gemini parts for one candidate's delta; flush_all sends held calls even if incomplete.
  nlohmann::json Parts(const llm::v1::ChoiceDelta* d, int candidate, bool flush_all);
  nlohmann::json Envelope(nlohmann::json candidates) const;

  std::string id_;
  std::string model_;
  bool finished_ = false;
  std::map<std::pair<int, int>, PendingCall> calls_;  // by (candidate, tool call index)
  std::map<int, std::string> pending_signature_;      // by candidate
  std::map<int, bool> candidates_;                    // candidates seen (for Finish)
  bool any_tool_ = false;
  llm::v1::FinishReason seen_reason_ = llm::v1::FINISH_REASON_UNSPECIFIED;
};

// {"error":{"code","message","status"}}.
nlohmann::json EncodeError(const ApiError& err);
// INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED, ...
std::string StatusForHttp(int http_status);

// ---- Upstream side -----------------------------------------------------------------

// Canonical -> upstream request body (the model goes in the URL, not the body).
nlohmann::json EncodeGenerateContentRequest(const llm::v1::ChatRequest& req);

// Upstream response body (or {"error":...}) -> canonical.
std::optional<ApiError> DecodeGenerateContentResponse(std::string_view body, llm::v1::ChatResponse* out);

// Upstream SSE data payloads (each a GenerateContentResponse holding a delta) -> chunks.
class StreamDecoder {
 public:
  std::optional<ApiError> Feed(std::string_view data, std::vector<llm::v1::ChatChunk>* out);
  // A finishReason was seen.
  bool Done() const { return done_; }
  // The last usageMetadata seen (Gemini's last one is the complete one).
  std::optional<llm::v1::Usage> FinalUsage() const { return usage_; }

 private:
  std::optional<llm::v1::Usage> usage_;
  bool started_ = false;
  std::map<int, int> next_tool_;  // per candidate: tool calls seen so far
  std::map<int, bool> had_tool_;
  bool done_ = false;
};

// Usage in Gemini's shape: candidatesTokenCount EXCLUDES thoughtsTokenCount.
nlohmann::json EncodeUsage(const llm::v1::Usage& u);
void DecodeUsage(const nlohmann::json& j, llm::v1::Usage* out);

// STOP, MAX_TOKENS, SAFETY, OTHER ("" for UNSPECIFIED).
std::string FinishReasonName(llm::v1::FinishReason r);
// has_function_call: Gemini says STOP after calling functions.
llm::v1::FinishReason ParseFinishReason(std::string_view s, bool has_function_call);

}  // namespace routeall::codecs::gemini
