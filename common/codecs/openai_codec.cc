// OpenAI Chat Completions codec.
#include "common/codecs/openai_codec.h"

#include "common/codecs/codec_json.h"

#include <cmath>
#include <set>

namespace routeall::codecs::openai {
namespace {

using nlohmann::json;
namespace v1 = ::routeall::llm::v1;

// Fields the canonical request models; everything else is passed through.
const std::set<std::string>& KnownRequestFields() {
  static const std::set<std::string> k = {
      "model", "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
      "tools", "tool_choice", "seed", "n", "user", "response_format", "stream", "stream_options",
      "parallel_tool_calls", "reasoning_effort"};
  return k;
}

ApiError WrongType(const std::string& param, const json& got, const char* want) {
  return InvalidField(param, "Invalid type for '" + param + "': expected " + want + ", but got " + internal::JsonTypeName(got) + ".",
                      "invalid_type");
}

// Reads an optional number in [lo, hi].
std::optional<ApiError> ReadRange(const json& body, const char* name, double lo, double hi,
                                  std::optional<double>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return WrongType(name, *it, "a number");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "Invalid '%s': must be between %g and %g, got %s.", name, lo, hi,
                  it->dump().c_str());
    return InvalidField(name, buf, "invalid_value");
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> ReadPositiveInt(const json& body, const char* name, int64_t max, std::optional<int64_t>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() && !(it->is_number_float() && std::floor(it->get<double>()) == it->get<double>())) {
    return WrongType(name, *it, "an integer");
  }
  double v = it->get<double>();
  if (v < 1 || v > static_cast<double>(max)) {
    return InvalidField(name, std::string("Invalid '") + name + "': must be between 1 and " + std::to_string(max) +
                                  ", got " + it->dump() + ".");
  }
  *out = static_cast<int64_t>(v);
  return std::nullopt;
}

std::optional<ApiError> DecodeContentParts(const json& content, const std::string& where, v1::Message* m) {
  if (content.is_null()) return std::nullopt;
  if (content.is_string()) {
    m->add_parts()->set_text(content.get<std::string>());
    return std::nullopt;
  }
  if (!content.is_array()) return WrongType(where, content, "a string or an array of content parts");
  for (size_t i = 0; i < content.size(); ++i) {
    const json& p = content[i];
    std::string pw = where + "[" + std::to_string(i) + "]";
    if (!p.is_object()) return WrongType(pw, p, "an object");
    std::string type = internal::StrOr(p, "type", "");
    if (type == "text") {
      auto t = p.find("text");
      if (t == p.end() || !t->is_string()) return InvalidField(pw + ".text", "Missing required parameter: '" + pw + ".text'.", "missing_required_parameter");
      m->add_parts()->set_text(t->get<std::string>());
    } else if (type == "image_url") {
      auto iu = p.find("image_url");
      if (iu == p.end()) return InvalidField(pw + ".image_url", "Missing required parameter: '" + pw + ".image_url'.", "missing_required_parameter");
      auto* img = m->add_parts()->mutable_image();
      if (iu->is_string()) {
        img->set_url(iu->get<std::string>());
      } else if (iu->is_object() && iu->contains("url") && (*iu)["url"].is_string()) {
        img->set_url((*iu)["url"].get<std::string>());
        if (iu->contains("detail") && (*iu)["detail"].is_string()) img->set_detail((*iu)["detail"].get<std::string>());
      } else {
        return InvalidField(pw + ".image_url.url", "Missing required parameter: '" + pw + ".image_url.url'.", "missing_required_parameter");
      }
    } else if (type == "refusal") {
      // An assistant's earlier refusal is replayed as text.
      if (p.contains("refusal") && p["refusal"].is_string()) m->add_parts()->set_text(p["refusal"].get<std::string>());
    } else {
      return InvalidField(pw + ".type", "Invalid value for '" + pw + ".type': '" + type + "'. Supported values are: 'text', 'image_url' and 'refusal'.");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> DecodeMessage(const json& jm, size_t index, v1::Message* m) {
  std::string where = "messages[" + std::to_string(index) + "]";
  if (!jm.is_object()) return WrongType(where, jm, "an object");
  auto role_it = jm.find("role");
  if (role_it == jm.end() || !role_it->is_string()) {
    return InvalidField(where + ".role", "Missing required parameter: '" + where + ".role'.", "missing_required_parameter");
  }
  std::string role = role_it->get<std::string>();
  if (role == "system") m->set_role(v1::ROLE_SYSTEM);
  else if (role == "developer") m->set_role(v1::ROLE_DEVELOPER);
  else if (role == "user") m->set_role(v1::ROLE_USER);
  else if (role == "assistant") m->set_role(v1::ROLE_ASSISTANT);
  else if (role == "tool") m->set_role(v1::ROLE_TOOL);
  else {
    return InvalidField(where + ".role", "Invalid value for '" + where + ".role': '" + role +
                                             "'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.");
  }
  if (jm.contains("name") && jm["name"].is_string()) m->set_name(jm["name"].get<std::string>());
  auto content = jm.find("content");
  if (content == jm.end()) {
    if (m->role() != v1::ROLE_ASSISTANT) {
      return InvalidField(where + ".content", "Missing required parameter: '" + where + ".content'.", "missing_required_parameter");
    }
  } else if (auto err = DecodeContentParts(*content, where + ".content", m)) {
    return err;
  }
  if (m->role() == v1::ROLE_ASSISTANT) {
    if (auto rc = jm.find("reasoning_content"); rc != jm.end() && rc->is_string() && !rc->get<std::string>().empty()) {
      m->mutable_parts()->Add()->mutable_thinking()->set_text(rc->get<std::string>());
    }
    auto tcs = jm.find("tool_calls");
    if (tcs != jm.end() && !tcs->is_null()) {
      if (!tcs->is_array()) return WrongType(where + ".tool_calls", *tcs, "an array");
      for (size_t i = 0; i < tcs->size(); ++i) {
        const json& tc = (*tcs)[i];
        std::string tw = where + ".tool_calls[" + std::to_string(i) + "]";
        if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object()) {
          return InvalidField(tw + ".function", "Missing required parameter: '" + tw + ".function'.", "missing_required_parameter");
        }
        const json& fn = tc["function"];
        if (!fn.contains("name") || !fn["name"].is_string()) {
          return InvalidField(tw + ".function.name", "Missing required parameter: '" + tw + ".function.name'.", "missing_required_parameter");
        }
        auto* call = m->add_tool_calls();
        call->set_id(internal::StrOr(tc, "id", ""));
        call->set_name(fn["name"].get<std::string>());
        if (fn.contains("arguments")) {
          call->set_arguments_json(fn["arguments"].is_string() ? fn["arguments"].get<std::string>() : fn["arguments"].dump());
        }
      }
    }
  }
  if (m->role() == v1::ROLE_TOOL) {
    auto id = jm.find("tool_call_id");
    if (id == jm.end() || !id->is_string()) {
      return InvalidField(where + ".tool_call_id", "Missing required parameter: '" + where + ".tool_call_id'.", "missing_required_parameter");
    }
    m->set_tool_call_id(id->get<std::string>());
  }
  return std::nullopt;
}

std::optional<ApiError> DecodeTools(const json& body, v1::ChatRequest* out) {
  auto it = body.find("tools");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return WrongType("tools", *it, "an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    std::string w = "tools[" + std::to_string(i) + "]";
    if (!t.is_object()) return WrongType(w, t, "an object");
    if (t.contains("type") && internal::StrOr(t, "type") != "function") {
      return InvalidField(w + ".type", "Invalid value for '" + w + ".type': '" + internal::StrOr(t, "type", "") + "'. Supported values are: 'function'.");
    }
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) {
      return InvalidField(w + ".function", "Missing required parameter: '" + w + ".function'.", "missing_required_parameter");
    }
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) {
      return InvalidField(w + ".function.name", "Missing required parameter: '" + w + ".function.name'.", "missing_required_parameter");
    }
    auto* tool = out->add_tools();
    tool->set_name(name->get<std::string>());
    if (fn->contains("description") && (*fn)["description"].is_string()) tool->set_description((*fn)["description"].get<std::string>());
    if (fn->contains("parameters") && !(*fn)["parameters"].is_null()) {
      if (!(*fn)["parameters"].is_object()) return WrongType(w + ".function.parameters", (*fn)["parameters"], "an object");
      tool->set_parameters_json((*fn)["parameters"].dump());
    }
    if (fn->contains("strict") && (*fn)["strict"].is_boolean()) tool->set_strict((*fn)["strict"].get<bool>());
  }
  return std::nullopt;
}

std::optional<ApiError> DecodeToolChoice(const json& body, v1::ChatRequest* out) {
  auto it = body.find("tool_choice");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "auto") out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_AUTO);
    else if (s == "none") out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_NONE);
    else if (s == "required") out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_REQUIRED);
    else return InvalidField("tool_choice", "Invalid value for 'tool_choice': '" + s + "'. Supported values are: 'none', 'auto', and 'required'.");
    return std::nullopt;
  }
  if (it->is_object() && it->contains("function") && (*it)["function"].is_object() &&
      (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
    out->mutable_tool_choice()->set_function_name((*it)["function"]["name"].get<std::string>());
    return std::nullopt;
  }
  return InvalidField("tool_choice", "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.");
}

