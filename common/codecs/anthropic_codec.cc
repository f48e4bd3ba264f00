// Anthropic Messages codec.
#include "common/codecs/anthropic_codec.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/codecs/codec_json.h"

namespace routeall::codecs::anthropic {
namespace {

using nlohmann::json;
using internal::AsInt;
using internal::CountOr0;
using internal::Dump;
using internal::JsonTypeName;
namespace v1 = ::routeall::llm::v1;

// passthrough_json keys that are not client fields but state for an Anthropic upstream:
// cache_control breakpoints keyed by canonical position ("m3.p1" = message 3 part 1,
// "m3.c0" its tool call 0, "m4.r" the tool_result of tool message 4, "t2" tool 2).
// Losing them would silently turn cached prompts into full-price ones.
constexpr const char* kCacheControlKey = "__routeall_cache_control";
// Default output limit when the client set none: Anthropic requires one.
constexpr int64_t kDefaultMaxTokens = 4096;
// Anthropic's smallest thinking budget.
constexpr int64_t kMinThinkingBudget = 1024;

const std::set<std::string>& KnownRequestFields() {
  static const std::set<std::string> k = {"model",   "max_tokens", "messages", "system",      "temperature", "top_p",
                                          "stream",  "metadata",   "tools",    "tool_choice", "thinking",    "stop_sequences"};
  return k;
}

// Anthropic's own error style: "<path>: <what>", the path also in param.
ApiError Bad(const std::string& path, const std::string& what, std::string code = "invalid_value") {
  return InvalidField(path, path + ": " + what, std::move(code));
}
ApiError Missing(const std::string& path) { return Bad(path, "Field required", "missing_required_parameter"); }
ApiError WrongType(const std::string& path, const json& got, const char* want) {
  return Bad(path, std::string("Input should be ") + want + ", but got " + JsonTypeName(got), "invalid_type");
}

std::string Path(const std::string& base, size_t i) { return base + "." + std::to_string(i); }

std::optional<ApiError> ReadUnit(const json& body, const char* name, std::optional<double>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return WrongType(name, *it, "a valid number");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < 0 || v > 1) {
    return Bad(name, "Input should be between 0 and 1 (Anthropic's range), got " + it->dump());
  }
  *out = v;
  return std::nullopt;
}

// Image source {type: base64 {media_type, data} | url {url}}.
std::optional<ApiError> DecodeImage(const json& block, const std::string& where, v1::Image* img) {
  auto src = block.find("source");
  if (src == block.end()) return Missing(where + ".source");
  if (!src->is_object()) return WrongType(where + ".source", *src, "an object");
  std::string type = src->contains("type") && (*src)["type"].is_string() ? (*src)["type"].get<std::string>() : "";
  if (type == "base64") {
    auto mt = src->find("media_type");
    if (mt == src->end() || !mt->is_string()) return Missing(where + ".source.media_type");
    auto data = src->find("data");
    if (data == src->end() || !data->is_string()) return Missing(where + ".source.data");
    img->set_mime_type(mt->get<std::string>());
    img->set_data_base64(data->get<std::string>());
  } else if (type == "url") {
    auto url = src->find("url");
    if (url == src->end() || !url->is_string()) return Missing(where + ".source.url");
    img->set_url(url->get<std::string>());
  } else {
    return Bad(where + ".source.type", "Input should be 'base64' or 'url', got '" + type + "'");
  }
  return std::nullopt;
}

void NoteCache(const json& block, const std::string& key, json* cache) {
  auto cc = block.find("cache_control");
  if (cc != block.end() && cc->is_object()) (*cache)[key] = *cc;
}

// tool_result content: string, or text and image blocks.
std::optional<ApiError> DecodeToolResult(const json& block, const std::string& where, int msg_index, v1::Message* m,
                                         json* cache) {
  m->set_role(v1::ROLE_TOOL);
  auto id = block.find("tool_use_id");
  if (id == block.end()) return Missing(where + ".tool_use_id");
  if (!id->is_string()) return WrongType(where + ".tool_use_id", *id, "a valid string");
  m->set_tool_call_id(id->get<std::string>());
  if (auto e = block.find("is_error"); e != block.end() && !e->is_null()) {
    if (!e->is_boolean()) return WrongType(where + ".is_error", *e, "a valid boolean");
    m->set_is_error(e->get<bool>());
  }
  NoteCache(block, "m" + std::to_string(msg_index) + ".r", cache);
  auto content = block.find("content");
  if (content == block.end() || content->is_null()) return std::nullopt;
  if (content->is_string()) {
    m->add_parts()->set_text(content->get<std::string>());
    return std::nullopt;
  }
  if (!content->is_array()) return WrongType(where + ".content", *content, "a valid string or a list of blocks");
  for (size_t i = 0; i < content->size(); ++i) {
    const json& b = (*content)[i];
    std::string bw = Path(where + ".content", i);
    if (!b.is_object()) return WrongType(bw, b, "an object");
    std::string type = b.contains("type") && b["type"].is_string() ? b["type"].get<std::string>() : "";
    std::string key = "m" + std::to_string(msg_index) + ".p" + std::to_string(m->parts_size());
    if (type == "text") {
      auto t = b.find("text");
      if (t == b.end() || !t->is_string()) return Missing(bw + ".text");
      NoteCache(b, key, cache);
      m->add_parts()->set_text(t->get<std::string>());
    } else if (type == "image") {
      NoteCache(b, key, cache);
      if (auto err = DecodeImage(b, bw, m->add_parts()->mutable_image())) return err;
    } else {
      return Bad(bw + ".type", "Input tag '" + type + "' found using 'type' does not match any of the expected tags: 'text', 'image'");
    }
  }
  return std::nullopt;
}

// One client message; tool_result blocks become ROLE_TOOL messages ahead of the rest
// (Anthropic requires them first in the user turn anyway).
std::optional<ApiError> DecodeMessage(const json& jm, size_t index, v1::ChatRequest* out, json* cache) {
  std::string where = Path("messages", index);
  if (!jm.is_object()) return WrongType(where, jm, "an object");
  auto role_it = jm.find("role");
  if (role_it == jm.end()) return Missing(where + ".role");
  std::string role = role_it->is_string() ? role_it->get<std::string>() : "";
  if (role != "user" && role != "assistant") {
    return Bad(where + ".role", "Input should be 'user' or 'assistant'");
  }
  bool assistant = role == "assistant";
  auto content = jm.find("content");
  if (content == jm.end()) return Missing(where + ".content");

  v1::Message m;
  m.set_role(assistant ? v1::ROLE_ASSISTANT : v1::ROLE_USER);
  if (content->is_string()) {
    m.add_parts()->set_text(content->get<std::string>());
    *out->add_messages() = std::move(m);
    return std::nullopt;
  }
  if (!content->is_array()) return WrongType(where + ".content", *content, "a valid string or a list of blocks");

  // Keys for the main message are relative to where it will land: after the tool messages.
  int tool_results = 0;
  for (const json& b : *content) {
    if (b.is_object() && b.value("type", json()).is_string() && b["type"] == "tool_result") ++tool_results;
  }
  const int base = out->messages_size();
  const int main_index = base + tool_results;
  int next_tool_msg = base;
  std::vector<v1::Message> tool_msgs;
  json main_cache = json::object();
  for (size_t i = 0; i < content->size(); ++i) {
    const json& b = (*content)[i];
    std::string bw = Path(where + ".content", i);
    if (!b.is_object()) return WrongType(bw, b, "an object");
    auto type_it = b.find("type");
    if (type_it == b.end()) return Missing(bw + ".type");
    std::string type = type_it->is_string() ? type_it->get<std::string>() : "";
    std::string key = "m" + std::to_string(main_index) + ".p" + std::to_string(m.parts_size());
    if (type == "text") {
      auto t = b.find("text");
      if (t == b.end()) return Missing(bw + ".text");
      if (!t->is_string()) return WrongType(bw + ".text", *t, "a valid string");
      NoteCache(b, key, &main_cache);
      m.add_parts()->set_text(t->get<std::string>());
    } else if (type == "image") {
      NoteCache(b, key, &main_cache);
      if (auto err = DecodeImage(b, bw, m.add_parts()->mutable_image())) return err;
    } else if (type == "tool_use" && assistant) {
      auto id = b.find("id");
      if (id == b.end() || !id->is_string()) return Missing(bw + ".id");
      auto name = b.find("name");
      if (name == b.end() || !name->is_string()) return Missing(bw + ".name");
      json input = b.contains("input") ? b["input"] : json::object();
      if (!input.is_object()) return WrongType(bw + ".input", input, "a valid dictionary");
      NoteCache(b, "m" + std::to_string(main_index) + ".c" + std::to_string(m.tool_calls_size()), &main_cache);
      auto* call = m.add_tool_calls();
      call->set_id(id->get<std::string>());
      call->set_name(name->get<std::string>());
      call->set_arguments_json(Dump(input));
    } else if (type == "tool_result" && !assistant) {
      v1::Message tm;
      if (auto err = DecodeToolResult(b, bw, next_tool_msg++, &tm, cache)) return err;
      tool_msgs.push_back(std::move(tm));
    } else if (type == "thinking" && assistant) {
      auto t = b.find("thinking");
      if (t == b.end() || !t->is_string()) return Missing(bw + ".thinking");
      auto sig = b.find("signature");
      if (sig == b.end() || !sig->is_string()) return Missing(bw + ".signature");
      auto* th = m.add_parts()->mutable_thinking();
      th->set_text(t->get<std::string>());
      th->set_signature(sig->get<std::string>());
    } else if (type == "redacted_thinking" && assistant) {
      auto d = b.find("data");
      if (d == b.end() || !d->is_string()) return Missing(bw + ".data");
      m.add_parts()->mutable_thinking()->set_redacted_data(d->get<std::string>());
    } else {
      const char* allowed = assistant ? "'text', 'image', 'tool_use', 'thinking', 'redacted_thinking'"
                                      : "'text', 'image', 'tool_result'";
      return Bad(bw + ".type", "Input tag '" + type + "' found using 'type' does not match any of the expected tags for a " +
                                   role + " message: " + allowed);
    }
  }
  for (auto& tm : tool_msgs) *out->add_messages() = std::move(tm);
  // A user turn of only tool results has nothing else to say.
  if (m.parts_size() > 0 || m.tool_calls_size() > 0 || tool_msgs.empty()) *out->add_messages() = std::move(m);
  for (auto it = main_cache.begin(); it != main_cache.end(); ++it) (*cache)[it.key()] = it.value();
  return std::nullopt;
}

std::optional<ApiError> DecodeSystem(const json& body, v1::ChatRequest* out, json* cache) {
  auto it = body.find("system");
  if (it == body.end() || it->is_null()) return std::nullopt;
  v1::Message m;
  m.set_role(v1::ROLE_SYSTEM);
  if (it->is_string()) {
    if (it->get<std::string>().empty()) return std::nullopt;
    m.add_parts()->set_text(it->get<std::string>());
  } else if (it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const json& b = (*it)[i];
      std::string bw = Path("system", i);
      if (!b.is_object()) return WrongType(bw, b, "an object");
      if (b.value("type", json()) != "text") return Bad(bw + ".type", "Input should be 'text'");
      auto t = b.find("text");
      if (t == b.end() || !t->is_string()) return Missing(bw + ".text");
      NoteCache(b, "m0.p" + std::to_string(m.parts_size()), cache);
      m.add_parts()->set_text(t->get<std::string>());
    }
    if (m.parts_size() == 0) return std::nullopt;
  } else {
    return WrongType("system", *it, "a valid string or a list of text blocks");
  }
  *out->add_messages() = std::move(m);
  return std::nullopt;
}

