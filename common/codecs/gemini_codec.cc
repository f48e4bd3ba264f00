// Google Gemini generateContent codec.
#include "common/codecs/gemini_codec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "common/codecs/codec_json.h"

namespace routeall::codecs::gemini {
namespace {

using nlohmann::json;
using internal::AsInt;
using internal::CountOr0;
using internal::Dump;
using internal::JsonTypeName;
namespace v1 = ::routeall::llm::v1;

// Google's JSON mapping accepts both lowerCamel and snake_case names for every field.
const json* Field(const json& obj, const char* camel, const char* snake) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(camel);
  if (it != obj.end() && !it->is_null()) return &*it;
  it = obj.find(snake);
  if (it != obj.end() && !it->is_null()) return &*it;
  return nullptr;
}

// Google's error style: "Invalid value at 'generation_config.temperature' ...".
ApiError Bad(const std::string& path, const std::string& what, std::string code = "invalid_value") {
  return InvalidField(path, "Invalid value at '" + path + "': " + what, std::move(code));
}
ApiError WrongType(const std::string& path, const json& got, const char* want) {
  return Bad(path, std::string("expected ") + want + ", got " + JsonTypeName(got), "invalid_type");
}
ApiError Missing(const std::string& path) {
  return InvalidField(path, "Required field missing at '" + path + "'.", "missing_required_parameter");
}
std::string At(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

std::optional<ApiError> ReadRange(const json* v, const std::string& path, double lo, double hi, std::optional<double>* out) {
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) return WrongType(path, *v, "a number");
  double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "must be between %g and %g, got ", lo, hi);
    return Bad(path, buf + v->dump() + ".");
  }
  *out = d;
  return std::nullopt;
}