json EncodeContent(const v1::Message& m) {
  bool only_text = true;
  int text_parts = 0;
  for (const auto& p : m.parts()) {
    if (p.has_image()) only_text = false;
    if (p.part_case() == v1::ContentPart::kText) ++text_parts;
  }
  if (only_text && text_parts <= 1) {
    for (const auto& p : m.parts()) {
      if (p.part_case() == v1::ContentPart::kText) return p.text();
    }
    return m.tool_calls_size() > 0 ? json(nullptr) : json("");
  }
  json arr = json::array();
  for (const auto& p : m.parts()) {
    if (p.part_case() == v1::ContentPart::kText) {
      arr.push_back({{"type", "text"}, {"text", p.text()}});
    } else if (p.has_image()) {
      std::string url = p.image().url();
      if (url.empty()) url = "data:" + p.image().mime_type() + ";base64," + p.image().data_base64();
      json iu = {{"url", url}};
      if (!p.image().detail().empty()) iu["detail"] = p.image().detail();
      arr.push_back({{"type", "image_url"}, {"image_url", iu}});
    }
  }
  return arr;
}

const char* RoleName(v1::Role r) {
  switch (r) {
    case v1::ROLE_SYSTEM: return "system";
    case v1::ROLE_DEVELOPER: return "developer";
    case v1::ROLE_USER: return "user";
    case v1::ROLE_ASSISTANT: return "assistant";
    case v1::ROLE_TOOL: return "tool";
    default: return "user";
  }
}