// Custom tools go to the canonical list; server tools (web_search, bash, ...) can only be
// served by Anthropic itself, so they ride in passthrough for an Anthropic upstream.
std::optional<ApiError> DecodeTools(const json& body, v1::ChatRequest* out, json* cache, json* server_tools) {
  auto it = body.find("tools");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return WrongType("tools", *it, "a valid list");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    std::string w = Path("tools", i);
    if (!t.is_object()) return WrongType(w, t, "an object");
    if (auto type = t.find("type"); type != t.end() && !type->is_null() && *type != "custom") {
      if (!type->is_string()) return WrongType(w + ".type", *type, "a valid string");
      if (!t.contains("name") || !t["name"].is_string()) return Missing(w + ".name");
      server_tools->push_back(t);
      continue;
    }
    auto name = t.find("name");
    if (name == t.end()) return Missing(w + ".name");
    if (!name->is_string() || name->get<std::string>().empty()) return WrongType(w + ".name", *name, "a non-empty string");
    auto schema = t.find("input_schema");
    if (schema == t.end()) return Missing(w + ".input_schema");
    if (!schema->is_object()) return WrongType(w + ".input_schema", *schema, "a valid dictionary");
    NoteCache(t, "t" + std::to_string(out->tools_size()), cache);
    auto* tool = out->add_tools();
    tool->set_name(name->get<std::string>());
    if (auto d = t.find("description"); d != t.end() && !d->is_null()) {
      if (!d->is_string()) return WrongType(w + ".description", *d, "a valid string");
      tool->set_description(d->get<std::string>());
    }
    tool->set_parameters_json(Dump(*schema));
  }
  return std::nullopt;
}