std::optional<ApiError> ReadInt(const json* v, const std::string& path, int64_t lo, int64_t hi, std::optional<int64_t>* out) {
  if (v == nullptr) return std::nullopt;
  int64_t n = 0;
  if (!v->is_number()) return WrongType(path, *v, "an integer");
  if (!AsInt(*v, lo, hi, &n)) {
    return Bad(path, "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + v->dump() + ".");
  }
  *out = n;
  return std::nullopt;
}

// Gemini's OpenAPI-style schemas spell types in capitals ("OBJECT"); JSON Schema (and
// every other provider) wants lower case.
void LowercaseTypes(json* schema) {
  if (schema->is_object()) {
    for (auto it = schema->begin(); it != schema->end(); ++it) {
      if (it.key() == "type" && it->is_string()) {
        std::string t = it->get<std::string>();
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        *it = t;
      } else {
        LowercaseTypes(&*it);
      }
    }
  } else if (schema->is_array()) {
    for (auto& x : *schema) LowercaseTypes(&x);
  }
}

std::string Str(const json& obj, const char* camel, const char* snake = nullptr) {
  const json* v = Field(obj, camel, snake ? snake : camel);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

struct Call {
  std::string name, id;
  int turn;
  bool answered = false;
};

// The id a functionResponse answers: its own, else the first unanswered call with that
// name in the latest model turn holding one (parallel calls are answered in order).
std::string MatchCall(std::vector<Call>* calls, const std::string& name, const std::string& id, int* ordinal) {
  if (!id.empty()) {
    for (auto& c : *calls) {
      if (c.id == id) c.answered = true;
    }
    return id;
  }
  int turn = -1;
  for (auto it = calls->rbegin(); it != calls->rend(); ++it) {
    if (!it->answered && it->name == name) {
      turn = it->turn;
      break;
    }
  }
  for (auto& c : *calls) {
    if (c.turn == turn && !c.answered && c.name == name) {
      c.answered = true;
      return c.id;
    }
  }
  return "call_" + std::to_string((*ordinal)++);  // answers nothing we saw
}

std::optional<ApiError> DecodeBlob(const json& part, const std::string& pw, v1::ContentPart* out) {
  if (const json* inl = Field(part, "inlineData", "inline_data")) {
    std::string w = pw + ".inline_data";
    if (!inl->is_object()) return WrongType(w, *inl, "an object");
    const json* mt = Field(*inl, "mimeType", "mime_type");
    if (mt == nullptr || !mt->is_string()) return Missing(w + ".mime_type");
    const json* data = Field(*inl, "data", "data");
    if (data == nullptr || !data->is_string()) return Missing(w + ".data");
    out->mutable_image()->set_mime_type(mt->get<std::string>());
    out->mutable_image()->set_data_base64(data->get<std::string>());
    return std::nullopt;
  }
  const json* fd = Field(part, "fileData", "file_data");
  std::string w = pw + ".file_data";
  if (!fd->is_object()) return WrongType(w, *fd, "an object");
  const json* uri = Field(*fd, "fileUri", "file_uri");
  if (uri == nullptr || !uri->is_string()) return Missing(w + ".file_uri");
  out->mutable_image()->set_url(uri->get<std::string>());
  out->mutable_image()->set_mime_type(Str(*fd, "mimeType", "mime_type"));
  return std::nullopt;
}

std::optional<ApiError> DecodeContents(const json& contents, v1::ChatRequest* out) {
  std::vector<Call> calls;
  int ordinal = 0;
  for (size_t i = 0; i < contents.size(); ++i) {
    const json& c = contents[i];
    std::string cw = At("contents", i);
    if (!c.is_object()) return WrongType(cw, c, "an object");
    std::string role = "user";
    if (const json* r = Field(c, "role", "role")) {
      if (!r->is_string()) return WrongType(cw + ".role", *r, "a string");
      role = r->get<std::string>();
    }
    bool model = role == "model";
    if (!model && role != "user" && role != "function" && !role.empty()) {
      return Bad(cw + ".role", "Please use a valid role: user, model.");
    }
    const json* parts = Field(c, "parts", "parts");
    if (parts == nullptr) return Missing(cw + ".parts");
    if (!parts->is_array() || parts->empty()) return Bad(cw + ".parts", "contents.parts must not be empty.");

    v1::Message m;
    m.set_role(model ? v1::ROLE_ASSISTANT : v1::ROLE_USER);
    std::vector<v1::Message> tool_msgs;
    for (size_t j = 0; j < parts->size(); ++j) {
      const json& p = (*parts)[j];
      std::string pw = At(cw + ".parts", j);
      if (!p.is_object()) return WrongType(pw, p, "an object");
      const json* thought = Field(p, "thought", "thought");
      bool is_thought = thought != nullptr && thought->is_boolean() && thought->get<bool>();
      std::string signature = Str(p, "thoughtSignature", "thought_signature");
      // A signature on a non-thought part is kept as a signature-only thinking part right
      // before it, so it can be put back on the same part (Gemini checks where it is).
      if (!signature.empty() && !is_thought) m.add_parts()->mutable_thinking()->set_signature(signature);
      if (const json* text = Field(p, "text", "text")) {
        if (!text->is_string()) return WrongType(pw + ".text", *text, "a string");
        if (is_thought) {
          auto* th = m.add_parts()->mutable_thinking();
          th->set_text(text->get<std::string>());
          th->set_signature(signature);
        } else {
          m.add_parts()->set_text(text->get<std::string>());
        }
      } else if (Field(p, "inlineData", "inline_data") || Field(p, "fileData", "file_data")) {
        if (auto err = DecodeBlob(p, pw, m.add_parts())) return err;
      } else if (const json* fc = Field(p, "functionCall", "function_call")) {
        std::string w = pw + ".function_call";
        if (!model) return Bad(w, "function_call parts belong to model turns.");
        if (!fc->is_object()) return WrongType(w, *fc, "an object");
        const json* name = Field(*fc, "name", "name");
        if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) return Missing(w + ".name");
        const json* args = Field(*fc, "args", "args");
        if (args != nullptr && !args->is_object()) return WrongType(w + ".args", *args, "an object");
        std::string id = Str(*fc, "id");
        if (id.empty()) id = "call_" + std::to_string(ordinal);
        ++ordinal;
        calls.push_back(Call{name->get<std::string>(), id, static_cast<int>(i)});
        auto* call = m.add_tool_calls();
        call->set_id(id);
        call->set_name(name->get<std::string>());
        call->set_arguments_json(args ? Dump(*args) : "{}");
      } else if (const json* fr = Field(p, "functionResponse", "function_response")) {
        std::string w = pw + ".function_response";
        if (model) return Bad(w, "function_response parts belong to user turns.");
        if (!fr->is_object()) return WrongType(w, *fr, "an object");
        const json* name = Field(*fr, "name", "name");
        if (name == nullptr || !name->is_string()) return Missing(w + ".name");
        const json* response = Field(*fr, "response", "response");
        if (response == nullptr) return Missing(w + ".response");
        v1::Message tm;
        tm.set_role(v1::ROLE_TOOL);
        tm.set_name(name->get<std::string>());
        tm.set_tool_call_id(MatchCall(&calls, name->get<std::string>(), Str(*fr, "id"), &ordinal));
        tm.add_parts()->set_text(Dump(*response));
        tool_msgs.push_back(std::move(tm));
      } else if (is_thought || !signature.empty()) {
        // A bare signature: already kept above for non-thought parts.
        if (is_thought && !signature.empty()) m.add_parts()->mutable_thinking()->set_signature(signature);
      } else {
        return Bad(pw, "a part needs one of text, inline_data, file_data, function_call, function_response.");
      }
    }
    // Tool results first: OpenAI-style upstreams need them right after the calls.
    for (auto& tm : tool_msgs) *out->add_messages() = std::move(tm);
    if (m.parts_size() > 0 || m.tool_calls_size() > 0) *out->add_messages() = std::move(m);
  }
  return std::nullopt;
}

std::optional<ApiError> DecodeSystem(const json& body, v1::ChatRequest* out) {
  const json* si = Field(body, "systemInstruction", "system_instruction");
  if (si == nullptr) return std::nullopt;
  v1::Message m;
  m.set_role(v1::ROLE_SYSTEM);
  if (si->is_string()) {
    m.add_parts()->set_text(si->get<std::string>());
  } else {
    if (!si->is_object()) return WrongType("system_instruction", *si, "a Content object");
    const json* parts = Field(*si, "parts", "parts");
    if (parts == nullptr) return Missing("system_instruction.parts");
    if (!parts->is_array()) return WrongType("system_instruction.parts", *parts, "an array");
    for (size_t j = 0; j < parts->size(); ++j) {
      std::string pw = At("system_instruction.parts", j);
      const json* text = Field((*parts)[j], "text", "text");
      if (text == nullptr || !text->is_string()) return Bad(pw, "system instruction parts must be text.");
      m.add_parts()->set_text(text->get<std::string>());
    }
  }
  if (m.parts_size() > 0) *out->add_messages() = std::move(m);
  return std::nullopt;
}

std::optional<ApiError> DecodeGenerationConfig(const json& body, v1::ChatRequest* out, json* extra) {
  const json* gc = Field(body, "generationConfig", "generation_config");
  if (gc == nullptr) return std::nullopt;
  if (!gc->is_object()) return WrongType("generation_config", *gc, "an object");
  static const std::set<std::string> known = {
      "temperature", "topP", "top_p", "maxOutputTokens", "max_output_tokens", "stopSequences", "stop_sequences",
      "candidateCount", "candidate_count", "seed", "responseMimeType", "response_mime_type", "responseSchema",
      "response_schema", "responseJsonSchema", "response_json_schema", "thinkingConfig", "thinking_config"};
  json rest = json::object();
  for (auto it = gc->begin(); it != gc->end(); ++it) {
    if (!known.count(it.key())) rest[it.key()] = it.value();
  }
  if (const json* k = Field(*gc, "topK", "top_k")) {
    std::optional<int64_t> n;
    if (auto err = ReadInt(k, "generation_config.top_k", 0, int64_t{1} << 31, &n)) return err;
  }

  std::optional<double> d;
  if (auto err = ReadRange(Field(*gc, "temperature", "temperature"), "generation_config.temperature", 0, 2, &d)) return err;
  if (d) out->set_temperature(*d);
  d.reset();
  if (auto err = ReadRange(Field(*gc, "topP", "top_p"), "generation_config.top_p", 0, 1, &d)) return err;
  if (d) out->set_top_p(*d);
  std::optional<int64_t> n;
  if (auto err = ReadInt(Field(*gc, "maxOutputTokens", "max_output_tokens"), "generation_config.max_output_tokens", 1,
                         int64_t{1} << 31, &n)) {
    return err;
  }
  if (n) out->set_max_tokens(*n);
  n.reset();
  if (auto err = ReadInt(Field(*gc, "candidateCount", "candidate_count"), "generation_config.candidate_count", 1, 8, &n)) return err;
  if (n) out->set_n(static_cast<int32_t>(*n));
  n.reset();
  if (auto err = ReadInt(Field(*gc, "seed", "seed"), "generation_config.seed", INT32_MIN, INT32_MAX, &n)) return err;
  if (n) out->set_seed(*n);
  if (const json* stop = Field(*gc, "stopSequences", "stop_sequences")) {
    if (!stop->is_array()) return WrongType("generation_config.stop_sequences", *stop, "an array of strings");
    if (stop->size() > 5) return Bad("generation_config.stop_sequences", "at most 5 stop sequences are allowed.");
    for (size_t i = 0; i < stop->size(); ++i) {
      if (!(*stop)[i].is_string()) return WrongType(At("generation_config.stop_sequences", i), (*stop)[i], "a string");
      out->add_stop((*stop)[i].get<std::string>());
    }
  }

  std::string mime;
  if (const json* m = Field(*gc, "responseMimeType", "response_mime_type")) {
    if (!m->is_string()) return WrongType("generation_config.response_mime_type", *m, "a string");
    mime = m->get<std::string>();
  }
  const json* js = Field(*gc, "responseJsonSchema", "response_json_schema");
  const json* os = Field(*gc, "responseSchema", "response_schema");
  if (js != nullptr && !js->is_object()) return WrongType("generation_config.response_json_schema", *js, "an object");
  if (os != nullptr && !os->is_object()) return WrongType("generation_config.response_schema", *os, "an object");
  if ((js || os) && mime != "application/json" && mime != "text/x.enum") {
    return Bad("generation_config.response_mime_type", "a response schema needs response_mime_type 'application/json'.");
  }
  if (mime == "application/json") {
    if (js || os) {
      json schema = js ? *js : *os;
      if (!js) LowercaseTypes(&schema);
      out->set_response_format_json(Dump({{"type", "json_schema"}, {"json_schema", {{"name", "response"}, {"schema", schema}}}}));
    } else {
      out->set_response_format_json(R"({"type":"json_object"})");
    }
  }
  // Forms other dialects cannot express stay native: OpenAPI-style schemas, enum output.
  if ((os && !js) || (!mime.empty() && mime != "application/json" && mime != "text/plain")) {
    if (os) rest["responseSchema"] = *os;
    rest["responseMimeType"] = mime;
  }

  if (const json* tc = Field(*gc, "thinkingConfig", "thinking_config")) {
    if (!tc->is_object()) return WrongType("generation_config.thinking_config", *tc, "an object");
    json tc_rest = json::object();
    for (auto it = tc->begin(); it != tc->end(); ++it) {
      if (it.key() != "thinkingBudget" && it.key() != "thinking_budget") tc_rest[it.key()] = it.value();
    }
    n.reset();
    if (auto err = ReadInt(Field(*tc, "thinkingBudget", "thinking_budget"), "generation_config.thinking_config.thinking_budget",
                           -1, int64_t{1} << 31, &n)) {
      return err;
    }
    if (n) out->set_thinking_budget_tokens(*n);
    if (const json* level = Field(*tc, "thinkingLevel", "thinking_level")) {
      if (!level->is_string()) return WrongType("generation_config.thinking_config.thinking_level", *level, "a string");
      std::string l = level->get<std::string>();
      std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out->set_reasoning_effort(l);
    }
    if (!tc_rest.empty()) rest["thinkingConfig"] = tc_rest;
  }
  if (!rest.empty()) (*extra)["generationConfig"] = rest;
  return std::nullopt;
}

// functionDeclarations become canonical tools; built-in tools (googleSearch, codeExecution,
// urlContext, ...) only Gemini can run, so they ride in passthrough for a Gemini upstream.
std::optional<ApiError> DecodeTools(const json& body, v1::ChatRequest* out, json* extra) {
  const json* tools = Field(body, "tools", "tools");
  if (tools == nullptr) return std::nullopt;
  if (!tools->is_array()) return WrongType("tools", *tools, "an array");
  json native = json::array();
  for (size_t i = 0; i < tools->size(); ++i) {
    const json& t = (*tools)[i];
    std::string tw = At("tools", i);
    if (!t.is_object()) return WrongType(tw, t, "an object");
    json rest = json::object();
    for (auto it = t.begin(); it != t.end(); ++it) {
      if (it.key() != "functionDeclarations" && it.key() != "function_declarations") rest[it.key()] = it.value();
    }
    if (!rest.empty()) native.push_back(rest);
    const json* decls = Field(t, "functionDeclarations", "function_declarations");
    if (decls == nullptr) continue;
    if (!decls->is_array()) return WrongType(tw + ".function_declarations", *decls, "an array");
    for (size_t k = 0; k < decls->size(); ++k) {
      const json& f = (*decls)[k];
      std::string fw = At(tw + ".function_declarations", k);
      if (!f.is_object()) return WrongType(fw, f, "an object");
      const json* name = Field(f, "name", "name");
      if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) return Missing(fw + ".name");
      auto* tool = out->add_tools();
      tool->set_name(name->get<std::string>());
      if (const json* desc = Field(f, "description", "description")) {
        if (!desc->is_string()) return WrongType(fw + ".description", *desc, "a string");
        tool->set_description(desc->get<std::string>());
      }
      const json* js = Field(f, "parametersJsonSchema", "parameters_json_schema");
      const json* ps = Field(f, "parameters", "parameters");
      if (js && !js->is_object()) return WrongType(fw + ".parameters_json_schema", *js, "an object");
      if (ps && !ps->is_object()) return WrongType(fw + ".parameters", *ps, "an object");
      if (js) {
        tool->set_parameters_json(Dump(*js));
      } else if (ps) {
        json schema = *ps;
        LowercaseTypes(&schema);
        tool->set_parameters_json(Dump(schema));
      }
    }
  }
  if (!native.empty()) (*extra)["tools"] = native;
  return std::nullopt;
}

