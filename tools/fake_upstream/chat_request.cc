// Parses the three request dialects and applies the shared prompt-token rule.
#include "chat_request.h"

namespace routeall::fake_upstream {
namespace {

constexpr int64_t kTokensPerMessage = 3;

std::string GetString(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Text of an OpenAI content value: a string or an array of {type:"text",text} parts.
std::string OpenAiContentText(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const Json& part : content) {
      std::string text = GetString(part, "text");
      if (text.empty()) continue;
      if (!out.empty()) out += " ";
      out += text;
    }
  }
  return out;
}

void ParseStop(const Json& stop, std::vector<std::string>* out) {
  if (stop.is_string()) {
    out->push_back(stop.get<std::string>());
  } else if (stop.is_array()) {
    for (const Json& s : stop) {
      if (s.is_string() && !s.get<std::string>().empty()) out->push_back(s.get<std::string>());
    }
  }
}

std::optional<int64_t> GetInt(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

// Anthropic tool_result content: a string or an array of text blocks.
std::string AnthropicToolResultText(const Json& block) {
  auto it = block.find("content");
  if (it == block.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) return OpenAiContentText(*it);
  return DumpJson(*it);
}

}  // namespace

const char* DialectName(Dialect dialect) {
  switch (dialect) {
    case Dialect::kOpenAi:
      return "openai";
    case Dialect::kAnthropic:
      return "anthropic";
    case Dialect::kGemini:
      return "gemini";
  }
  return "unknown";
}

bool ParseOpenAiRequest(const Json& body, ChatRequest* out, std::string* error) {
  out->dialect = Dialect::kOpenAi;
  if (!body.is_object()) {
    *error = "We could not parse the JSON body of your request. Expected an object.";
    return false;
  }
  out->model = GetString(body, "model");
  if (out->model.empty()) {
    *error = "you must provide a model parameter";
    return false;
  }
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) {
    *error = "Missing required parameter: 'messages'.";
    return false;
  }
  out->stream = body.value("stream", false);
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object()) {
    out->include_usage = so->value("include_usage", false);
  }
  if (auto n = GetInt(body, "n")) {
    if (*n < 1 || *n > 128) {
      *error = "Invalid 'n': integer must be between 1 and 128.";
      return false;
    }
    out->n = static_cast<int>(*n);
  }
  out->max_tokens = GetInt(body, "max_completion_tokens");
  if (!out->max_tokens) out->max_tokens = GetInt(body, "max_tokens");
  if (auto stop = body.find("stop"); stop != body.end()) ParseStop(*stop, &out->stop);
  if (auto tools = body.find("tools"); tools != body.end() && tools->is_array()) {
    for (const Json& tool : *tools) {
      out->prompt_tokens += CountWords(DumpJson(tool));
      if (!tool.is_object() || !tool.contains("function")) continue;
      const Json& fn = tool["function"];
      out->tools.push_back({GetString(fn, "name"), fn.value("parameters", Json())});
    }
  }
  if (auto choice = body.find("tool_choice"); choice != body.end()) {
    out->tools_disabled = choice->is_string() && choice->get<std::string>() == "none";
  }
  for (const Json& message : *messages) {
    if (!message.is_object()) {
      *error = "Invalid type for 'messages': expected an array of objects.";
      return false;
    }
    std::string role = GetString(message, "role");
    std::string text = OpenAiContentText(message.value("content", Json()));
    int64_t tokens = kTokensPerMessage + CountWords(text);
    if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
      for (const Json& call : *calls) {
        const Json fn = call.value("function", Json::object());
        tokens += CountWords(GetString(fn, "name")) + CountWords(GetString(fn, "arguments"));
      }
    }
    out->prompt_tokens += tokens;
    if (role == "user") {
      out->last_user_text = text;
      out->last_is_tool_result = false;
    } else if (role == "tool" || role == "function") {
      out->last_is_tool_result = true;
      out->tool_result_text = text;
    } else if (role == "assistant") {
      out->last_is_tool_result = false;
    }
  }
  return true;
}

bool ParseAnthropicRequest(const Json& body, ChatRequest* out, std::string* error) {
  out->dialect = Dialect::kAnthropic;
  if (!body.is_object()) {
    *error = "Request body must be a JSON object";
    return false;
  }
  out->model = GetString(body, "model");
  if (out->model.empty()) {
    *error = "model: Field required";
    return false;
  }
  out->max_tokens = GetInt(body, "max_tokens");
  if (!out->max_tokens) {
    *error = "max_tokens: Field required";
    return false;
  }
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) {
    *error = "messages: Field required";
    return false;
  }
  out->stream = body.value("stream", false);
  if (auto stop = body.find("stop_sequences"); stop != body.end()) ParseStop(*stop, &out->stop);
  if (auto system = body.find("system"); system != body.end() && !system->is_null()) {
    // The system prompt counts as one message so the same conversation costs
    // the same whichever dialect carries it.
    out->prompt_tokens += kTokensPerMessage + CountWords(OpenAiContentText(*system));
  }
  if (auto tools = body.find("tools"); tools != body.end() && tools->is_array()) {
    for (const Json& tool : *tools) {
      out->prompt_tokens += CountWords(DumpJson(tool));
      if (!tool.is_object() || !tool.contains("input_schema")) continue;  // server tools
      out->tools.push_back({GetString(tool, "name"), tool["input_schema"]});
    }
  }
  if (auto choice = body.find("tool_choice"); choice != body.end()) {
    out->tools_disabled = GetString(*choice, "type") == "none";
  }
  for (const Json& message : *messages) {
    if (!message.is_object()) {
      *error = "messages: Input should be a valid dictionary";
      return false;
    }
    std::string role = GetString(message, "role");
    const Json content = message.value("content", Json());
    int64_t tokens = kTokensPerMessage;
    std::string text;
    bool has_tool_result = false;
    std::string tool_result;
    if (content.is_string()) {
      text = content.get<std::string>();
    } else if (content.is_array()) {
      for (const Json& block : content) {
        std::string type = GetString(block, "type");
        if (type == "text") {
          if (!text.empty()) text += " ";
          text += GetString(block, "text");
        } else if (type == "tool_result") {
          has_tool_result = true;
          std::string result = AnthropicToolResultText(block);
          tokens += CountWords(result);
          if (!tool_result.empty()) tool_result += " ";
          tool_result += result;
        } else if (type == "tool_use") {
          tokens += CountWords(GetString(block, "name")) +
                    CountWords(DumpJson(block.value("input", Json::object())));
        } else if (type == "thinking") {
          tokens += CountWords(GetString(block, "thinking"));
        }
      }
    }
    tokens += CountWords(text);
    out->prompt_tokens += tokens;
    if (role == "user") {
      out->last_user_text = text.empty() ? tool_result : text;
      out->last_is_tool_result = has_tool_result;
      out->tool_result_text = tool_result;
    } else {
      out->last_is_tool_result = false;
    }
  }
  if (messages->empty()) {
    *error = "messages: at least one message is required";
    return false;
  }
  return true;
}