std::optional<ApiError> DecodeToolChoice(const json& body, v1::ChatRequest* out) {
  auto it = body.find("tool_choice");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return WrongType("tool_choice", *it, "a valid dictionary");
  std::string type = it->contains("type") && (*it)["type"].is_string() ? (*it)["type"].get<std::string>() : "";
  if (type == "auto") {
    out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_AUTO);
  } else if (type == "any") {
    out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_REQUIRED);
  } else if (type == "none") {
    out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_NONE);
  } else if (type == "tool") {
    auto name = it->find("name");
    if (name == it->end() || !name->is_string()) return Missing("tool_choice.name");
    out->mutable_tool_choice()->set_function_name(name->get<std::string>());
  } else {
    return Bad("tool_choice.type", "Input tag '" + type + "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
  }
  if (auto d = it->find("disable_parallel_tool_use"); d != it->end() && !d->is_null()) {
    if (!d->is_boolean()) return WrongType("tool_choice.disable_parallel_tool_use", *d, "a valid boolean");
    if (d->get<bool>()) out->set_parallel_tool_calls(false);
  }
  return std::nullopt;
}

// thinking {type: enabled, budget_tokens}; other types (disabled, adaptive) are not
// canonical and pass through for an Anthropic upstream.
std::optional<ApiError> DecodeThinking(const json& body, v1::ChatRequest* out, json* extra) {
  auto it = body.find("thinking");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return WrongType("thinking", *it, "a valid dictionary");
  auto type = it->find("type");
  if (type == it->end()) return Missing("thinking.type");
  if (!type->is_string()) return WrongType("thinking.type", *type, "a valid string");
  if (*type != "enabled") {
    (*extra)["thinking"] = *it;
    return std::nullopt;
  }
  auto budget = it->find("budget_tokens");
  if (budget == it->end()) return Missing("thinking.budget_tokens");
  int64_t b = 0;
  if (!budget->is_number()) return WrongType("thinking.budget_tokens", *budget, "a valid integer");
  if (!AsInt(*budget, kMinThinkingBudget, int64_t{1} << 31, &b)) {
    return Bad("thinking.budget_tokens", "Input should be an integer greater than or equal to 1024, got " + budget->dump());
  }
  out->set_thinking_budget_tokens(b);
  return std::nullopt;
}

// ---- Upstream encoding helpers ----

// Anthropic ids must match ^[a-zA-Z0-9_-]+$; other providers' ids may not.
std::string SafeToolId(const std::string& id) {
  std::string s = id;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  return s;
}