std::optional<ApiError> DecodeToolConfig(const json& body, v1::ChatRequest* out) {
  const json* tc = Field(body, "toolConfig", "tool_config");
  if (tc == nullptr) return std::nullopt;
  if (!tc->is_object()) return WrongType("tool_config", *tc, "an object");
  const json* fcc = Field(*tc, "functionCallingConfig", "function_calling_config");
  if (fcc == nullptr) return std::nullopt;
  if (!fcc->is_object()) return WrongType("tool_config.function_calling_config", *fcc, "an object");
  std::string mode = Str(*fcc, "mode");
  std::vector<std::string> allowed;
  if (const json* names = Field(*fcc, "allowedFunctionNames", "allowed_function_names")) {
    if (!names->is_array()) return WrongType("tool_config.function_calling_config.allowed_function_names", *names, "an array");
    for (size_t i = 0; i < names->size(); ++i) {
      if (!(*names)[i].is_string()) {
        return WrongType(At("tool_config.function_calling_config.allowed_function_names", i), (*names)[i], "a string");
      }
      allowed.push_back((*names)[i].get<std::string>());
    }
  }
  if (mode == "AUTO" || mode == "VALIDATED") {
    out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_AUTO);
  } else if (mode == "NONE") {
    out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_NONE);
  } else if (mode == "ANY") {
    if (allowed.size() == 1) {
      out->mutable_tool_choice()->set_function_name(allowed[0]);
    } else {
      out->mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_REQUIRED);
    }
  } else if (!mode.empty() && mode != "MODE_UNSPECIFIED") {
    return Bad("tool_config.function_calling_config.mode", "'" + mode + "' is not one of AUTO, ANY, NONE, VALIDATED.");
  }
  return std::nullopt;
}