v1::Role ParseRole(std::string_view s) {
  if (s == "system") return v1::ROLE_SYSTEM;
  if (s == "developer") return v1::ROLE_DEVELOPER;
  if (s == "assistant") return v1::ROLE_ASSISTANT;
  if (s == "tool") return v1::ROLE_TOOL;
  if (s == "user") return v1::ROLE_USER;
  return v1::ROLE_UNSPECIFIED;
}

json EncodeMessage(const v1::Message& m) {
  json j = {{"role", RoleName(m.role())}};
  j["content"] = EncodeContent(m);
  if (!m.name().empty() && m.role() != v1::ROLE_TOOL) j["name"] = m.name();
  if (m.tool_calls_size() > 0) {
    json calls = json::array();
    for (const auto& c : m.tool_calls()) {
      calls.push_back({{"id", c.id()}, {"type", "function"},
                       {"function", {{"name", c.name()}, {"arguments", c.arguments_json()}}}});
    }
    j["tool_calls"] = calls;
  }
  if (m.role() == v1::ROLE_TOOL) j["tool_call_id"] = m.tool_call_id();
  return j;
}

// Usage counts: the shared rule (0 when absent, internal::kInvalidCount when nonsense).
int64_t IntOr0(const json& j, const char* key) { return internal::CountOr0(j, key); }

}  // namespace

