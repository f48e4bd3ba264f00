// OpenAI Chat Completions wire format <-> the canonical routeall.llm.v1 messages. Pure
// functions, no I/O: the public side (decode requests, encode responses and chunks) and the
// upstream side (encode requests, decode responses and chunks) live together so every
// mapping has its inverse beside it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/codecs/api_error.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall::codecs::openai {

// Client -> canonical. Validates every field it knows (400 naming the field) and keeps
// unknown top-level fields in passthrough_json.
std::optional<ApiError> DecodeChatRequest(std::string_view body, llm::v1::ChatRequest* out);

// Canonical -> upstream request body. Passthrough fields are merged when the client spoke
// OpenAI too. When streaming, always asks for usage (stream_options.include_usage).
nlohmann::json EncodeChatRequest(const llm::v1::ChatRequest& req, const std::string& upstream_model);

// Upstream response body -> canonical.
std::optional<ApiError> DecodeChatResponse(std::string_view body, llm::v1::ChatResponse* out);

// Canonical -> client response body.
nlohmann::json EncodeChatResponse(const llm::v1::ChatResponse& res);

// One upstream "data:" payload (not "[DONE]") -> canonical chunk.
std::optional<ApiError> DecodeChatChunk(std::string_view data, llm::v1::ChatChunk* out);

// Canonical chunk -> the client's "data:" payload. include_usage mirrors the client's
// stream_options: usage goes out only on a chunk of its own, with empty choices.
nlohmann::json EncodeChatChunk(const llm::v1::ChatChunk& chunk, bool include_usage);

// {"error":{"message","type","param","code"}}.
nlohmann::json EncodeError(const ApiError& err);

// Usage in OpenAI's shape (prompt includes cached; completion includes reasoning).
nlohmann::json EncodeUsage(const llm::v1::Usage& u);
void DecodeUsage(const nlohmann::json& j, llm::v1::Usage* out);

std::string FinishReasonName(llm::v1::FinishReason r);
llm::v1::FinishReason ParseFinishReason(std::string_view s);

}  // namespace routeall::codecs::openai
