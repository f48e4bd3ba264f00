// Renders Anthropic Messages bodies, the message_start..message_stop SSE sequence and errors.
#include <string>

#include "render.h"

namespace routeall::fake_upstream {
namespace {

// base64("fake-signature"): clients only need an opaque, stable string.
constexpr char kThinkingSignature[] = "ZmFrZS1zaWduYXR1cmU=";

std::string MessageId(const RenderContext& ctx) { return "msg_fake" + std::to_string(ctx.seq); }
std::string ToolUseId(const RenderContext& ctx) { return "toolu_fake" + std::to_string(ctx.seq); }

const char* StopReason(Finish finish) {
  switch (finish) {
    case Finish::kLength:
      return "max_tokens";
    case Finish::kToolCall:
      return "tool_use";
    case Finish::kStopSequence:
      return "stop_sequence";
    case Finish::kStop:
      return "end_turn";
  }
  return "end_turn";
}

Json StopSequence(const ReplyPlan& plan) {
  if (plan.finish == Finish::kStopSequence) return plan.matched_stop;
  return nullptr;
}

std::string Event(const std::string& type, const Json& data) {
  return "event: " + type + "\ndata: " + DumpJson(data) + "\n\n";
}

std::string JoinAll(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

}  // namespace

Json AnthropicUsage(const Usage& usage) {
  Json out = Json::object();
  // Anthropic's input_tokens excludes both cache reads and cache writes.
  out["input_tokens"] = std::max<int64_t>(0, usage.prompt - usage.cached - usage.cache_write);
  out["cache_creation_input_tokens"] = usage.cache_write;
  out["cache_read_input_tokens"] = usage.cached;
  out["output_tokens"] = usage.output + usage.reasoning;
  return out;
}

std::string RenderAnthropicMessage(const ChatRequest& request, const ReplyPlan& plan,
                                   const RenderContext& ctx) {
  Json content = Json::array();
  if (!plan.thinking_pieces.empty()) {
    content.push_back(Json{{"type", "thinking"},
                           {"thinking", JoinAll(plan.thinking_pieces)},
                           {"signature", kThinkingSignature}});
  }
  if (plan.tool_call) {
    content.push_back(Json{{"type", "tool_use"},
                           {"id", ToolUseId(ctx)},
                           {"name", plan.tool_call->name},
                           {"input", plan.tool_call->arguments}});
  } else {
    content.push_back(Json{{"type", "text"}, {"text", plan.text}});
  }
  Json body = Json::object();
  body["id"] = MessageId(ctx);
  body["type"] = "message";
  body["role"] = "assistant";
  body["model"] = request.model;
  body["content"] = std::move(content);
  body["stop_reason"] = StopReason(plan.finish);
  body["stop_sequence"] = StopSequence(plan);
  if (!plan.omit_usage) body["usage"] = AnthropicUsage(plan.usage);
  return DumpJson(body);
}

std::vector<StreamEvent> RenderAnthropicStream(const ChatRequest& request, const ReplyPlan& plan,
                                               const RenderContext& ctx) {
  std::vector<StreamEvent> events;
  Json message = Json::object();
  message["id"] = MessageId(ctx);
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = request.model;
  message["content"] = Json::array();
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  if (!plan.omit_usage) {
    Json usage = AnthropicUsage(plan.usage);
    usage["output_tokens"] = 1;  // Anthropic reports a placeholder 1 at start
    message["usage"] = usage;
  }
  events.push_back({Event("message_start", Json{{"type", "message_start"}, {"message", message}}), false});

  int index = 0;
  bool pinged = false;
  auto start_block = [&](const Json& block) {
    events.push_back({Event("content_block_start", Json{{"type", "content_block_start"},
                                                        {"index", index},
                                                        {"content_block", block}}),
                      false});
    // The real API sends a single ping right after the first block opens.
    if (!pinged) {
      events.push_back({"event: ping\ndata: {\"type\": \"ping\"}\n\n", false});
      pinged = true;
    }
  };
  auto delta = [&](const Json& d, bool content) {
    events.push_back(
        {Event("content_block_delta", Json{{"type", "content_block_delta"}, {"index", index}, {"delta", d}}),
         content});
  };
  auto stop_block = [&] {
    events.push_back({Event("content_block_stop", Json{{"type", "content_block_stop"}, {"index", index}}), false});
    ++index;
  };

  if (!plan.thinking_pieces.empty()) {
    start_block(Json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
    for (const auto& piece : plan.thinking_pieces) {
      delta(Json{{"type", "thinking_delta"}, {"thinking", piece}}, true);
    }
    delta(Json{{"type", "signature_delta"}, {"signature", kThinkingSignature}}, false);
    stop_block();
  }
  if (plan.tool_call) {
    start_block(Json{{"type", "tool_use"},
                     {"id", ToolUseId(ctx)},
                     {"name", plan.tool_call->name},
                     {"input", Json::object()}});
    for (const auto& piece : ChunkUtf8(plan.tool_call->arguments_json, kArgumentPieceBytes)) {
      delta(Json{{"type", "input_json_delta"}, {"partial_json", piece}}, true);
    }
    stop_block();
  } else {
    start_block(Json{{"type", "text"}, {"text", ""}});
    for (const auto& piece : plan.pieces) delta(Json{{"type", "text_delta"}, {"text", piece}}, true);
    stop_block();
  }

  Json message_delta = Json::object();
  message_delta["type"] = "message_delta";
  message_delta["delta"] = {{"stop_reason", StopReason(plan.finish)}, {"stop_sequence", StopSequence(plan)}};
  if (!plan.omit_usage) {
    message_delta["usage"] = {{"output_tokens", plan.usage.output + plan.usage.reasoning}};
  }
  events.push_back({Event("message_delta", message_delta), false});
  events.push_back({Event("message_stop", Json{{"type", "message_stop"}}), false});
  return events;
}

std::string AnthropicErrorType(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string RenderAnthropicError(int status, const std::string& message) {
  Json error = {{"type", AnthropicErrorType(status)}, {"message", message}};
  return DumpJson(Json{{"type", "error"}, {"error", error}});
}

std::string RenderAnthropicStreamError(int status, const std::string& message) {
  Json error = {{"type", AnthropicErrorType(status)}, {"message", message}};
  return Event("error", Json{{"type", "error"}, {"error", error}});
}

std::string RenderAnthropicModels() {
  Json data = Json::array();
  for (const auto& [id, name] : {std::pair{"claude-sonnet-4-5", "Claude Sonnet 4.5"},
                                 std::pair{"claude-3-5-haiku-20241022", "Claude Haiku 3.5"}}) {
    data.push_back(Json{{"type", "model"},
                        {"id", id},
                        {"display_name", name},
                        {"created_at", "2025-01-01T00:00:00Z"}});
  }
  return DumpJson(Json{{"data", data},
                       {"has_more", false},
                       {"first_id", data.front()["id"]},
                       {"last_id", data.back()["id"]}});
}

}  // namespace routeall::fake_upstream