json ImageBlock(const v1::Image& img) {
  const std::string& url = img.url();
  if (!url.empty() && url.rfind("data:", 0) == 0) {
    // data:<mime>;base64,<data>
    size_t semi = url.find(';');
    size_t comma = url.find(',');
    std::string mime = semi != std::string::npos && semi < comma ? url.substr(5, semi - 5) : "image/png";
    std::string data = comma != std::string::npos ? url.substr(comma + 1) : "";
    return {{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", mime}, {"data", data}}}};
  }
  if (!url.empty()) return {{"type", "image"}, {"source", {{"type", "url"}, {"url", url}}}};
  return {{"type", "image"},
          {"source", {{"type", "base64"}, {"media_type", img.mime_type().empty() ? "image/png" : img.mime_type()},
                      {"data", img.data_base64()}}}};
}

void WithCache(const json& cache, const std::string& key, json* block) {
  if (cache.is_object()) {
    auto it = cache.find(key);
    if (it != cache.end()) (*block)["cache_control"] = *it;
  }
}

// Text and image parts as blocks; empty text is skipped (Anthropic rejects it).
void PartBlocks(const v1::Message& m, int mi, const json& cache, json* blocks) {
  for (int j = 0; j < m.parts_size(); ++j) {
    const auto& p = m.parts(j);
    json b;
    if (p.part_case() == v1::ContentPart::kText) {
      if (p.text().empty()) continue;
      b = {{"type", "text"}, {"text", p.text()}};
    } else if (p.has_image()) {
      b = ImageBlock(p.image());
    } else {
      continue;
    }
    WithCache(cache, "m" + std::to_string(mi) + ".p" + std::to_string(j), &b);
    blocks->push_back(std::move(b));
  }
}

json AssistantBlocks(const v1::Message& m, int mi, const json& cache) {
  json blocks = json::array();
  // Thinking first: Anthropic requires it to lead the assistant turn, and only signed
  // thinking can be replayed (unsigned reasoning text from other providers is dropped, and
  // so are Gemini's text-less signatures, which belong to a Gemini part).
  for (const auto& p : m.parts()) {
    if (!p.has_thinking()) continue;
    if (!p.thinking().redacted_data().empty()) {
      blocks.push_back({{"type", "redacted_thinking"}, {"data", p.thinking().redacted_data()}});
    } else if (!p.thinking().signature().empty() && !p.thinking().text().empty()) {
      blocks.push_back({{"type", "thinking"}, {"thinking", p.thinking().text()}, {"signature", p.thinking().signature()}});
    }
  }
  PartBlocks(m, mi, cache, &blocks);
  for (int k = 0; k < m.tool_calls_size(); ++k) {
    const auto& c = m.tool_calls(k);
    json b = {{"type", "tool_use"},
              {"id", SafeToolId(c.id())},
              {"name", c.name()},
              {"input", internal::ParseObjectOr(c.arguments_json(), json::object())}};
    WithCache(cache, "m" + std::to_string(mi) + ".c" + std::to_string(k), &b);
    blocks.push_back(std::move(b));
  }
  return blocks;
}

json ToolResultBlock(const v1::Message& m, int mi, const json& cache) {
  json b = {{"type", "tool_result"}, {"tool_use_id", SafeToolId(m.tool_call_id())}};
  json inner = json::array();
  PartBlocks(m, mi, cache, &inner);
  bool plain = std::all_of(inner.begin(), inner.end(), [](const json& x) { return x["type"] == "text" && !x.contains("cache_control"); });
  if (plain) {
    std::string text;
    for (const auto& x : inner) text += x["text"].get<std::string>();
    if (!text.empty()) b["content"] = text;
  } else {
    b["content"] = inner;
  }
  if (m.is_error()) b["is_error"] = true;
  WithCache(cache, "m" + std::to_string(mi) + ".r", &b);
  return b;
}

// The thinking budget the request asks for: explicit, or from reasoning_effort (the
// budgets Google documents for its OpenAI-compatible endpoint). 0 = no thinking.
int64_t ThinkingBudget(const v1::ChatRequest& req) {
  if (req.has_thinking_budget_tokens()) {
    int64_t b = req.thinking_budget_tokens();
    if (b == 0) return 0;
    if (b < 0) return 8192;  // Gemini's "dynamic": a medium budget
    return std::max(b, kMinThinkingBudget);
  }
  const std::string& e = req.reasoning_effort();
  if (e == "low") return 1024;
  if (e == "medium") return 8192;
  if (e == "high") return 24576;
  return 0;
}

v1::FinishReason ParseStopReasonImpl(std::string_view s) {
  if (s == "end_turn" || s == "pause_turn") return v1::FINISH_REASON_STOP;
  if (s == "max_tokens" || s == "model_context_window_exceeded") return v1::FINISH_REASON_LENGTH;
  if (s == "tool_use") return v1::FINISH_REASON_TOOL_CALLS;
  if (s == "stop_sequence") return v1::FINISH_REASON_STOP_SEQUENCE;
  if (s == "refusal") return v1::FINISH_REASON_CONTENT_FILTER;
  return v1::FINISH_REASON_UNSPECIFIED;
}

int StatusForErrorType(const std::string& t) {
  if (t == "invalid_request_error") return 400;
  if (t == "authentication_error") return 401;
  if (t == "billing_error") return 402;
  if (t == "permission_error") return 403;
  if (t == "not_found_error") return 404;
  if (t == "request_too_large") return 413;
  if (t == "rate_limit_error") return 429;
  if (t == "timeout_error") return 504;
  if (t == "overloaded_error") return 529;
  return 500;
}

ApiError UpstreamError(const json& body) {
  const json& e = body.contains("error") && body["error"].is_object() ? body["error"] : body;
  std::string type = e.contains("type") && e["type"].is_string() ? e["type"].get<std::string>() : "api_error";
  std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "upstream error";
  return ApiError{StatusForErrorType(type), "upstream_error", msg, "", type};
}

ApiError BadUpstream(const char* what) { return ApiError{502, "upstream_error", what, "", "bad_upstream_response"}; }

std::string Event(const char* name, const json& data) {
  return std::string("event: ") + name + "\ndata: " + Dump(data) + "\n\n";
}

}  // namespace

// ---- Names ----

std::string FinishReasonName(v1::FinishReason r) {
  switch (r) {
    case v1::FINISH_REASON_STOP: return "end_turn";
    case v1::FINISH_REASON_LENGTH: return "max_tokens";
    case v1::FINISH_REASON_TOOL_CALLS: return "tool_use";
    case v1::FINISH_REASON_STOP_SEQUENCE: return "stop_sequence";
    case v1::FINISH_REASON_CONTENT_FILTER: return "refusal";
    case v1::FINISH_REASON_ERROR: return "end_turn";
    default: return "";
  }
}

v1::FinishReason ParseStopReason(std::string_view s) { return ParseStopReasonImpl(s); }

std::string ErrorTypeForStatus(int s) {
  switch (s) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return s >= 500 ? "api_error" : "invalid_request_error";
  }
}

json EncodeError(const ApiError& err) {
  return {{"type", "error"}, {"error", {{"type", ErrorTypeForStatus(err.http_status)}, {"message", err.message}}}};
}

// ---- Usage ----

json EncodeUsage(const v1::Usage& u) {
  int64_t input = std::max<int64_t>(0, u.prompt_tokens() - u.cached_tokens() - u.cache_write_tokens());
  json j = {{"input_tokens", input},
            {"cache_creation_input_tokens", u.cache_write_tokens()},
            {"cache_read_input_tokens", u.cached_tokens()},
            {"output_tokens", u.completion_tokens()}};
  if (u.web_search_calls() > 0) j["server_tool_use"] = {{"web_search_requests", u.web_search_calls()}};
  return j;
}

void DecodeUsage(const json& j, v1::Usage* out) {
  if (!j.is_object()) return;
  int64_t read = CountOr0(j, "cache_read_input_tokens");
  int64_t write = CountOr0(j, "cache_creation_input_tokens");
  out->set_prompt_tokens(CountOr0(j, "input_tokens") + read + write);
  out->set_cached_tokens(read);
  out->set_cache_write_tokens(write);
  // Anthropic bills thinking as output and does not report it apart: reasoning stays 0.
  out->set_completion_tokens(CountOr0(j, "output_tokens"));
  if (auto st = j.find("server_tool_use"); st != j.end()) out->set_web_search_calls(CountOr0(*st, "web_search_requests"));
  out->set_source(v1::USAGE_SOURCE_UPSTREAM);
}

// ---- Public side ----

