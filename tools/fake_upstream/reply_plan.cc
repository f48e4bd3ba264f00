// Builds the deterministic reply: echo text, tool calls, stop/max_tokens truncation and usage.
#include "reply_plan.h"

#include <algorithm>

namespace routeall::fake_upstream {
namespace {

std::string BaseReply(const ChatRequest& request, const Knobs& knobs) {
  if (knobs.words && *knobs.words >= 0) {
    std::string out;
    for (int64_t i = 1; i <= *knobs.words; ++i) {
      if (i > 1) out += " ";
      out += "w" + std::to_string(i);
    }
    return out;
  }
  if (request.last_is_tool_result) {
    return "Tool result received: " + TruncateUtf8(request.tool_result_text, kEchoMaxChars);
  }
  return std::string("Hello from fake ") + DialectName(request.dialect) + " model " + request.model +
         ". You said: " + TruncateUtf8(StripDirectives(request.last_user_text), kEchoMaxChars);
}

std::string JoinPieces(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

}  // namespace

Json SynthesizeArguments(const Json& schema) {
  Json args = Json::object();
  if (!schema.is_object()) return args;
  const Json properties = schema.value("properties", Json::object());
  const Json required = schema.value("required", Json::array());
  if (!required.is_array()) return args;
  for (const Json& name_json : required) {
    if (!name_json.is_string()) continue;
    const std::string name = name_json.get<std::string>();
    std::string type;
    if (properties.is_object() && properties.contains(name) && properties[name].is_object()) {
      const Json& t = properties[name].value("type", Json());
      // JSON schema allows ["string","null"]; Gemini spells types upper-case.
      if (t.is_string()) type = ToLower(t.get<std::string>());
      if (t.is_array() && !t.empty() && t[0].is_string()) type = ToLower(t[0].get<std::string>());
    }
    if (type == "number" || type == "integer") {
      args[name] = 1;
    } else if (type == "boolean") {
      args[name] = true;
    } else if (type == "array") {
      args[name] = Json::array();
    } else if (type == "object") {
      args[name] = Json::object();
    } else {
      args[name] = "test";
    }
  }
  return args;
}

ReplyPlan PlanReply(const ChatRequest& request, const Knobs& knobs) {
  ReplyPlan plan;
  plan.omit_usage = knobs.omit_usage.value_or(0) != 0;
  const int64_t reasoning = std::max<int64_t>(0, knobs.reasoning_tokens.value_or(0));
  for (int64_t i = 0; i < reasoning; ++i) plan.thinking_pieces.push_back(i == 0 ? "think" : " think");

  const bool call_tool = !request.tools.empty() && !request.tools_disabled &&
                         !request.last_is_tool_result && !knobs.words.has_value();
  int64_t output = 0;
  if (call_tool) {
    const ToolSpec& tool = request.tools.front();
    ToolCall call;
    call.name = tool.name;
    call.arguments = SynthesizeArguments(tool.parameters);
    call.arguments_json = DumpJson(call.arguments);
    output = CountWords(call.arguments_json);
    plan.tool_call = std::move(call);
    plan.finish = Finish::kToolCall;
  } else {
    std::string text = BaseReply(request, knobs);
    // A stop sequence ends generation before it is emitted; find the earliest.
    size_t cut = std::string::npos;
    for (const std::string& stop : request.stop) {
      size_t at = text.find(stop);
      if (at != std::string::npos && (cut == std::string::npos || at < cut)) {
        cut = at;
        plan.matched_stop = stop;
      }
    }
    if (cut != std::string::npos) {
      text.resize(cut);
      plan.finish = Finish::kStopSequence;
    }
    plan.pieces = SplitWords(text);
    // Reaching max_tokens first wins over a later stop sequence.
    if (request.max_tokens && *request.max_tokens >= 0 &&
        CountWords(text) > *request.max_tokens) {
      plan.pieces.resize(static_cast<size_t>(*request.max_tokens));
      plan.finish = Finish::kLength;
      plan.matched_stop.clear();
    }
    plan.text = JoinPieces(plan.pieces);
    output = CountWords(plan.text);
  }

  plan.usage.prompt = knobs.prompt_tokens.value_or(request.prompt_tokens);
  plan.usage.cached = std::max<int64_t>(0, knobs.cached_tokens.value_or(0));
  plan.usage.cache_write = std::max<int64_t>(0, knobs.cache_write_tokens.value_or(0));
  plan.usage.reasoning = reasoning;
  plan.usage.output = knobs.completion_tokens.value_or(output);
  return plan;
}

}  // namespace routeall::fake_upstream