std::string FinishReasonName(v1::FinishReason r) {
  switch (r) {
    case v1::FINISH_REASON_STOP:
    case v1::FINISH_REASON_STOP_SEQUENCE: return "stop";
    case v1::FINISH_REASON_LENGTH: return "length";
    case v1::FINISH_REASON_TOOL_CALLS: return "tool_calls";
    case v1::FINISH_REASON_CONTENT_FILTER: return "content_filter";
    case v1::FINISH_REASON_ERROR: return "stop";
    default: return "";
  }
}

v1::FinishReason ParseFinishReason(std::string_view s) {
  if (s == "stop") return v1::FINISH_REASON_STOP;
  if (s == "length") return v1::FINISH_REASON_LENGTH;
  if (s == "tool_calls" || s == "function_call") return v1::FINISH_REASON_TOOL_CALLS;
  if (s == "content_filter") return v1::FINISH_REASON_CONTENT_FILTER;
  return v1::FINISH_REASON_UNSPECIFIED;
}

std::optional<ApiError> DecodeChatRequest(std::string_view body_text, v1::ChatRequest* out) {
  bool too_deep = false;
  json body = ParseBounded(body_text, &too_deep);
  if (too_deep) return TooDeepError();
  if (body.is_discarded()) {
    return ApiError{400, "invalid_request_error",
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
                    "", "invalid_json"};
  }
  if (!body.is_object()) return WrongType("body", body, "an object");
  out->set_source_dialect(v1::DIALECT_OPENAI);

  auto model = body.find("model");
  if (model == body.end() || model->is_null()) {
    return InvalidField("model", "you must provide a model parameter", "missing_required_parameter");
  }
  if (!model->is_string() || model->get<std::string>().empty()) return WrongType("model", *model, "a non-empty string");
  out->set_model(model->get<std::string>());

  auto msgs = body.find("messages");
  if (msgs == body.end()) return InvalidField("messages", "Missing required parameter: 'messages'.", "missing_required_parameter");
  if (!msgs->is_array()) return WrongType("messages", *msgs, "an array");
  if (msgs->empty()) return InvalidField("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "empty_array");
  for (size_t i = 0; i < msgs->size(); ++i) {
    if (auto err = DecodeMessage((*msgs)[i], i, out->add_messages())) return err;
  }

  std::optional<double> d;
  if (auto err = ReadRange(body, "temperature", 0, 2, &d)) return err;
  if (d) out->set_temperature(*d);
  d.reset();
  if (auto err = ReadRange(body, "top_p", 0, 1, &d)) return err;
  if (d) out->set_top_p(*d);

  std::optional<int64_t> n;
  if (auto err = ReadPositiveInt(body, "max_completion_tokens", int64_t{1} << 31, &n)) return err;
  if (n) {
    out->set_max_tokens(*n);
    out->set_max_tokens_is_completion(true);
  } else {
    if (auto err = ReadPositiveInt(body, "max_tokens", int64_t{1} << 31, &n)) return err;
    if (n) out->set_max_tokens(*n);
  }
  n.reset();
  if (auto err = ReadPositiveInt(body, "n", 128, &n)) return err;
  if (n) out->set_n(static_cast<int32_t>(*n));

  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      out->add_stop(it->get<std::string>());
    } else if (it->is_array()) {
      if (it->size() > 4) return InvalidField("stop", "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length " + std::to_string(it->size()) + " instead.", "array_above_max_length");
      for (size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string()) return WrongType("stop[" + std::to_string(i) + "]", (*it)[i], "a string");
        out->add_stop((*it)[i].get<std::string>());
      }
    } else {
      return WrongType("stop", *it, "a string or an array of strings");
    }
  }
  if (auto it = body.find("seed"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) return WrongType("seed", *it, "an integer");
    out->set_seed(it->get<int64_t>());
  }
  if (auto it = body.find("user"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return WrongType("user", *it, "a string");
    out->set_user(it->get<std::string>());
  }
  if (auto it = body.find("stream"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return WrongType("stream", *it, "a boolean");
    out->set_stream(it->get<bool>());
  }
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return WrongType("stream_options", *it, "an object");
    if (!out->stream()) return InvalidField("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    if (auto iu = it->find("include_usage"); iu != it->end() && !iu->is_null()) {
      if (!iu->is_boolean()) return WrongType("stream_options.include_usage", *iu, "a boolean");
      out->set_include_usage(iu->get<bool>());
    }
  }
  if (auto it = body.find("parallel_tool_calls"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return WrongType("parallel_tool_calls", *it, "a boolean");
    out->set_parallel_tool_calls(it->get<bool>());
  }
  if (auto it = body.find("reasoning_effort"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return WrongType("reasoning_effort", *it, "a string");
    out->set_reasoning_effort(it->get<std::string>());
  }
  if (auto it = body.find("response_format"); it != body.end() && !it->is_null()) {
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string()) {
      return InvalidField("response_format.type", "Missing required parameter: 'response_format.type'.", "missing_required_parameter");
    }
    std::string t = (*it)["type"].get<std::string>();
    if (t != "text" && t != "json_object" && t != "json_schema") {
      return InvalidField("response_format.type", "Invalid value for 'response_format.type': '" + t + "'. Supported values are: 'json_object', 'json_schema', and 'text'.");
    }
    if (t == "json_schema" && (!it->contains("json_schema") || !(*it)["json_schema"].is_object())) {
      return InvalidField("response_format.json_schema", "Missing required parameter: 'response_format.json_schema'.", "missing_required_parameter");
    }
    out->set_response_format_json(it->dump());
  }
  if (auto err = DecodeTools(body, out)) return err;
  if (auto err = DecodeToolChoice(body, out)) return err;

  json extra = json::object();
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!KnownRequestFields().count(it.key())) extra[it.key()] = it.value();
  }
  if (!extra.empty()) out->set_passthrough_json(extra.dump());
  return std::nullopt;
}

