// Renders OpenAI Chat Completions bodies, chat.completion.chunk SSE streams and errors.
#include <string>

#include "render.h"

namespace routeall::fake_upstream {
namespace {

constexpr char kSystemFingerprint[] = "fp_fake";

std::string CompletionId(const RenderContext& ctx) {
  return "chatcmpl-fake" + std::to_string(ctx.seq);
}

std::string ToolCallId(const RenderContext& ctx, int choice) {
  return "call_fake" + std::to_string(ctx.seq) + "_" + std::to_string(choice);
}

const char* FinishReason(Finish finish) {
  switch (finish) {
    case Finish::kLength:
      return "length";
    case Finish::kToolCall:
      return "tool_calls";
    case Finish::kStop:
    case Finish::kStopSequence:
      return "stop";
  }
  return "stop";
}

std::string Sse(const Json& data) { return "data: " + DumpJson(data) + "\n\n"; }

Json ChunkBase(const ChatRequest& request, const ReplyPlan& plan, const RenderContext& ctx) {
  Json chunk = Json::object();
  chunk["id"] = CompletionId(ctx);
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = ctx.created;
  chunk["model"] = request.model;
  chunk["system_fingerprint"] = kSystemFingerprint;
  chunk["choices"] = Json::array();
  // With include_usage every chunk carries "usage": null until the last one.
  if (request.include_usage && !plan.omit_usage) chunk["usage"] = nullptr;
  return chunk;
}

Json ChunkChoice(int index, Json delta, const Json& finish_reason) {
  Json choice = Json::object();
  choice["index"] = index;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;
  return choice;
}

}  // namespace

Json OpenAiUsage(const Usage& usage, int n) {
  const int64_t completion = n * (usage.output + usage.reasoning);
  Json out = Json::object();
  out["prompt_tokens"] = usage.prompt;
  out["completion_tokens"] = completion;
  out["total_tokens"] = usage.prompt + completion;
  out["prompt_tokens_details"] = {{"cached_tokens", usage.cached}, {"audio_tokens", 0}};
  out["completion_tokens_details"] = {{"reasoning_tokens", n * usage.reasoning},
                                      {"audio_tokens", 0},
                                      {"accepted_prediction_tokens", 0},
                                      {"rejected_prediction_tokens", 0}};
  return out;
}

std::string RenderOpenAiCompletion(const ChatRequest& request, const ReplyPlan& plan,
                                   const RenderContext& ctx) {
  Json body = Json::object();
  body["id"] = CompletionId(ctx);
  body["object"] = "chat.completion";
  body["created"] = ctx.created;
  body["model"] = request.model;
  Json choices = Json::array();
  for (int i = 0; i < request.n; ++i) {
    Json message = Json::object();
    message["role"] = "assistant";
    if (plan.tool_call) {
      message["content"] = nullptr;
      Json call = Json::object();
      call["id"] = ToolCallId(ctx, i);
      call["type"] = "function";
      call["function"] = {{"name", plan.tool_call->name},
                          {"arguments", plan.tool_call->arguments_json}};
      message["tool_calls"] = Json::array({call});
    } else {
      message["content"] = plan.text;
    }
    message["refusal"] = nullptr;
    Json choice = Json::object();
    choice["index"] = i;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = FinishReason(plan.finish);
    choices.push_back(std::move(choice));
  }
  body["choices"] = std::move(choices);
  if (!plan.omit_usage) body["usage"] = OpenAiUsage(plan.usage, request.n);
  body["system_fingerprint"] = kSystemFingerprint;
  return DumpJson(body);
}

std::vector<StreamEvent> RenderOpenAiStream(const ChatRequest& request, const ReplyPlan& plan,
                                            const RenderContext& ctx) {
  std::vector<StreamEvent> events;
  auto emit = [&](Json delta, int index, const Json& finish, bool content) {
    Json chunk = ChunkBase(request, plan, ctx);
    chunk["choices"].push_back(ChunkChoice(index, std::move(delta), finish));
    events.push_back({Sse(chunk), content});
  };
  std::vector<std::string> argument_pieces;
  if (plan.tool_call) argument_pieces = ChunkUtf8(plan.tool_call->arguments_json, kArgumentPieceBytes);

  for (int i = 0; i < request.n; ++i) {
    if (plan.tool_call) {
      // As OpenAI does: the role chunk already names the call; the arguments follow.
      Json call = Json::object();
      call["index"] = 0;
      call["id"] = ToolCallId(ctx, i);
      call["type"] = "function";
      call["function"] = {{"name", plan.tool_call->name}, {"arguments", ""}};
      Json delta = {{"role", "assistant"}, {"content", nullptr}};
      delta["tool_calls"] = Json::array({call});
      delta["refusal"] = nullptr;
      emit(std::move(delta), i, nullptr, false);
    } else {
      emit(Json{{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, i, nullptr, false);
    }
  }
  // Choices advance in lockstep, one piece each, the way n>1 streams interleave.
  const size_t steps = plan.tool_call ? argument_pieces.size() : plan.pieces.size();
  for (size_t step = 0; step < steps; ++step) {
    for (int i = 0; i < request.n; ++i) {
      if (plan.tool_call) {
        Json call = {{"index", 0}, {"function", {{"arguments", argument_pieces[step]}}}};
        emit(Json{{"tool_calls", Json::array({call})}}, i, nullptr, true);
      } else {
        emit(Json{{"content", plan.pieces[step]}}, i, nullptr, true);
      }
    }
  }
  for (int i = 0; i < request.n; ++i) emit(Json::object(), i, FinishReason(plan.finish), false);
  if (request.include_usage && !plan.omit_usage) {
    Json chunk = ChunkBase(request, plan, ctx);
    chunk["usage"] = OpenAiUsage(plan.usage, request.n);
    events.push_back({Sse(chunk), false});
  }
  events.push_back({"data: [DONE]\n\n", false});
  return events;
}

std::string RenderOpenAiError(int status, const std::string& message) {
  std::string type = "invalid_request_error";
  Json code = nullptr;
  if (status == 401) code = "invalid_api_key";
  if (status == 404) code = "model_not_found";
  if (status == 429) {
    type = "requests";
    code = "rate_limit_exceeded";
  }
  if (status >= 500) type = "server_error";
  Json error = Json::object();
  error["message"] = message;
  error["type"] = type;
  error["param"] = nullptr;
  error["code"] = code;
  return DumpJson(Json{{"error", error}});
}

std::string RenderOpenAiStreamError(const std::string& message) {
  Json error = Json::object();
  error["message"] = message;
  error["type"] = "server_error";
  error["param"] = nullptr;
  error["code"] = nullptr;
  return Sse(Json{{"error", error}});
}

std::string RenderOpenAiModels() {
  Json data = Json::array();
  for (const char* id : {"gpt-4o", "gpt-4o-mini", "o3-mini", "deepseek-chat"}) {
    data.push_back(Json{{"id", id}, {"object", "model"}, {"created", 1715367049}, {"owned_by", "system"}});
  }
  return DumpJson(Json{{"object", "list"}, {"data", data}});
}

}  // namespace routeall::fake_upstream