// ---- Upstream encoding helpers ----

json BlobPart(const v1::Image& img) {
  const std::string& url = img.url();
  if (!url.empty() && url.rfind("data:", 0) == 0) {
    size_t semi = url.find(';');
    size_t comma = url.find(',');
    std::string mime = semi != std::string::npos && semi < comma ? url.substr(5, semi - 5) : "image/png";
    std::string data = comma != std::string::npos ? url.substr(comma + 1) : "";
    return {{"inlineData", {{"mimeType", mime}, {"data", data}}}};
  }
  if (!url.empty()) {
    std::string mime = img.mime_type();
    if (mime.empty()) {
      std::string lower = url.substr(0, url.find('?'));
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto ends = [&lower](const char* s) {
        std::string x(s);
        return lower.size() >= x.size() && lower.compare(lower.size() - x.size(), x.size(), x) == 0;
      };
      mime = ends(".png") ? "image/png" : ends(".webp") ? "image/webp" : ends(".gif") ? "image/gif" : "image/jpeg";
    }
    return {{"fileData", {{"mimeType", mime}, {"fileUri", url}}}};
  }
  return {{"inlineData", {{"mimeType", img.mime_type().empty() ? "image/png" : img.mime_type()}, {"data", img.data_base64()}}}};
}

// Canonical parts -> Gemini parts. A signature-only thinking part puts its signature on
// the next part (where Gemini had it); thinking without a signature is not replayed.
void EncodeParts(const v1::Message& m, json* parts, std::string* pending_sig) {
  for (const auto& p : m.parts()) {
    json part;
    if (p.has_thinking()) {
      if (p.thinking().text().empty()) {
        if (!p.thinking().signature().empty()) *pending_sig = p.thinking().signature();
        continue;
      }
      if (p.thinking().signature().empty()) continue;
      part = {{"text", p.thinking().text()}, {"thought", true}, {"thoughtSignature", p.thinking().signature()}};
    } else if (p.part_case() == v1::ContentPart::kText) {
      if (p.text().empty()) continue;
      part = {{"text", p.text()}};
    } else if (p.has_image()) {
      part = BlobPart(p.image());
    } else {
      continue;
    }
    if (!pending_sig->empty() && !part.contains("thoughtSignature")) {
      part["thoughtSignature"] = *pending_sig;
      pending_sig->clear();
    }
    parts->push_back(std::move(part));
  }
}

int64_t EffortBudget(const std::string& e) {
  if (e == "low") return 1024;
  if (e == "medium") return 8192;
  if (e == "high") return 24576;
  if (e == "none" || e == "minimal") return 0;
  return -2;  // unknown: leave the model's default
}

ApiError UpstreamError(const json& body) {
  const json& e = body["error"];
  std::string msg = e.is_object() && e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "upstream error";
  std::string status = e.is_object() && e.contains("status") && e["status"].is_string() ? e["status"].get<std::string>() : "INTERNAL";
  int64_t code = 0;
  if (!e.is_object() || !e.contains("code") || !AsInt(e["code"], 400, 599, &code)) {
    code = status == "INVALID_ARGUMENT" ? 400 : status == "UNAUTHENTICATED" ? 401 : status == "PERMISSION_DENIED" ? 403
         : status == "NOT_FOUND" ? 404 : status == "RESOURCE_EXHAUSTED" ? 429 : status == "UNAVAILABLE" ? 503
         : status == "DEADLINE_EXCEEDED" ? 504 : 500;
  }
  return ApiError{static_cast<int>(code), "upstream_error", msg, "", status};
}

ApiError BadUpstream(const char* what) { return ApiError{502, "upstream_error", what, "", "bad_upstream_response"}; }

std::string SyntheticId(const std::string& response_id, int ordinal) {
  return "call_" + (response_id.empty() ? "" : response_id + "_") + std::to_string(ordinal);
}

std::string Sse(const json& j) { return "data: " + Dump(j) + "\r\n\r\n"; }