std::optional<ApiError> DecodeMessagesRequest(std::string_view body_text, v1::ChatRequest* out) {
  bool too_deep = false;
  json body = ParseBounded(body_text, &too_deep);
  if (too_deep) return TooDeepError();
  if (body.is_discarded()) {
    return ApiError{400, "invalid_request_error", "There was an issue with your request body: it is not valid JSON.", "",
                    "invalid_json"};
  }
  if (!body.is_object()) return WrongType("body", body, "a valid dictionary");
  out->set_source_dialect(v1::DIALECT_ANTHROPIC);
  json extra = json::object();
  json cache = json::object();

  auto model = body.find("model");
  if (model == body.end() || model->is_null()) return Missing("model");
  if (!model->is_string() || model->get<std::string>().empty()) return WrongType("model", *model, "a non-empty string");
  out->set_model(model->get<std::string>());

  auto max = body.find("max_tokens");
  if (max == body.end() || max->is_null()) return Missing("max_tokens");
  int64_t max_tokens = 0;
  if (!max->is_number()) return WrongType("max_tokens", *max, "a valid integer");
  if (!AsInt(*max, 1, int64_t{1} << 31, &max_tokens)) {
    return Bad("max_tokens", "Input should be an integer greater than or equal to 1, got " + max->dump());
  }
  out->set_max_tokens(max_tokens);

  if (auto err = DecodeSystem(body, out, &cache)) return err;
  auto msgs = body.find("messages");
  if (msgs == body.end()) return Missing("messages");
  if (!msgs->is_array()) return WrongType("messages", *msgs, "a valid list");
  if (msgs->empty()) return Bad("messages", "List should have at least 1 item after validation, not 0", "empty_array");
  for (size_t i = 0; i < msgs->size(); ++i) {
    if (auto err = DecodeMessage((*msgs)[i], i, out, &cache)) return err;
  }

  std::optional<double> d;
  if (auto err = ReadUnit(body, "temperature", &d)) return err;
  if (d) out->set_temperature(*d);
  d.reset();
  if (auto err = ReadUnit(body, "top_p", &d)) return err;
  if (d) out->set_top_p(*d);
  if (auto it = body.find("top_k"); it != body.end() && !it->is_null()) {
    int64_t k = 0;
    if (!AsInt(*it, 0, int64_t{1} << 31, &k)) return Bad("top_k", "Input should be a non-negative integer, got " + it->dump());
  }
  if (auto it = body.find("stop_sequences"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return WrongType("stop_sequences", *it, "a valid list");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) return WrongType(Path("stop_sequences", i), (*it)[i], "a valid string");
      out->add_stop((*it)[i].get<std::string>());
    }
  }
  if (auto it = body.find("stream"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return WrongType("stream", *it, "a valid boolean");
    out->set_stream(it->get<bool>());
    // Anthropic streams always end with usage.
    out->set_include_usage(out->stream());
  }
  if (auto it = body.find("metadata"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return WrongType("metadata", *it, "a valid dictionary");
    if (auto u = it->find("user_id"); u != it->end() && !u->is_null()) {
      if (!u->is_string()) return WrongType("metadata.user_id", *u, "a valid string");
      out->set_user(u->get<std::string>());
    }
  }
  json server_tools = json::array();
  if (auto err = DecodeTools(body, out, &cache, &server_tools)) return err;
  if (auto err = DecodeToolChoice(body, out)) return err;
  if (auto err = DecodeThinking(body, out, &extra)) return err;
  // Anthropic answers 400 here; accepting it would make the upstream encoding drop thinking
  // (it must keep budget < max_tokens) and the client would silently get none.
  if (out->has_thinking_budget_tokens() && out->thinking_budget_tokens() >= out->max_tokens()) {
    return Bad("max_tokens", "Input should be greater than thinking.budget_tokens (" +
                                 std::to_string(out->thinking_budget_tokens()) + "), got " + std::to_string(out->max_tokens()));
  }

  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!KnownRequestFields().count(it.key())) extra[it.key()] = it.value();
  }
  extra.erase(kCacheControlKey);  // a client cannot inject our internal state
  if (!server_tools.empty()) extra["tools"] = server_tools;
  if (!cache.empty()) extra[kCacheControlKey] = cache;
  if (!extra.empty()) out->set_passthrough_json(Dump(extra));
  return std::nullopt;
}

json EncodeMessagesResponse(const v1::ChatResponse& res) {
  json content = json::array();
  std::string stop_reason = "end_turn";
  json stop_sequence = nullptr;
  if (res.choices_size() > 0) {
    const auto& c = res.choices(0);
    for (const auto& p : c.message().parts()) {
      if (p.has_thinking()) {
        if (!p.thinking().redacted_data().empty()) {
          content.push_back({{"type", "redacted_thinking"}, {"data", p.thinking().redacted_data()}});
        } else {
          content.push_back({{"type", "thinking"}, {"thinking", p.thinking().text()}, {"signature", p.thinking().signature()}});
        }
      }
    }
    std::string text;
    bool has_text = false;
    for (const auto& p : c.message().parts()) {
      if (p.part_case() == v1::ContentPart::kText) {
        text += p.text();
        has_text = true;
      }
    }
    if (has_text && (!text.empty() || c.message().tool_calls_size() == 0)) content.push_back({{"type", "text"}, {"text", text}});
    for (const auto& tc : c.message().tool_calls()) {
      content.push_back({{"type", "tool_use"},
                         {"id", tc.id()},
                         {"name", tc.name()},
                         {"input", internal::ParseObjectOr(tc.arguments_json(), json::object())}});
    }
    v1::FinishReason fr = c.finish_reason();
    // Some OpenAI-compatible upstreams say "stop" after calling tools; Anthropic clients
    // run tools on stop_reason tool_use.
    if ((fr == v1::FINISH_REASON_STOP || fr == v1::FINISH_REASON_UNSPECIFIED) && c.message().tool_calls_size() > 0) {
      fr = v1::FINISH_REASON_TOOL_CALLS;
    }
    if (fr == v1::FINISH_REASON_STOP && !c.stop_sequence().empty()) fr = v1::FINISH_REASON_STOP_SEQUENCE;
    std::string name = FinishReasonName(fr);
    if (!name.empty()) stop_reason = name;
    if (fr == v1::FINISH_REASON_STOP_SEQUENCE && !c.stop_sequence().empty()) stop_sequence = c.stop_sequence();
  }
  return {{"id", res.id()},
          {"type", "message"},
          {"role", "assistant"},
          {"model", res.model()},
          {"content", content},
          {"stop_reason", stop_reason},
          {"stop_sequence", stop_sequence},
          {"usage", EncodeUsage(res.usage())}};
}

StreamEncoder::StreamEncoder(std::string id, std::string model) : id_(std::move(id)), model_(std::move(model)) {}

std::string StreamEncoder::Start() {
  if (started_) return "";
  started_ = true;
  // The real input count is only known at the end from some upstreams: message_delta
  // carries the full usage.
  json msg = {{"id", id_},
              {"type", "message"},
              {"role", "assistant"},
              {"model", model_},
              {"content", json::array()},
              {"stop_reason", nullptr},
              {"stop_sequence", nullptr},
              {"usage", {{"input_tokens", 0}, {"cache_creation_input_tokens", 0}, {"cache_read_input_tokens", 0}, {"output_tokens", 1}}}};
  return Event("message_start", {{"type", "message_start"}, {"message", msg}}) + Event("ping", {{"type", "ping"}});
}

