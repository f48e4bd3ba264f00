// Pure renderers turning a ReplyPlan into each provider's exact JSON bodies and SSE events.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_RENDER_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_RENDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "chat_request.h"
#include "reply_plan.h"
#include "text_util.h"

namespace routeall::fake_upstream {

// Identity of one response; ids derive from seq so output is reproducible.
struct RenderContext {
  uint64_t seq = 0;
  int64_t created = 0;  // unix seconds
};

// One chunk of a streamed body, written and flushed on its own. `content`
// marks events carrying model output, which the *_after_chunks knobs count.
struct StreamEvent {
  std::string bytes;
  bool content = false;
};

// Bytes of tool-call arguments per streamed fragment (OpenAI/Anthropic).
constexpr size_t kArgumentPieceBytes = 8;

// --- OpenAI Chat Completions ---
Json OpenAiUsage(const Usage& usage, int n);
std::string RenderOpenAiCompletion(const ChatRequest& request, const ReplyPlan& plan,
                                   const RenderContext& ctx);
std::vector<StreamEvent> RenderOpenAiStream(const ChatRequest& request, const ReplyPlan& plan,
                                            const RenderContext& ctx);
std::string RenderOpenAiError(int status, const std::string& message);
std::string RenderOpenAiStreamError(const std::string& message);
std::string RenderOpenAiModels();

// --- Anthropic Messages ---
Json AnthropicUsage(const Usage& usage);
std::string RenderAnthropicMessage(const ChatRequest& request, const ReplyPlan& plan,
                                   const RenderContext& ctx);
std::vector<StreamEvent> RenderAnthropicStream(const ChatRequest& request, const ReplyPlan& plan,
                                               const RenderContext& ctx);
std::string AnthropicErrorType(int status);
std::string RenderAnthropicError(int status, const std::string& message);
std::string RenderAnthropicStreamError(int status, const std::string& message);
std::string RenderAnthropicModels();

// --- Google Gemini generateContent ---
// Complete usage (final == true) or the running usage after `output_so_far`
// visible and `thoughts_so_far` reasoning tokens of a stream.
Json GeminiUsage(const Usage& usage, bool final, int64_t output_so_far, int64_t thoughts_so_far);
std::string RenderGeminiResponse(const ChatRequest& request, const ReplyPlan& plan,
                                 const RenderContext& ctx);
// The streamGenerateContent responses, framed as SSE (`alt=sse`) or as the
// pieces of one JSON array (no alt): "[" obj, ",\r\n" obj, ..., "]".
std::vector<StreamEvent> RenderGeminiStream(const ChatRequest& request, const ReplyPlan& plan,
                                            const RenderContext& ctx, bool sse);
std::string GeminiStatus(int status);
Json GeminiErrorJson(int status, const std::string& message);
std::string RenderGeminiError(int status, const std::string& message);
std::string RenderGeminiModels();

// --- Shared ---
// The error body for `status` in the dialect's own format.
std::string RenderError(Dialect dialect, int status, const std::string& message);
// Default message for a status (e.g. 429 -> "Rate limit exceeded").
std::string DefaultErrorMessage(int status);

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_RENDER_H_
