// Dialect-neutral view of a chat request, parsed from OpenAI, Anthropic or Gemini JSON.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_CHAT_REQUEST_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_CHAT_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "text_util.h"

namespace routeall::fake_upstream {

enum class Dialect { kOpenAi, kAnthropic, kGemini };

// Lower-case name used in reply text and logs ("openai", "anthropic", "gemini").
const char* DialectName(Dialect dialect);

struct ToolSpec {
  std::string name;
  Json parameters;  // JSON schema of the arguments (may be null)
};

struct ChatRequest {
  Dialect dialect = Dialect::kOpenAi;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  int n = 1;                   // OpenAI choices
  std::optional<int64_t> max_tokens;
  std::vector<std::string> stop;
  std::vector<ToolSpec> tools;
  bool tools_disabled = false;  // tool_choice none / mode NONE
  // True when the conversation ends with a tool result rather than user text.
  bool last_is_tool_result = false;
  std::string tool_result_text;
  // All text of the last user-role message; directives are read from here.
  std::string last_user_text;
  // Prompt tokens under the shared counting rule (see README.md).
  int64_t prompt_tokens = 0;
};

// Each parser fills *out and returns true, or sets *error to the message the
// real provider would give for the malformed request and returns false.
bool ParseOpenAiRequest(const Json& body, ChatRequest* out, std::string* error);
bool ParseAnthropicRequest(const Json& body, ChatRequest* out, std::string* error);
// Gemini takes the model and streaming mode from the URL, not the body.
bool ParseGeminiRequest(const Json& body, const std::string& model, bool stream, ChatRequest* out,
                        std::string* error);

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_CHAT_REQUEST_H_
