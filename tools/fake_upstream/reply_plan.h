// Decides what the fake model "says" (text, tool call, thinking) and its usage, independent of wire format.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_REPLY_PLAN_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_REPLY_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat_request.h"
#include "knobs.h"
#include "text_util.h"

namespace routeall::fake_upstream {

constexpr size_t kEchoMaxChars = 200;

enum class Finish { kStop, kLength, kStopSequence, kToolCall };

// Token counts in provider-neutral terms; each renderer maps them to its
// provider's (different!) usage semantics.
struct Usage {
  int64_t prompt = 0;       // P: all prompt tokens, cached ones included
  int64_t cached = 0;       // C: cache reads
  int64_t cache_write = 0;  // W: cache writes (Anthropic only)
  int64_t reasoning = 0;    // R: hidden reasoning tokens
  int64_t output = 0;       // O: visible output tokens
};

struct ToolCall {
  std::string name;
  Json arguments;
  std::string arguments_json;  // compact serialization sent on the wire
};

struct ReplyPlan {
  std::string text;                 // visible text (empty when tool_call is set)
  std::vector<std::string> pieces;  // text split into streaming deltas
  std::optional<ToolCall> tool_call;
  std::vector<std::string> thinking_pieces;  // R words of "think" (R>0 only)
  Finish finish = Finish::kStop;
  std::string matched_stop;  // the stop sequence that ended the reply
  Usage usage;
  bool omit_usage = false;
};

// Arguments for a tool whose parameters follow `schema`: each required
// property gets "test" (string), 1 (number/integer), true (boolean).
Json SynthesizeArguments(const Json& schema);

// The whole deterministic reply for one request under the effective knobs.
ReplyPlan PlanReply(const ChatRequest& request, const Knobs& knobs);

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_REPLY_PLAN_H_