// Whole functionCall part for a canonical call.
json FunctionCallPart(const std::string& id, const std::string& name, const std::string& args) {
  json fc = {{"name", name}, {"args", internal::ParseObjectOr(args, json::object())}};
  if (!id.empty()) fc["id"] = id;
  return {{"functionCall", fc}};
}

}  // namespace

// ---- Names ----

std::string FinishReasonName(v1::FinishReason r) {
  switch (r) {
    case v1::FINISH_REASON_STOP:
    case v1::FINISH_REASON_STOP_SEQUENCE:
    case v1::FINISH_REASON_TOOL_CALLS: return "STOP";
    case v1::FINISH_REASON_LENGTH: return "MAX_TOKENS";
    case v1::FINISH_REASON_CONTENT_FILTER: return "SAFETY";
    case v1::FINISH_REASON_ERROR: return "OTHER";
    default: return "";
  }
}

v1::FinishReason ParseFinishReason(std::string_view s, bool has_function_call) {
  if (s == "STOP") return has_function_call ? v1::FINISH_REASON_TOOL_CALLS : v1::FINISH_REASON_STOP;
  if (s == "MAX_TOKENS") return v1::FINISH_REASON_LENGTH;
  if (s == "SAFETY" || s == "RECITATION" || s == "BLOCKLIST" || s == "PROHIBITED_CONTENT" || s == "SPII" ||
      s == "IMAGE_SAFETY" || s == "IMAGE_PROHIBITED_CONTENT" || s == "IMAGE_RECITATION" || s == "LANGUAGE") {
    return v1::FINISH_REASON_CONTENT_FILTER;
  }
  if (s == "MALFORMED_FUNCTION_CALL" || s == "UNEXPECTED_TOOL_CALL" || s == "TOO_MANY_TOOL_CALLS") return v1::FINISH_REASON_ERROR;
  if (s.empty() || s == "FINISH_REASON_UNSPECIFIED") return v1::FINISH_REASON_UNSPECIFIED;
  return v1::FINISH_REASON_STOP;  // OTHER, IMAGE_OTHER, NO_IMAGE, ...
}

std::string StatusForHttp(int s) {
  switch (s) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 402:
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 501: return "UNIMPLEMENTED";
    case 503:
    case 529: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return s >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
  }
}

json EncodeError(const ApiError& err) {
  return {{"error", {{"code", err.http_status}, {"message", err.message}, {"status", StatusForHttp(err.http_status)}}}};
}

// ---- Usage ----

json EncodeUsage(const v1::Usage& u) {
  json j = {{"promptTokenCount", u.prompt_tokens()}};
  if (u.cached_tokens() > 0) j["cachedContentTokenCount"] = u.cached_tokens();
  j["candidatesTokenCount"] = std::max<int64_t>(0, u.completion_tokens() - u.reasoning_tokens());
  if (u.reasoning_tokens() > 0) j["thoughtsTokenCount"] = u.reasoning_tokens();
  j["totalTokenCount"] = u.prompt_tokens() + u.completion_tokens();
  return j;
}

void DecodeUsage(const json& j, v1::Usage* out) {
  if (!j.is_object()) return;
  // Tool-use prompt tokens (grounding results fed back to the model) are billed as input.
  out->set_prompt_tokens(CountOr0(j, "promptTokenCount") + CountOr0(j, "toolUsePromptTokenCount"));
  out->set_cached_tokens(CountOr0(j, "cachedContentTokenCount"));
  int64_t thoughts = CountOr0(j, "thoughtsTokenCount");
  out->set_completion_tokens(CountOr0(j, "candidatesTokenCount") + thoughts);
  out->set_reasoning_tokens(thoughts);
  out->set_source(v1::USAGE_SOURCE_UPSTREAM);
}

// ---- Public side ----

std::optional<ApiError> DecodeGenerateContentRequest(std::string_view model, std::string_view body_text, bool stream,
                                                     v1::ChatRequest* out) {
  std::string m(model);
  if (m.rfind("models/", 0) == 0) m = m.substr(7);
  if (m.empty()) return InvalidField("model", "Invalid value at 'model': a model name is required in the URL path.", "missing_required_parameter");
  bool too_deep = false;
  json body = ParseBounded(body_text, &too_deep);
  if (too_deep) return TooDeepError();
  if (body.is_discarded()) return ApiError{400, "invalid_request_error", "Invalid JSON payload received.", "", "invalid_json"};
  if (!body.is_object()) return WrongType("body", body, "a GenerateContentRequest object");
  out->set_source_dialect(v1::DIALECT_GEMINI);
  out->set_model(m);
  out->set_stream(stream);
  out->set_include_usage(stream);  // Gemini streams always carry usageMetadata
  json extra = json::object();

  if (auto err = DecodeSystem(body, out)) return err;
  const json* contents = Field(body, "contents", "contents");
  if (contents == nullptr) return Missing("contents");
  if (!contents->is_array()) return WrongType("contents", *contents, "an array");
  if (contents->empty()) return Bad("contents", "contents is not specified.", "empty_array");
  if (auto err = DecodeContents(*contents, out)) return err;
  if (auto err = DecodeGenerationConfig(body, out, &extra)) return err;
  if (auto err = DecodeTools(body, out, &extra)) return err;
  if (auto err = DecodeToolConfig(body, out)) return err;

  static const std::set<std::string> known = {"contents", "systemInstruction", "system_instruction", "generationConfig",
                                              "generation_config", "tools", "toolConfig", "tool_config", "model"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!known.count(it.key())) extra[it.key()] = it.value();
  }
  if (!extra.empty()) out->set_passthrough_json(Dump(extra));
  return std::nullopt;
}