json EncodeChatRequest(const v1::ChatRequest& req, const std::string& upstream_model) {
  json j = json::object();
  // Unknown client fields first, so nothing we set can be overridden by them.
  if (!req.passthrough_json().empty() && req.source_dialect() == v1::DIALECT_OPENAI) {
    json extra = ParseBounded(req.passthrough_json());
    if (extra.is_object()) j = extra;
  }
  j["model"] = upstream_model.empty() ? req.model() : upstream_model;
  json msgs = json::array();
  for (const auto& m : req.messages()) msgs.push_back(EncodeMessage(m));
  j["messages"] = msgs;
  if (req.has_temperature()) j["temperature"] = req.temperature();
  if (req.has_top_p()) j["top_p"] = req.top_p();
  if (req.has_max_tokens()) j[req.max_tokens_is_completion() ? "max_completion_tokens" : "max_tokens"] = req.max_tokens();
  if (req.stop_size() == 1) j["stop"] = req.stop(0);
  else if (req.stop_size() > 1) j["stop"] = json(std::vector<std::string>(req.stop().begin(), req.stop().end()));
  if (req.has_seed()) j["seed"] = req.seed();
  if (req.has_n()) j["n"] = req.n();
  if (!req.user().empty()) j["user"] = req.user();
  if (!req.response_format_json().empty()) j["response_format"] = ParseBounded(req.response_format_json());
  if (req.has_parallel_tool_calls()) j["parallel_tool_calls"] = req.parallel_tool_calls();
  if (!req.reasoning_effort().empty()) j["reasoning_effort"] = req.reasoning_effort();
  if (req.tools_size() > 0) {
    json tools = json::array();
    for (const auto& t : req.tools()) {
      json fn = {{"name", t.name()}};
      if (!t.description().empty()) fn["description"] = t.description();
      if (!t.parameters_json().empty()) fn["parameters"] = ParseBounded(t.parameters_json());
      if (t.has_strict()) fn["strict"] = t.strict();
      tools.push_back({{"type", "function"}, {"function", fn}});
    }
    j["tools"] = tools;
  }
  switch (req.tool_choice().choice_case()) {
    case v1::ToolChoice::kMode:
      if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_AUTO) j["tool_choice"] = "auto";
      if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_NONE) j["tool_choice"] = "none";
      if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_REQUIRED) j["tool_choice"] = "required";
      break;
    case v1::ToolChoice::kFunctionName:
      j["tool_choice"] = {{"type", "function"}, {"function", {{"name", req.tool_choice().function_name()}}}};
      break;
    default:
      break;
  }
  if (req.stream()) {
    j["stream"] = true;
    j["stream_options"] = {{"include_usage", true}};
  } else {
    j.erase("stream");
    j.erase("stream_options");
  }
  return j;
}