std::string StreamEncoder::Close() {
  if (open_ == Block::kNone) return "";
  std::string s = Event("content_block_stop", {{"type", "content_block_stop"}, {"index", open_index_}});
  open_ = Block::kNone;
  open_tool_ = -1;
  open_tool_id_.clear();
  return s;
}

std::string StreamEncoder::Open(Block kind, const json& content_block) {
  std::string s = Close();
  open_ = kind;
  open_index_ = next_index_++;
  return s + Event("content_block_start", {{"type", "content_block_start"}, {"index", open_index_}, {"content_block", content_block}});
}

std::string StreamEncoder::Delta(const json& delta) {
  return Event("content_block_delta", {{"type", "content_block_delta"}, {"index", open_index_}, {"delta", delta}});
}

std::string StreamEncoder::Chunk(const v1::ChatChunk& chunk) {
  if (finished_) return "";
  std::string s = Start();
  for (const auto& d : chunk.deltas()) {
    if (d.index() != 0) continue;  // Anthropic has a single choice
    if (!d.thinking().empty()) {
      if (open_ != Block::kThinking) s += Open(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
      s += Delta({{"type", "thinking_delta"}, {"thinking", d.thinking()}});
    }
    if (!d.thinking_signature().empty()) {
      if (open_ != Block::kThinking) s += Open(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
      s += Delta({{"type", "signature_delta"}, {"signature", d.thinking_signature()}});
    }
    if (!d.text().empty()) {
      if (open_ != Block::kText) s += Open(Block::kText, {{"type", "text"}, {"text", ""}});
      s += Delta({{"type", "text_delta"}, {"text", d.text()}});
    }
    for (const auto& tc : d.tool_calls()) {
      bool same = open_ == Block::kTool && open_tool_ == tc.index() && (tc.id().empty() || tc.id() == open_tool_id_);
      if (!same) {
        // A call can only start with its id and name; a stray fragment of a call whose
        // block is already closed cannot be reopened in Anthropic's format.
        if (tc.id().empty() && tc.name().empty()) continue;
        s += Open(Block::kTool, {{"type", "tool_use"}, {"id", tc.id()}, {"name", tc.name()}, {"input", json::object()}});
        open_tool_ = tc.index();
        open_tool_id_ = tc.id();
        any_tool_ = true;
      }
      if (!tc.arguments_fragment().empty()) s += Delta({{"type", "input_json_delta"}, {"partial_json", tc.arguments_fragment()}});
    }
    if (d.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) seen_reason_ = d.finish_reason();
    if (!d.stop_sequence().empty()) seen_stop_sequence_ = d.stop_sequence();
  }
  return s;
}

std::string StreamEncoder::Finish(const v1::Usage& usage, v1::FinishReason reason, const std::string& stop_sequence) {
  if (finished_) return "";
  std::string s = Start() + Close();
  finished_ = true;
  if (reason == v1::FINISH_REASON_UNSPECIFIED) reason = seen_reason_;
  if (reason == v1::FINISH_REASON_UNSPECIFIED) reason = v1::FINISH_REASON_STOP;
  if (reason == v1::FINISH_REASON_STOP && any_tool_) reason = v1::FINISH_REASON_TOOL_CALLS;
  std::string seq = stop_sequence.empty() ? seen_stop_sequence_ : stop_sequence;
  if (reason == v1::FINISH_REASON_STOP && !seq.empty()) reason = v1::FINISH_REASON_STOP_SEQUENCE;
  json delta = {{"stop_reason", FinishReasonName(reason)},
                {"stop_sequence", reason == v1::FINISH_REASON_STOP_SEQUENCE && !seq.empty() ? json(seq) : json(nullptr)}};
  s += Event("message_delta", {{"type", "message_delta"}, {"delta", delta}, {"usage", EncodeUsage(usage)}});
  s += Event("message_stop", {{"type", "message_stop"}});
  return s;
}

std::string StreamEncoder::Error(const ApiError& err) {
  finished_ = true;
  return Event("error", EncodeError(err));
}

// ---- Upstream side ----

json EncodeMessagesRequest(const v1::ChatRequest& req, const std::string& upstream_model) {
  const bool native = req.source_dialect() == v1::DIALECT_ANTHROPIC;
  json j = json::object();
  json cache = json::object();
  json server_tools = json::array();
  // Unknown client fields first, so nothing we set can be overridden by them.
  if (native && !req.passthrough_json().empty()) {
    json extra = internal::ParseObjectOr(req.passthrough_json(), json::object());
    if (extra.contains(kCacheControlKey) && extra[kCacheControlKey].is_object()) cache = extra[kCacheControlKey];
    if (extra.contains("tools") && extra["tools"].is_array()) server_tools = extra["tools"];
    extra.erase(kCacheControlKey);
    extra.erase("tools");
    j = extra;
  }
  j["model"] = upstream_model.empty() ? req.model() : upstream_model;

  // System and developer messages, wherever they are, become the system prompt: a plain
  // string unless cache breakpoints need blocks.
  json system_blocks = json::array();
  bool system_cached = false;
  for (int i = 0; i < req.messages_size(); ++i) {
    const auto& m = req.messages(i);
    if (m.role() != v1::ROLE_SYSTEM && m.role() != v1::ROLE_DEVELOPER) continue;
    for (int p = 0; p < m.parts_size(); ++p) {
      if (m.parts(p).part_case() != v1::ContentPart::kText || m.parts(p).text().empty()) continue;
      json b = {{"type", "text"}, {"text", m.parts(p).text()}};
      WithCache(cache, "m" + std::to_string(i) + ".p" + std::to_string(p), &b);
      system_cached = system_cached || b.contains("cache_control");
      system_blocks.push_back(std::move(b));
    }
  }
  if (system_cached) {
    j["system"] = system_blocks;
  } else if (!system_blocks.empty()) {
    std::string sys;
    for (const auto& b : system_blocks) sys += (sys.empty() ? "" : "\n\n") + b["text"].get<std::string>();
    j["system"] = sys;
  } else {
    j.erase("system");
  }

  // Anthropic wants alternating turns starting with the user: same-role neighbours merge,
  // tool results ride in user turns (first, as Anthropic requires).
  json msgs = json::array();
  auto append = [&msgs](const char* role, json blocks, bool results) {
    if (blocks.empty()) return;
    if (msgs.empty() || msgs.back()["role"] != role) {
      msgs.push_back({{"role", role}, {"content", json::array()}});
    }
    json& content = msgs.back()["content"];
    if (results) {
      auto pos = std::find_if(content.begin(), content.end(), [](const json& b) { return b["type"] != "tool_result"; });
      content.insert(pos, blocks.begin(), blocks.end());
    } else {
      for (auto& b : blocks) content.push_back(std::move(b));
    }
  };
  for (int i = 0; i < req.messages_size(); ++i) {
    const auto& m = req.messages(i);
    switch (m.role()) {
      case v1::ROLE_SYSTEM:
      case v1::ROLE_DEVELOPER: break;
      case v1::ROLE_ASSISTANT: append("assistant", AssistantBlocks(m, i, cache), false); break;
      case v1::ROLE_TOOL: append("user", json::array({ToolResultBlock(m, i, cache)}), true); break;
      default: {
        json blocks = json::array();
        PartBlocks(m, i, cache, &blocks);
        append("user", std::move(blocks), false);
      }
    }
  }
  if (msgs.empty() || msgs[0]["role"] != "user") {
    msgs.insert(msgs.begin(), json{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "."}}})}});
  }
  j["messages"] = msgs;

  int64_t budget = ThinkingBudget(req);
  int64_t max_tokens = req.has_max_tokens() ? req.max_tokens() : std::max(kDefaultMaxTokens, budget + kDefaultMaxTokens);
  if (budget > 0 && budget >= max_tokens) budget = max_tokens - 1;  // Anthropic: budget < max_tokens
  if (budget > 0 && budget < kMinThinkingBudget) budget = 0;
  j["max_tokens"] = max_tokens;
  if (budget > 0) j["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
  // Thinking rejects sampling changes and newer models reject temperature with top_p;
  // a native client gets exactly what it asked for, others what Anthropic accepts.
  bool sample_ok = native || budget == 0;
  if (req.has_temperature() && sample_ok) j["temperature"] = std::min(req.temperature(), 1.0);  // OpenAI allows up to 2
  if (req.has_top_p() && sample_ok && (native || !req.has_temperature())) j["top_p"] = req.top_p();
  if (req.stop_size() > 0) j["stop_sequences"] = json(std::vector<std::string>(req.stop().begin(), req.stop().end()));
  if (!req.user().empty()) j["metadata"] = {{"user_id", req.user()}};

  json tools = json::array();
  for (int k = 0; k < req.tools_size(); ++k) {
    const auto& t = req.tools(k);
    json tool = {{"name", t.name()},
                 {"input_schema", internal::ParseObjectOr(t.parameters_json(), json{{"type", "object"}, {"properties", json::object()}})}};
    if (!t.description().empty()) tool["description"] = t.description();
    WithCache(cache, "t" + std::to_string(k), &tool);
    tools.push_back(std::move(tool));
  }
  for (auto& t : server_tools) tools.push_back(t);
  if (!tools.empty()) {
    j["tools"] = tools;
    json choice;
    switch (req.tool_choice().choice_case()) {
      case v1::ToolChoice::kMode:
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_AUTO) choice = {{"type", "auto"}};
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_REQUIRED) choice = {{"type", "any"}};
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_NONE) choice = {{"type", "none"}};
        break;
      case v1::ToolChoice::kFunctionName: choice = {{"type", "tool"}, {"name", req.tool_choice().function_name()}}; break;
      default: break;
    }
    if (req.has_parallel_tool_calls() && !req.parallel_tool_calls()) {
      if (choice.is_null()) choice = {{"type", "auto"}};
      if (choice["type"] != "none") choice["disable_parallel_tool_use"] = true;
    }
    if (!choice.is_null()) j["tool_choice"] = choice;
  } else {
    j.erase("tools");
    j.erase("tool_choice");
  }
  if (req.stream()) {
    j["stream"] = true;
  } else {
    j.erase("stream");
  }
  return j;
}