json EncodeGenerateContentResponse(const v1::ChatResponse& res) {
  json candidates = json::array();
  for (const auto& c : res.choices()) {
    json parts = json::array();
    std::string sig;
    // Thinking the client may replay keeps its signature even when unsigned elsewhere.
    for (const auto& p : c.message().parts()) {
      json part;
      if (p.has_thinking()) {
        if (p.thinking().text().empty()) {
          if (!p.thinking().signature().empty()) sig = p.thinking().signature();
          continue;
        }
        part = {{"text", p.thinking().text()}, {"thought", true}};
        if (!p.thinking().signature().empty()) part["thoughtSignature"] = p.thinking().signature();
      } else if (p.part_case() == v1::ContentPart::kText) {
        part = {{"text", p.text()}};
      } else if (p.has_image()) {
        part = BlobPart(p.image());
      } else {
        continue;
      }
      if (!sig.empty() && !part.contains("thoughtSignature")) {
        part["thoughtSignature"] = sig;
        sig.clear();
      }
      parts.push_back(std::move(part));
    }
    for (const auto& tc : c.message().tool_calls()) {
      json part = FunctionCallPart(tc.id(), tc.name(), tc.arguments_json());
      if (!sig.empty()) {
        part["thoughtSignature"] = sig;
        sig.clear();
      }
      parts.push_back(std::move(part));
    }
    if (parts.empty()) parts.push_back({{"text", ""}});
    json cand = {{"content", {{"role", "model"}, {"parts", parts}}}, {"index", c.index()}};
    std::string fr = FinishReasonName(c.finish_reason());
    cand["finishReason"] = fr.empty() ? "STOP" : fr;
    candidates.push_back(std::move(cand));
  }
  return {{"candidates", candidates},
          {"usageMetadata", EncodeUsage(res.usage())},
          {"modelVersion", res.model()},
          {"responseId", res.id()}};
}

StreamEncoder::StreamEncoder(std::string id, std::string model) : id_(std::move(id)), model_(std::move(model)) {}

json StreamEncoder::Envelope(json candidates) const {
  return {{"candidates", std::move(candidates)}, {"modelVersion", model_}, {"responseId", id_}};
}

json StreamEncoder::Parts(const v1::ChoiceDelta* d, int cand, bool flush_all) {
  json parts = json::array();
  std::string& sig = pending_signature_[cand];
  if (d != nullptr) {
    if (!d->thinking().empty()) parts.push_back({{"text", d->thinking()}, {"thought", true}});
    if (!d->text().empty()) parts.push_back({{"text", d->text()}});
    if (!d->thinking_signature().empty()) sig = d->thinking_signature();
    for (const auto& tc : d->tool_calls()) {
      PendingCall& pc = calls_[{cand, tc.index()}];
      if (pc.sent) continue;  // a fragment after the call went out cannot be added
      if (!tc.id().empty()) pc.id = tc.id();
      if (!tc.name().empty()) pc.name = tc.name();
      pc.args += tc.arguments_fragment();
    }
  }
  json calls = json::array();
  for (auto& [key, pc] : calls_) {
    if (key.first != cand || pc.sent) continue;
    json parsed = ParseBounded(pc.args);
    bool complete = parsed.is_object();
    if (!complete && !flush_all) continue;
    if (pc.name.empty() && !flush_all) continue;
    calls.push_back(FunctionCallPart(pc.id, pc.name, pc.args));
    pc.sent = true;
    any_tool_ = true;
  }
  if (!sig.empty()) {
    // Gemini puts the signature on the function call it belongs to, else the first part.
    json* target = !calls.empty() ? &calls[0] : !parts.empty() ? &parts[0] : nullptr;
    if (target != nullptr) {
      (*target)["thoughtSignature"] = sig;
      sig.clear();
    }
  }
  for (auto& c : calls) parts.push_back(std::move(c));
  return parts;
}

std::string StreamEncoder::Chunk(const v1::ChatChunk& chunk) {
  if (finished_) return "";
  json candidates = json::array();
  for (const auto& d : chunk.deltas()) {
    candidates_[d.index()] = true;
    if (d.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) seen_reason_ = d.finish_reason();
    json parts = Parts(&d, d.index(), false);
    if (parts.empty()) continue;
    candidates.push_back({{"content", {{"role", "model"}, {"parts", parts}}}, {"index", d.index()}});
  }
  if (candidates.empty()) return "";
  return Sse(Envelope(std::move(candidates)));
}

std::string StreamEncoder::Finish(const v1::Usage& usage, v1::FinishReason reason) {
  if (finished_) return "";
  finished_ = true;
  if (reason == v1::FINISH_REASON_UNSPECIFIED) reason = seen_reason_;
  std::string fr = FinishReasonName(reason);
  if (fr.empty()) fr = "STOP";
  if (candidates_.empty()) candidates_[0] = true;
  json candidates = json::array();
  for (const auto& [cand, unused] : candidates_) {
    json parts = Parts(nullptr, cand, true);
    if (parts.empty()) parts.push_back({{"text", ""}});
    if (!pending_signature_[cand].empty()) {
      parts[0]["thoughtSignature"] = pending_signature_[cand];
      pending_signature_[cand].clear();
    }
    candidates.push_back({{"content", {{"role", "model"}, {"parts", parts}}}, {"finishReason", fr}, {"index", cand}});
  }
  json j = Envelope(std::move(candidates));
  j["usageMetadata"] = EncodeUsage(usage);
  return Sse(j);
}

std::string StreamEncoder::Error(const ApiError& err) {
  finished_ = true;
  return Sse(EncodeError(err));
}

// ---- Upstream side ----