void DecodeUsage(const json& u, v1::Usage* out) {
  if (!u.is_object()) return;
  out->set_prompt_tokens(IntOr0(u, "prompt_tokens"));
  out->set_completion_tokens(IntOr0(u, "completion_tokens"));
  if (auto d = u.find("prompt_tokens_details"); d != u.end() && d->is_object()) {
    out->set_cached_tokens(IntOr0(*d, "cached_tokens"));
  } else if (u.contains("prompt_cache_hit_tokens")) {
    // DeepSeek reports cache hits outside prompt_tokens_details (prompt_tokens still includes them).
    out->set_cached_tokens(IntOr0(u, "prompt_cache_hit_tokens"));
  }
  if (auto d = u.find("completion_tokens_details"); d != u.end() && d->is_object()) {
    out->set_reasoning_tokens(IntOr0(*d, "reasoning_tokens"));
  }
  out->set_source(v1::USAGE_SOURCE_UPSTREAM);
}

json EncodeUsage(const v1::Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens()},
          {"completion_tokens", u.completion_tokens()},
          {"total_tokens", u.prompt_tokens() + u.completion_tokens()},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens()}, {"audio_tokens", 0}}},
          {"completion_tokens_details",
           {{"reasoning_tokens", u.reasoning_tokens()}, {"audio_tokens", 0},
            {"accepted_prediction_tokens", 0}, {"rejected_prediction_tokens", 0}}}};
}