std::optional<ApiError> DecodeMessagesResponse(std::string_view body_text, v1::ChatResponse* out) {
  json body = ParseBounded(body_text);
  if (!body.is_object()) return BadUpstream("upstream returned an invalid Anthropic message");
  if (body.value("type", json()) == "error" || body.contains("error")) return UpstreamError(body);
  if (!body.contains("content") || !body["content"].is_array()) return BadUpstream("upstream returned an invalid Anthropic message");
  if (body.contains("id") && body["id"].is_string()) out->set_id(body["id"].get<std::string>());
  if (body.contains("model") && body["model"].is_string()) out->set_model(body["model"].get<std::string>());
  auto* choice = out->add_choices();
  auto* m = choice->mutable_message();
  m->set_role(v1::ROLE_ASSISTANT);
  for (const json& b : body["content"]) {
    if (!b.is_object() || !b.contains("type") || !b["type"].is_string()) continue;
    const std::string type = b["type"].get<std::string>();
    auto str = [&b](const char* k) { return b.contains(k) && b[k].is_string() ? b[k].get<std::string>() : std::string(); };
    if (type == "text") {
      m->add_parts()->set_text(str("text"));
    } else if (type == "thinking") {
      auto* th = m->add_parts()->mutable_thinking();
      th->set_text(str("thinking"));
      th->set_signature(str("signature"));
    } else if (type == "redacted_thinking") {
      m->add_parts()->mutable_thinking()->set_redacted_data(str("data"));
    } else if (type == "tool_use") {
      auto* call = m->add_tool_calls();
      call->set_id(str("id"));
      call->set_name(str("name"));
      call->set_arguments_json(b.contains("input") ? Dump(b["input"]) : "{}");
    }
    // Server tool blocks (server_tool_use, web_search_tool_result) have no canonical form.
  }
  if (body.contains("stop_reason") && body["stop_reason"].is_string()) {
    choice->set_finish_reason(ParseStopReasonImpl(body["stop_reason"].get<std::string>()));
  }
  if (body.contains("stop_sequence") && body["stop_sequence"].is_string()) {
    choice->set_stop_sequence(body["stop_sequence"].get<std::string>());
  }
  if (body.contains("usage")) DecodeUsage(body["usage"], out->mutable_usage());
  return std::nullopt;
}