json EncodeGenerateContentRequest(const v1::ChatRequest& req) {
  const bool native = req.source_dialect() == v1::DIALECT_GEMINI;
  json j = json::object();
  json gc = json::object();
  json native_tools = json::array();
  // Unknown client fields first, so nothing we set can be overridden by them.
  if (native && !req.passthrough_json().empty()) {
    json extra = internal::ParseObjectOr(req.passthrough_json(), json::object());
    if (extra.contains("generationConfig") && extra["generationConfig"].is_object()) gc = extra["generationConfig"];
    if (extra.contains("tools") && extra["tools"].is_array()) native_tools = extra["tools"];
    extra.erase("generationConfig");
    extra.erase("tools");
    j = extra;
  }
  for (const char* k : {"contents", "systemInstruction", "system_instruction", "generation_config", "tool_config",
                        "toolConfig"}) {
    j.erase(k);
  }

  json system_parts = json::array();
  std::map<std::string, std::string> call_names;  // tool_call_id -> function name
  json contents = json::array();
  auto append = [&contents](const char* role, json parts) {
    if (parts.empty()) return;
    if (contents.empty() || contents.back()["role"] != role) contents.push_back({{"role", role}, {"parts", json::array()}});
    for (auto& p : parts) contents.back()["parts"].push_back(std::move(p));
  };
  for (const auto& m : req.messages()) {
    json parts = json::array();
    std::string sig;
    switch (m.role()) {
      case v1::ROLE_SYSTEM:
      case v1::ROLE_DEVELOPER:
        for (const auto& p : m.parts()) {
          if (p.part_case() == v1::ContentPart::kText && !p.text().empty()) system_parts.push_back({{"text", p.text()}});
        }
        break;
      case v1::ROLE_ASSISTANT:
        EncodeParts(m, &parts, &sig);
        for (const auto& tc : m.tool_calls()) {
          call_names[tc.id()] = tc.name();
          // Ids are ours (Gemini matches responses by name and order), so they stay home.
          json part = FunctionCallPart("", tc.name(), tc.arguments_json());
          if (!sig.empty()) {
            part["thoughtSignature"] = sig;
            sig.clear();
          }
          parts.push_back(std::move(part));
        }
        // A signature with no later part to carry it still goes back (as an empty thought):
        // dropping it would break the model's next turn.
        if (!sig.empty()) parts.push_back({{"text", ""}, {"thought", true}, {"thoughtSignature", sig}});
        append("model", std::move(parts));
        break;
      case v1::ROLE_TOOL: {
        std::string text;
        for (const auto& p : m.parts()) {
          if (p.part_case() == v1::ContentPart::kText) text += p.text();
        }
        json response = ParseBounded(text);
        if (!response.is_object()) response = {{"result", text}};
        auto it = call_names.find(m.tool_call_id());
        std::string name = it != call_names.end() ? it->second : m.name();
        append("user", json::array({{{"functionResponse", {{"name", name}, {"response", response}}}}}));
        break;
      }
      default:
        EncodeParts(m, &parts, &sig);
        append("user", std::move(parts));
    }
  }
  if (contents.empty()) contents.push_back({{"role", "user"}, {"parts", json::array({{{"text", "."}}})}});
  j["contents"] = contents;
  if (!system_parts.empty()) j["systemInstruction"] = {{"parts", system_parts}};

  if (req.has_temperature()) gc["temperature"] = req.temperature();
  if (req.has_top_p()) gc["topP"] = req.top_p();
  if (req.has_max_tokens()) gc["maxOutputTokens"] = req.max_tokens();
  if (req.stop_size() > 0) gc["stopSequences"] = json(std::vector<std::string>(req.stop().begin(), req.stop().end()));
  if (req.has_n()) gc["candidateCount"] = req.n();
  if (req.has_seed()) gc["seed"] = req.seed();
  if (!req.response_format_json().empty()) {
    json rf = internal::ParseObjectOr(req.response_format_json(), json::object());
    std::string type = rf.contains("type") && rf["type"].is_string() ? rf["type"].get<std::string>() : "";
    if (type == "json_object" || type == "json_schema") gc["responseMimeType"] = "application/json";
    if (type == "json_schema" && !gc.contains("responseSchema") && rf.contains("json_schema") && rf["json_schema"].is_object() &&
        rf["json_schema"].contains("schema")) {
      gc["responseJsonSchema"] = rf["json_schema"]["schema"];
    }
  }
  int64_t budget = req.has_thinking_budget_tokens() ? req.thinking_budget_tokens()
                   : native                         ? -2
                                                    : EffortBudget(req.reasoning_effort());
  if (budget >= -1) {
    json tc = gc.contains("thinkingConfig") && gc["thinkingConfig"].is_object() ? gc["thinkingConfig"] : json::object();
    tc["thinkingBudget"] = budget;
    // Other dialects' clients asked for thinking to see it.
    if (!native && budget != 0) tc["includeThoughts"] = true;
    gc["thinkingConfig"] = tc;
  }
  if (!gc.empty()) j["generationConfig"] = gc;

  json tools = json::array();
  if (req.tools_size() > 0) {
    json decls = json::array();
    for (const auto& t : req.tools()) {
      json d = {{"name", t.name()}};
      if (!t.description().empty()) d["description"] = t.description();
      // Full JSON Schema (additionalProperties, $defs, ...) is only accepted here; the
      // older "parameters" takes an OpenAPI subset and rejects common OpenAI schemas.
      if (!t.parameters_json().empty()) d["parametersJsonSchema"] = internal::ParseObjectOr(t.parameters_json(), json::object());
      decls.push_back(std::move(d));
    }
    tools.push_back({{"functionDeclarations", decls}});
  }
  for (auto& t : native_tools) tools.push_back(t);
  if (!tools.empty()) j["tools"] = tools;
  if (req.tools_size() > 0) {
    json fcc;
    switch (req.tool_choice().choice_case()) {
      case v1::ToolChoice::kMode:
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_AUTO) fcc = {{"mode", "AUTO"}};
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_NONE) fcc = {{"mode", "NONE"}};
        if (req.tool_choice().mode() == v1::TOOL_CHOICE_MODE_REQUIRED) fcc = {{"mode", "ANY"}};
        break;
      case v1::ToolChoice::kFunctionName:
        fcc = {{"mode", "ANY"}, {"allowedFunctionNames", {req.tool_choice().function_name()}}};
        break;
      default: break;
    }
    if (!fcc.is_null()) j["toolConfig"] = {{"functionCallingConfig", fcc}};
  }
  return j;
}