std::optional<ApiError> DecodeChatResponse(std::string_view body_text, v1::ChatResponse* out) {
  json body = ParseBounded(body_text);
  if (!body.is_object() || !body.contains("choices") || !body["choices"].is_array()) {
    return ApiError{502, "upstream_error", "upstream returned an invalid chat completion", "", "bad_upstream_response"};
  }
  out->set_id(internal::StrOr(body, "id", ""));
  out->set_model(internal::StrOr(body, "model", ""));
  if (body.contains("created") && body["created"].is_number()) out->set_created_unix(body["created"].get<int64_t>());
  if (body.contains("system_fingerprint") && body["system_fingerprint"].is_string()) {
    out->set_system_fingerprint(body["system_fingerprint"].get<std::string>());
  }
  for (const json& c : body["choices"]) {
    if (!c.is_object()) continue;
    auto* choice = out->add_choices();
    choice->set_index(internal::IndexOr(c, "index"));
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) {
      choice->set_finish_reason(ParseFinishReason(c["finish_reason"].get<std::string>()));
    }
    auto* m = choice->mutable_message();
    m->set_role(v1::ROLE_ASSISTANT);
    if (c.contains("message") && c["message"].is_object()) {
      const json& jm = c["message"];
      if (jm.contains("reasoning_content") && jm["reasoning_content"].is_string() &&
          !jm["reasoning_content"].get<std::string>().empty()) {
        m->add_parts()->mutable_thinking()->set_text(jm["reasoning_content"].get<std::string>());
      }
      if (jm.contains("content") && jm["content"].is_string()) m->add_parts()->set_text(jm["content"].get<std::string>());
      if (jm.contains("tool_calls") && jm["tool_calls"].is_array()) {
        for (const json& tc : jm["tool_calls"]) {
          if (!tc.is_object() || !tc.contains("function")) continue;
          auto* call = m->add_tool_calls();
          call->set_id(internal::StrOr(tc, "id", ""));
          call->set_name(internal::StrOr(tc["function"], "name"));
          const json& args = tc["function"].contains("arguments") ? tc["function"]["arguments"] : json("");
          call->set_arguments_json(args.is_string() ? args.get<std::string>() : args.dump());
        }
      }
    }
  }
  if (body.contains("usage")) DecodeUsage(body["usage"], out->mutable_usage());
  return std::nullopt;
}

json EncodeChatResponse(const v1::ChatResponse& res) {
  json choices = json::array();
  for (const auto& c : res.choices()) {
    json msg = {{"role", "assistant"}, {"refusal", nullptr}};
    std::string text, thinking;
    bool has_text = false;
    for (const auto& p : c.message().parts()) {
      if (p.part_case() == v1::ContentPart::kText) {
        text += p.text();
        has_text = true;
      } else if (p.has_thinking()) {
        thinking += p.thinking().text();
      }
    }
    msg["content"] = has_text ? json(text) : json(nullptr);
    if (!thinking.empty()) msg["reasoning_content"] = thinking;
    if (c.message().tool_calls_size() > 0) {
      json calls = json::array();
      for (const auto& tc : c.message().tool_calls()) {
        calls.push_back({{"id", tc.id()}, {"type", "function"},
                         {"function", {{"name", tc.name()}, {"arguments", tc.arguments_json()}}}});
      }
      msg["tool_calls"] = calls;
    }
    std::string fr = FinishReasonName(c.finish_reason());
    choices.push_back({{"index", c.index()}, {"message", msg}, {"logprobs", nullptr},
                       {"finish_reason", fr.empty() ? json(nullptr) : json(fr)}});
  }
  json j = {{"id", res.id()},
            {"object", "chat.completion"},
            {"created", res.created_unix()},
            {"model", res.model()},
            {"choices", choices},
            {"usage", EncodeUsage(res.usage())}};
  j["system_fingerprint"] = res.system_fingerprint().empty() ? json(nullptr) : json(res.system_fingerprint());
  return j;
}