v1::ChatChunk StreamDecoder::NewChunk() const {
  v1::ChatChunk c;
  c.set_id(id_);
  c.set_model(model_);
  return c;
}

std::optional<v1::Usage> StreamDecoder::FinalUsage() const {
  if (!have_usage_) return std::nullopt;
  v1::Usage u;
  u.set_prompt_tokens(input_ + cache_read_ + cache_write_);
  u.set_cached_tokens(cache_read_);
  u.set_cache_write_tokens(cache_write_);
  u.set_completion_tokens(output_);
  u.set_web_search_calls(web_searches_);
  u.set_source(v1::USAGE_SOURCE_UPSTREAM);
  return u;
}

std::optional<ApiError> StreamDecoder::Feed(std::string_view event, std::string_view data, std::vector<v1::ChatChunk>* out) {
  if (event == "ping") return std::nullopt;
  json j = ParseBounded(data);
  if (!j.is_object()) return BadUpstream("upstream sent an invalid Anthropic stream event");
  std::string type = j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : std::string(event);
  if (type == "error") return UpstreamError(j);
  if (done_) return std::nullopt;

  // Later usage reports are cumulative and override earlier ones field by field.
  auto take_usage = [this](const json& u) {
    if (!u.is_object()) return;
    have_usage_ = true;
    if (u.contains("input_tokens")) input_ = CountOr0(u, "input_tokens");
    if (u.contains("cache_read_input_tokens")) cache_read_ = CountOr0(u, "cache_read_input_tokens");
    if (u.contains("cache_creation_input_tokens")) cache_write_ = CountOr0(u, "cache_creation_input_tokens");
    if (u.contains("output_tokens")) output_ = CountOr0(u, "output_tokens");
    if (u.contains("server_tool_use")) web_searches_ = CountOr0(u["server_tool_use"], "web_search_requests");
  };
  auto index_of = [&j](int64_t* idx) { return j.contains("index") && AsInt(j["index"], 0, int64_t{1} << 31, idx); };

  if (type == "message_start") {
    const json& m = j.contains("message") && j["message"].is_object() ? j["message"] : json::object();
    if (m.contains("id") && m["id"].is_string()) id_ = m["id"].get<std::string>();
    if (m.contains("model") && m["model"].is_string()) model_ = m["model"].get<std::string>();
    if (m.contains("usage")) take_usage(m["usage"]);
    auto c = NewChunk();
    c.add_deltas()->set_role(v1::ROLE_ASSISTANT);
    out->push_back(std::move(c));
  } else if (type == "content_block_start") {
    int64_t idx = 0;
    if (!index_of(&idx) || !j.contains("content_block") || !j["content_block"].is_object()) {
      return BadUpstream("upstream sent an invalid content_block_start");
    }
    const json& b = j["content_block"];
    std::string bt = b.contains("type") && b["type"].is_string() ? b["type"].get<std::string>() : "";
    auto str = [&b](const char* k) { return b.contains(k) && b[k].is_string() ? b[k].get<std::string>() : std::string(); };
    auto c = NewChunk();
    auto* d = c.add_deltas();
    if (bt == "text") {
      blocks_[idx] = Block::kText;
      d->set_text(str("text"));
    } else if (bt == "thinking") {
      blocks_[idx] = Block::kThinking;
      d->set_thinking(str("thinking"));
    } else if (bt == "tool_use") {
      blocks_[idx] = Block::kTool;
      int ordinal = next_tool_++;
      tool_ordinal_[idx] = ordinal;
      auto* t = d->add_tool_calls();
      t->set_index(ordinal);
      t->set_id(str("id"));
      t->set_name(str("name"));
    } else {
      // redacted_thinking and server tool blocks have no place in a canonical delta.
      blocks_[idx] = Block::kOther;
    }
    if (!d->text().empty() || !d->thinking().empty() || d->tool_calls_size() > 0) out->push_back(std::move(c));
  } else if (type == "content_block_delta") {
    int64_t idx = 0;
    if (!index_of(&idx) || !j.contains("delta") || !j["delta"].is_object()) {
      return BadUpstream("upstream sent an invalid content_block_delta");
    }
    const json& dj = j["delta"];
    std::string dt = dj.contains("type") && dj["type"].is_string() ? dj["type"].get<std::string>() : "";
    auto str = [&dj](const char* k) { return dj.contains(k) && dj[k].is_string() ? dj[k].get<std::string>() : std::string(); };
    auto c = NewChunk();
    auto* d = c.add_deltas();
    if (dt == "text_delta") {
      d->set_text(str("text"));
    } else if (dt == "thinking_delta") {
      d->set_thinking(str("thinking"));
    } else if (dt == "signature_delta") {
      d->set_thinking_signature(str("signature"));
    } else if (dt == "input_json_delta") {
      auto it = tool_ordinal_.find(idx);
      if (it == tool_ordinal_.end()) return std::nullopt;  // server tool input
      auto* t = d->add_tool_calls();
      t->set_index(it->second);
      t->set_arguments_fragment(str("partial_json"));
    }
    if (!d->text().empty() || !d->thinking().empty() || !d->thinking_signature().empty() || d->tool_calls_size() > 0) {
      out->push_back(std::move(c));
    }
  } else if (type == "message_delta") {
    if (j.contains("usage")) take_usage(j["usage"]);
    if (j.contains("delta") && j["delta"].is_object()) {
      const json& dj = j["delta"];
      auto c = NewChunk();
      auto* d = c.add_deltas();
      if (dj.contains("stop_reason") && dj["stop_reason"].is_string()) {
        d->set_finish_reason(ParseStopReasonImpl(dj["stop_reason"].get<std::string>()));
      }
      if (dj.contains("stop_sequence") && dj["stop_sequence"].is_string()) d->set_stop_sequence(dj["stop_sequence"].get<std::string>());
      if (d->finish_reason() != v1::FINISH_REASON_UNSPECIFIED) out->push_back(std::move(c));
    }
  } else if (type == "message_stop") {
    done_ = true;
    auto c = NewChunk();
    if (auto u = FinalUsage()) *c.mutable_usage() = *u;
    out->push_back(std::move(c));
  }
  // content_block_stop and unknown events carry nothing canonical.
  return std::nullopt;
}

}  // namespace routeall::codecs::anthropic