std::optional<ApiError> DecodeGenerateContentResponse(std::string_view body_text, v1::ChatResponse* out) {
  json body = ParseBounded(body_text);
  if (!body.is_object()) return BadUpstream("upstream returned an invalid Gemini response");
  if (body.contains("error")) return UpstreamError(body);
  std::string rid = body.contains("responseId") && body["responseId"].is_string() ? body["responseId"].get<std::string>() : "";
  out->set_id(rid);
  if (body.contains("modelVersion") && body["modelVersion"].is_string()) out->set_model(body["modelVersion"].get<std::string>());
  int ordinal = 0;
  if (body.contains("candidates") && body["candidates"].is_array()) {
    for (const json& c : body["candidates"]) {
      if (!c.is_object()) continue;
      auto* choice = out->add_choices();
      int64_t idx = 0;
      if (c.contains("index") && AsInt(c["index"], 0, 1 << 20, &idx)) choice->set_index(static_cast<int32_t>(idx));
      auto* m = choice->mutable_message();
      m->set_role(v1::ROLE_ASSISTANT);
      const json* parts = c.contains("content") ? Field(c["content"], "parts", "parts") : nullptr;
      if (parts != nullptr && parts->is_array()) {
        for (const json& p : *parts) {
          if (!p.is_object()) continue;
          bool thought = p.contains("thought") && p["thought"].is_boolean() && p["thought"].get<bool>();
          std::string sig = Str(p, "thoughtSignature", "thought_signature");
          if (!sig.empty() && !thought) m->add_parts()->mutable_thinking()->set_signature(sig);
          if (p.contains("text") && p["text"].is_string()) {
            if (thought) {
              auto* th = m->add_parts()->mutable_thinking();
              th->set_text(p["text"].get<std::string>());
              th->set_signature(sig);
            } else {
              m->add_parts()->set_text(p["text"].get<std::string>());
            }
          } else if (p.contains("functionCall") && p["functionCall"].is_object()) {
            const json& fc = p["functionCall"];
            auto* call = m->add_tool_calls();
            std::string id = Str(fc, "id");
            call->set_id(id.empty() ? SyntheticId(rid, ordinal) : id);
            ++ordinal;
            call->set_name(Str(fc, "name"));
            call->set_arguments_json(fc.contains("args") ? Dump(fc["args"]) : "{}");
          } else if (p.contains("inlineData") && p["inlineData"].is_object()) {
            auto* img = m->add_parts()->mutable_image();
            img->set_mime_type(Str(p["inlineData"], "mimeType"));
            img->set_data_base64(Str(p["inlineData"], "data"));
          }
        }
      }
      if (c.contains("finishReason") && c["finishReason"].is_string()) {
        choice->set_finish_reason(ParseFinishReason(c["finishReason"].get<std::string>(), m->tool_calls_size() > 0));
      }
    }
  }
  if (out->choices_size() == 0) {
    // The prompt itself was blocked: an empty, filtered answer.
    auto* choice = out->add_choices();
    choice->mutable_message()->set_role(v1::ROLE_ASSISTANT);
    bool blocked = body.contains("promptFeedback") && body["promptFeedback"].is_object() && body["promptFeedback"].contains("blockReason");
    choice->set_finish_reason(blocked ? v1::FINISH_REASON_CONTENT_FILTER : v1::FINISH_REASON_STOP);
  }
  if (body.contains("usageMetadata")) DecodeUsage(body["usageMetadata"], out->mutable_usage());
  return std::nullopt;
}

std::optional<ApiError> StreamDecoder::Feed(std::string_view data, std::vector<v1::ChatChunk>* out) {
  json j = ParseBounded(data);
  if (j.is_array() && j.size() == 1) j = j[0];  // the non-SSE stream is a JSON array
  if (!j.is_object()) return BadUpstream("upstream sent an invalid Gemini stream chunk");
  if (j.contains("error")) return UpstreamError(j);
  v1::ChatChunk chunk;
  std::string rid = j.contains("responseId") && j["responseId"].is_string() ? j["responseId"].get<std::string>() : "";
  chunk.set_id(rid);
  if (j.contains("modelVersion") && j["modelVersion"].is_string()) chunk.set_model(j["modelVersion"].get<std::string>());
  if (j.contains("candidates") && j["candidates"].is_array()) {
    for (const json& c : j["candidates"]) {
      if (!c.is_object()) continue;
      int64_t idx = 0;
      if (c.contains("index") && !AsInt(c["index"], 0, 1 << 20, &idx)) continue;
      int cand = static_cast<int>(idx);
      auto* d = chunk.add_deltas();
      d->set_index(cand);
      if (!started_) d->set_role(v1::ROLE_ASSISTANT);
      const json* parts = c.contains("content") ? Field(c["content"], "parts", "parts") : nullptr;
      if (parts != nullptr && parts->is_array()) {
        for (const json& p : *parts) {
          if (!p.is_object()) continue;
          bool thought = p.contains("thought") && p["thought"].is_boolean() && p["thought"].get<bool>();
          std::string sig = Str(p, "thoughtSignature", "thought_signature");
          if (!sig.empty()) d->set_thinking_signature(sig);
          if (p.contains("text") && p["text"].is_string()) {
            if (thought) {
              d->mutable_thinking()->append(p["text"].get<std::string>());
            } else {
              d->mutable_text()->append(p["text"].get<std::string>());
            }
          } else if (p.contains("functionCall") && p["functionCall"].is_object()) {
            const json& fc = p["functionCall"];
            int ordinal = next_tool_[cand]++;
            had_tool_[cand] = true;
            auto* t = d->add_tool_calls();
            t->set_index(ordinal);
            std::string id = Str(fc, "id");
            t->set_id(id.empty() ? SyntheticId(rid, ordinal) : id);
            t->set_name(Str(fc, "name"));
            t->set_arguments_fragment(fc.contains("args") ? Dump(fc["args"]) : "{}");
          }
        }
      }
      if (c.contains("finishReason") && c["finishReason"].is_string()) {
        d->set_finish_reason(ParseFinishReason(c["finishReason"].get<std::string>(), had_tool_[cand]));
        if (d->finish_reason() != v1::FINISH_REASON_UNSPECIFIED) done_ = true;
      }
    }
    started_ = started_ || chunk.deltas_size() > 0;
  }
  if (j.contains("usageMetadata") && j["usageMetadata"].is_object()) {
    v1::Usage u;
    DecodeUsage(j["usageMetadata"], &u);
    usage_ = u;
    // Every chunk repeats the prompt count; only the one ending the answer is complete.
    if (done_) *chunk.mutable_usage() = u;
  }
  if (chunk.deltas_size() > 0 || chunk.has_usage()) out->push_back(std::move(chunk));
  return std::nullopt;
}

}  // namespace routeall::codecs::gemini