std::optional<ApiError> DecodeChatChunk(std::string_view data, v1::ChatChunk* out) {
  json j = ParseBounded(data);
  if (!j.is_object()) {
    return ApiError{502, "upstream_error", "upstream sent an invalid stream chunk", "", "bad_upstream_response"};
  }
  if (j.contains("error")) {
    const json& e = j["error"];
    std::string msg = e.is_object() ? internal::StrOr(e, "message", "upstream stream error") : "upstream stream error";
    return ApiError{502, "upstream_error", msg, "", "upstream_stream_error"};
  }
  out->set_id(internal::StrOr(j, "id", ""));
  out->set_model(internal::StrOr(j, "model", ""));
  if (j.contains("created") && j["created"].is_number()) out->set_created_unix(j["created"].get<int64_t>());
  if (j.contains("choices") && j["choices"].is_array()) {
    for (const json& c : j["choices"]) {
      if (!c.is_object()) continue;
      auto* d = out->add_deltas();
      d->set_index(internal::IndexOr(c, "index"));
      if (c.contains("finish_reason") && c["finish_reason"].is_string()) {
        d->set_finish_reason(ParseFinishReason(c["finish_reason"].get<std::string>()));
      }
      if (!c.contains("delta") || !c["delta"].is_object()) continue;
      const json& delta = c["delta"];
      if (delta.contains("role") && delta["role"].is_string()) d->set_role(ParseRole(delta["role"].get<std::string>()));
      if (delta.contains("content") && delta["content"].is_string()) d->set_text(delta["content"].get<std::string>());
      if (delta.contains("reasoning_content") && delta["reasoning_content"].is_string()) {
        d->set_thinking(delta["reasoning_content"].get<std::string>());
      }
      if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
        for (const json& tc : delta["tool_calls"]) {
          if (!tc.is_object()) continue;
          auto* t = d->add_tool_calls();
          t->set_index(internal::IndexOr(tc, "index"));
          if (tc.contains("id") && tc["id"].is_string()) t->set_id(tc["id"].get<std::string>());
          if (tc.contains("function") && tc["function"].is_object()) {
            const json& fn = tc["function"];
            if (fn.contains("name") && fn["name"].is_string()) t->set_name(fn["name"].get<std::string>());
            if (fn.contains("arguments") && fn["arguments"].is_string()) t->set_arguments_fragment(fn["arguments"].get<std::string>());
          }
        }
      }
    }
  }
  if (j.contains("usage") && j["usage"].is_object()) DecodeUsage(j["usage"], out->mutable_usage());
  return std::nullopt;
}

json EncodeChatChunk(const v1::ChatChunk& chunk, bool include_usage) {
  json choices = json::array();
  for (const auto& d : chunk.deltas()) {
    json delta = json::object();
    if (d.role() != v1::ROLE_UNSPECIFIED) delta["role"] = RoleName(d.role());
    if (!d.text().empty() || (d.role() != v1::ROLE_UNSPECIFIED && d.tool_calls_size() == 0)) delta["content"] = d.text();
    if (!d.thinking().empty()) delta["reasoning_content"] = d.thinking();
    if (d.tool_calls_size() > 0) {
      json calls = json::array();
      for (const auto& t : d.tool_calls()) {
        json c = {{"index", t.index()}};
        if (!t.id().empty()) {
          c["id"] = t.id();
          c["type"] = "function";
        }
        json fn = json::object();
        if (!t.name().empty()) fn["name"] = t.name();
        fn["arguments"] = t.arguments_fragment();
        c["function"] = fn;
        calls.push_back(c);
      }
      delta["tool_calls"] = calls;
    }
    std::string fr = FinishReasonName(d.finish_reason());
    choices.push_back({{"index", d.index()}, {"delta", delta}, {"logprobs", nullptr},
                       {"finish_reason", fr.empty() ? json(nullptr) : json(fr)}});
  }
  json j = {{"id", chunk.id()},
            {"object", "chat.completion.chunk"},
            {"created", chunk.created_unix()},
            {"model", chunk.model()},
            {"system_fingerprint", nullptr},
            {"choices", choices}};
  if (include_usage) j["usage"] = chunk.has_usage() ? EncodeUsage(chunk.usage()) : json(nullptr);
  return j;
}

json EncodeError(const ApiError& err) {
  return {{"error",
           {{"message", err.message},
            {"type", err.type},
            {"param", err.param.empty() ? json(nullptr) : json(err.param)},
            {"code", err.code.empty() ? json(nullptr) : json(err.code)}}}};
}

}  // namespace routeall::codecs::openai
