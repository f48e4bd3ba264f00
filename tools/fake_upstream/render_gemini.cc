// Renders Gemini GenerateContentResponse bodies, their SSE / JSON-array streams and errors.
#include <string>

#include "render.h"

namespace routeall::fake_upstream {
namespace {

std::string ResponseId(const RenderContext& ctx) { return "fakeresp" + std::to_string(ctx.seq); }

const char* FinishReason(Finish finish) {
  return finish == Finish::kLength ? "MAX_TOKENS" : "STOP";
}

Json Response(const ChatRequest& request, const RenderContext& ctx, Json parts, const char* finish,
              Json usage) {
  Json candidate = Json::object();
  candidate["content"] = {{"parts", std::move(parts)}, {"role", "model"}};
  if (finish != nullptr) candidate["finishReason"] = finish;
  candidate["index"] = 0;
  Json out = Json::object();
  out["candidates"] = Json::array({candidate});
  if (!usage.is_null()) out["usageMetadata"] = std::move(usage);
  out["modelVersion"] = request.model;
  out["responseId"] = ResponseId(ctx);
  return out;
}

Json FunctionCallPart(const ToolCall& call) {
  return Json{{"functionCall", {{"name", call.name}, {"args", call.arguments}}}};
}

Json ThoughtPart(const std::string& text) { return Json{{"text", text}, {"thought", true}}; }

}  // namespace

Json GeminiUsage(const Usage& usage, bool final, int64_t output_so_far, int64_t thoughts_so_far) {
  const int64_t output = final ? usage.output : output_so_far;
  const int64_t thoughts = final ? usage.reasoning : thoughts_so_far;
  Json out = Json::object();
  out["promptTokenCount"] = usage.prompt;
  out["candidatesTokenCount"] = output;
  out["totalTokenCount"] = usage.prompt + output + thoughts;
  if (usage.cached > 0) out["cachedContentTokenCount"] = usage.cached;
  out["promptTokensDetails"] = Json::array({Json{{"modality", "TEXT"}, {"tokenCount", usage.prompt}}});
  if (usage.cached > 0) {
    out["cacheTokensDetails"] = Json::array({Json{{"modality", "TEXT"}, {"tokenCount", usage.cached}}});
  }
  if (thoughts > 0) out["thoughtsTokenCount"] = thoughts;
  return out;
}

std::string RenderGeminiResponse(const ChatRequest& request, const ReplyPlan& plan,
                                 const RenderContext& ctx) {
  Json parts = Json::array();
  if (!plan.thinking_pieces.empty()) {
    std::string thinking;
    for (const auto& p : plan.thinking_pieces) thinking += p;
    parts.push_back(ThoughtPart(thinking));
  }
  if (plan.tool_call) {
    parts.push_back(FunctionCallPart(*plan.tool_call));
  } else {
    parts.push_back(Json{{"text", plan.text}});
  }
  Json usage = plan.omit_usage ? Json() : GeminiUsage(plan.usage, true, 0, 0);
  // Google pretty-prints non-streamed bodies.
  return DumpJsonPretty(Response(request, ctx, std::move(parts), FinishReason(plan.finish), usage));
}

std::vector<StreamEvent> RenderGeminiStream(const ChatRequest& request, const ReplyPlan& plan,
                                            const RenderContext& ctx, bool sse) {
  // Each piece becomes one response; the last carries finishReason and the
  // complete usage, earlier ones a running count as Gemini does.
  struct Piece {
    Json part;
    bool thought;
  };
  std::vector<Piece> pieces;
  for (const auto& p : plan.thinking_pieces) pieces.push_back({ThoughtPart(p), true});
  if (plan.tool_call) {
    pieces.push_back({FunctionCallPart(*plan.tool_call), false});
  } else if (plan.pieces.empty()) {
    pieces.push_back({Json{{"text", ""}}, false});
  } else {
    for (const auto& p : plan.pieces) pieces.push_back({Json{{"text", p}}, false});
  }

  std::vector<StreamEvent> events;
  int64_t output_so_far = 0;
  int64_t thoughts_so_far = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const bool last = i + 1 == pieces.size();
    if (pieces[i].thought) {
      ++thoughts_so_far;
    } else if (pieces[i].part.contains("text")) {
      output_so_far += CountWords(pieces[i].part["text"].get<std::string>());
    }
    Json usage = plan.omit_usage ? Json() : GeminiUsage(plan.usage, last, output_so_far, thoughts_so_far);
    Json response = Response(request, ctx, Json::array({pieces[i].part}),
                             last ? FinishReason(plan.finish) : nullptr, std::move(usage));
    std::string bytes;
    if (sse) {
      bytes = "data: " + DumpJson(response) + "\r\n\r\n";
    } else {
      bytes = (i == 0 ? "[" : ",\r\n") + DumpJsonPretty(response);
    }
    events.push_back({std::move(bytes), true});
  }
  if (!sse) events.push_back({"]", false});
  return events;
}

std::string GeminiStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

Json GeminiErrorJson(int status, const std::string& message) {
  Json error = Json::object();
  error["code"] = status;
  error["message"] = message;
  error["status"] = GeminiStatus(status);
  return Json{{"error", error}};
}

std::string RenderGeminiError(int status, const std::string& message) {
  return DumpJsonPretty(GeminiErrorJson(status, message));
}

std::string RenderGeminiModels() {
  Json models = Json::array();
  for (const auto& [id, name] : {std::pair{"gemini-2.5-flash", "Gemini 2.5 Flash"},
                                 std::pair{"gemini-2.0-flash", "Gemini 2.0 Flash"}}) {
    models.push_back(Json{{"name", std::string("models/") + id},
                          {"version", "001"},
                          {"displayName", name},
                          {"inputTokenLimit", 1048576},
                          {"outputTokenLimit", 65536},
                          {"supportedGenerationMethods", {"generateContent", "countTokens"}}});
  }
  return DumpJsonPretty(Json{{"models", models}});
}

}  // namespace routeall::fake_upstream