bool ParseGeminiRequest(const Json& body, const std::string& model, bool stream, ChatRequest* out,
                        std::string* error) {
  out->dialect = Dialect::kGemini;
  out->model = model;
  out->stream = stream;
  if (!body.is_object()) {
    *error = "Invalid JSON payload received. Expected an object.";
    return false;
  }
  auto contents = body.find("contents");
  if (contents == body.end() || !contents->is_array() || contents->empty()) {
    *error = "* GenerateContentRequest.contents: contents is not specified\n";
    return false;
  }
  for (const char* key : {"generationConfig", "generation_config"}) {
    auto config = body.find(key);
    if (config == body.end() || !config->is_object()) continue;
    out->max_tokens = GetInt(*config, "maxOutputTokens");
    if (!out->max_tokens) out->max_tokens = GetInt(*config, "max_output_tokens");
    if (auto stop = config->find("stopSequences"); stop != config->end()) ParseStop(*stop, &out->stop);
    if (auto stop = config->find("stop_sequences"); stop != config->end()) {
      ParseStop(*stop, &out->stop);
    }
  }
  for (const char* key : {"systemInstruction", "system_instruction"}) {
    auto system = body.find(key);
    if (system == body.end() || !system->is_object()) continue;
    out->prompt_tokens +=
        kTokensPerMessage + CountWords(OpenAiContentText(system->value("parts", Json())));
  }
  if (auto tools = body.find("tools"); tools != body.end() && tools->is_array()) {
    for (const Json& tool : *tools) {
      if (!tool.is_object()) continue;
      for (const char* key : {"functionDeclarations", "function_declarations"}) {
        auto decls = tool.find(key);
        if (decls == tool.end() || !decls->is_array()) continue;
        for (const Json& decl : *decls) {
          out->prompt_tokens += CountWords(DumpJson(decl));
          Json params;
          for (const char* schema_key : {"parameters", "parametersJsonSchema", "parameters_json_schema"}) {
            if (params.is_null()) params = decl.value(schema_key, Json());
          }
          out->tools.push_back({GetString(decl, "name"), params});
        }
      }
    }
  }
  for (const char* key : {"toolConfig", "tool_config"}) {
    auto config = body.find(key);
    if (config == body.end() || !config->is_object()) continue;
    const Json fcc = config->value("functionCallingConfig", Json::object());
    out->tools_disabled = ToLower(GetString(fcc, "mode")) == "none";
  }
  for (const Json& content : *contents) {
    if (!content.is_object()) {
      *error = "Invalid value at 'contents': expected an object";
      return false;
    }
    std::string role = GetString(content, "role");
    int64_t tokens = kTokensPerMessage;
    std::string text;
    bool has_tool_result = false;
    std::string tool_result;
    const Json parts = content.value("parts", Json::array());
    for (const Json& part : parts) {
      if (!part.is_object()) continue;
      if (part.contains("text") && part["text"].is_string()) {
        if (part.value("thought", false)) continue;
        if (!text.empty()) text += " ";
        text += part["text"].get<std::string>();
      }
      for (const char* fr_key : {"functionResponse", "function_response"}) {
        if (!part.contains(fr_key)) continue;
        has_tool_result = true;
        std::string result = DumpJson(part[fr_key].value("response", Json::object()));
        tokens += CountWords(result);
        if (!tool_result.empty()) tool_result += " ";
        tool_result += result;
      }
      for (const char* fc_key : {"functionCall", "function_call"}) {
        if (!part.contains(fc_key)) continue;
        tokens += CountWords(GetString(part[fc_key], "name")) +
                  CountWords(DumpJson(part[fc_key].value("args", Json::object())));
      }
    }
    tokens += CountWords(text);
    out->prompt_tokens += tokens;
    if (role == "user" || role.empty() || role == "function" || role == "tool") {
      out->last_user_text = text.empty() ? tool_result : text;
      out->last_is_tool_result = has_tool_result;
      out->tool_result_text = tool_result;
    } else {
      out->last_is_tool_result = false;
    }
  }
  return true;
}

}  // namespace routeall::fake_upstream
