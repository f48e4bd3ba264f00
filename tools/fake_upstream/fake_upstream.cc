// Routes requests (instances, control endpoints, provider endpoints) and applies knobs and faults.
#include "fake_upstream.h"

#include <chrono>
#include <exception>

#include "chat_request.h"
#include "reply_plan.h"

namespace routeall::fake_upstream {
namespace {

constexpr char kDefaultInstance[] = "default";
constexpr char kInstancePrefix[] = "/x/";
constexpr char kControlPrefix[] = "/_fake/";
constexpr int kDefaultFaultStatus = 500;
// Status used for in-stream error events (Anthropic names it overloaded).
constexpr int kAnthropicStreamErrorStatus = 529;
constexpr int kGeminiStreamErrorStatus = 500;

std::string PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = hex(in[i + 1]);
      int lo = hex(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string_view pair = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      out[PercentDecode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string Header(const HttpRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? "" : it->second;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

ResponsePlan JsonPlan(int status, const std::string& body, const char* content_type = "application/json") {
  ResponsePlan plan;
  plan.status = status;
  plan.headers.emplace_back("content-type", content_type);
  plan.body = body;
  return plan;
}

const char* JsonContentType(Dialect dialect) {
  return dialect == Dialect::kGemini ? "application/json; charset=UTF-8" : "application/json";
}

ResponsePlan ErrorPlan(Dialect dialect, int status, const std::string& message) {
  ResponsePlan plan = JsonPlan(status, RenderError(dialect, status, message), JsonContentType(dialect));
  if (status == 429) plan.headers.emplace_back("retry-after", "1");
  return plan;
}

Json BodyForRecord(const std::string& body) {
  if (body.empty()) return "";
  try {
    return Json::parse(body);
  } catch (const std::exception&) {
    return body;
  }
}

}  // namespace

struct FakeUpstream::Route {
  enum class Kind { kChat, kCountTokens, kModels, kNotFound };
  Kind kind = Kind::kNotFound;
  Dialect dialect = Dialect::kOpenAi;
  std::string model;  // Gemini: from the URL
  bool gemini_stream = false;
  bool gemini_sse = false;
};

std::optional<size_t> EventsThroughContent(const std::vector<StreamEvent>& events, int64_t n) {
  int64_t seen = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!events[i].content) continue;
    if (seen == n) return i;
    ++seen;
    if (seen == n) return i + 1;
  }
  return std::nullopt;
}

FakeUpstream::FakeUpstream(Options options) : options_(std::move(options)) {}

ResponsePlan FakeUpstream::Handle(const HttpRequest& request) {
  try {
    const size_t qmark = request.target.find('?');
    std::string path = request.target.substr(0, qmark);
    const std::string raw_query = qmark == std::string::npos ? "" : request.target.substr(qmark + 1);
    if (path == "/healthz") return JsonPlan(200, "ok", "text/plain");
    if (StartsWith(path, kControlPrefix)) return HandleControl(request, path);

    std::string instance = kDefaultInstance;
    std::string provider_path = path;
    if (StartsWith(path, kInstancePrefix)) {
      const size_t name_start = sizeof(kInstancePrefix) - 1;
      const size_t slash = path.find('/', name_start);
      instance = path.substr(name_start, slash == std::string::npos ? slash : slash - name_start);
      provider_path = slash == std::string::npos ? "/" : path.substr(slash);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Instance& inst = instances_[instance];
      ++inst.requests;
      ++inst.by_path[provider_path];
      Json headers = Json::object();
      for (const auto& [name, value] : request.headers) headers[name] = value;
      inst.last = Json{{"method", request.method},
                       {"path", path},
                       {"query", raw_query},
                       {"headers", headers},
                       {"body", BodyForRecord(request.body)}};
    }
    return HandleProvider(request, instance, provider_path, ParseQuery(raw_query));
  } catch (const std::exception& e) {
    // Last resort: handlers must never let an exception reach the server.
    return JsonPlan(500, RenderOpenAiError(500, std::string("fake upstream internal error: ") + e.what()));
  }
}

ResponsePlan FakeUpstream::HandleControl(const HttpRequest& request, const std::string& path) {
  const std::string rest = path.substr(sizeof(kControlPrefix) - 1);
  auto name_after = [&](std::string_view verb) -> std::optional<std::string> {
    if (!StartsWith(rest, verb)) return std::nullopt;
    std::string name = rest.substr(verb.size());
    return name.empty() ? std::string(kDefaultInstance) : name;
  };
  std::lock_guard<std::mutex> lock(mu_);
  if (rest == "reset" && request.method == "POST") {
    instances_.clear();
    return JsonPlan(200, R"({"ok":true})");
  }
  if (auto name = name_after("config/")) {
    Instance& inst = instances_[*name];
    if (request.method == "GET") return JsonPlan(200, DumpJson(inst.knobs.ToJson()));
    if (request.method != "POST") return JsonPlan(405, R"({"error":"use GET or POST"})");
    Knobs knobs;
    std::string error;
    try {
      const Json body = request.body.empty() ? Json::object() : Json::parse(request.body);
      if (!ParseKnobsJson(body, &knobs, &error)) {
        return JsonPlan(400, DumpJson(Json{{"error", error}}));
      }
    } catch (const std::exception& e) {
      return JsonPlan(400, DumpJson(Json{{"error", std::string("invalid JSON: ") + e.what()}}));
    }
    inst.knobs = knobs;
    inst.failures_served = 0;
    return JsonPlan(200, DumpJson(Json{{"instance", *name}, {"knobs", knobs.ToJson()}}));
  }
  if (auto name = name_after("stats/")) {
    auto it = instances_.find(*name);
    Json by_path = Json::object();
    int64_t requests = 0;
    if (it != instances_.end()) {
      requests = it->second.requests;
      for (const auto& [p, count] : it->second.by_path) by_path[p] = count;
    }
    return JsonPlan(200, DumpJson(Json{{"requests", requests}, {"by_path", by_path}}));
  }
  if (auto name = name_after("last/")) {
    auto it = instances_.find(*name);
    if (it == instances_.end() || !it->second.last) {
      return JsonPlan(404, R"({"error":"no request received by this instance"})");
    }
    return JsonPlan(200, DumpJson(*it->second.last));
  }
  return JsonPlan(404, R"({"error":"unknown control endpoint"})");
}

ResponsePlan FakeUpstream::HandleProvider(const HttpRequest& request, const std::string& instance,
                                          const std::string& path,
                                          const std::map<std::string, std::string>& query) {
  Route route;
  const bool has_anthropic_version = request.headers.count("anthropic-version") > 0;
  const bool looks_gemini = request.headers.count("x-goog-api-key") > 0 || query.count("key") > 0;
  if (request.method == "GET" && (path == "/v1/models" || path == "/models" || path == "/v1beta/models")) {
    Dialect dialect = Dialect::kOpenAi;
    if (has_anthropic_version) dialect = Dialect::kAnthropic;
    if (path == "/v1beta/models" || (looks_gemini && !has_anthropic_version)) dialect = Dialect::kGemini;
    if (!Authorized(request, dialect, query)) {
      return ErrorPlan(dialect, 401, DefaultErrorMessage(401));
    }
    switch (dialect) {
      case Dialect::kAnthropic:
        return JsonPlan(200, RenderAnthropicModels());
      case Dialect::kGemini:
        return JsonPlan(200, RenderGeminiModels(), JsonContentType(Dialect::kGemini));
      case Dialect::kOpenAi:
        break;
    }
    return JsonPlan(200, RenderOpenAiModels());
  }
  if (path == "/v1/chat/completions" || path == "/chat/completions") {
    route.kind = Route::Kind::kChat;
    route.dialect = Dialect::kOpenAi;
  } else if (path == "/v1/messages") {
    route.kind = Route::Kind::kChat;
    route.dialect = Dialect::kAnthropic;
  } else if (path == "/v1/messages/count_tokens") {
    route.kind = Route::Kind::kCountTokens;
    route.dialect = Dialect::kAnthropic;
  } else if (StartsWith(path, "/v1beta/models/") || StartsWith(path, "/v1/models/") ||
             StartsWith(path, "/v1alpha/models/")) {
    route.dialect = Dialect::kGemini;
    const std::string tail = path.substr(path.find("/models/") + 8);
    const size_t colon = tail.rfind(':');
    if (colon != std::string::npos) {
      route.model = PercentDecode(tail.substr(0, colon));
      const std::string method = tail.substr(colon + 1);
      if (method == "generateContent") {
        route.kind = Route::Kind::kChat;
      } else if (method == "streamGenerateContent") {
        route.kind = Route::Kind::kChat;
        route.gemini_stream = true;
        auto alt = query.find("alt");
        route.gemini_sse = alt != query.end() && alt->second == "sse";
      } else if (method == "countTokens") {
        route.kind = Route::Kind::kCountTokens;
      }
    }
  } else if (has_anthropic_version) {
    route.dialect = Dialect::kAnthropic;
  }
  if (route.kind == Route::Kind::kNotFound) {
    return ErrorPlan(route.dialect, 404, "Unknown endpoint: " + request.method + " " + path);
  }
  if (request.method != "POST") {
    return ErrorPlan(route.dialect, 405, "Method " + request.method + " not allowed; use POST");
  }
  return HandleChat(request, route, instance, query);
}

bool FakeUpstream::Authorized(const HttpRequest& request, Dialect dialect,
                              const std::map<std::string, std::string>& query) const {
  if (options_.api_key.empty()) return true;
  const std::string bearer = "Bearer " + options_.api_key;
  switch (dialect) {
    case Dialect::kOpenAi:
      return Header(request, "authorization") == bearer;
    case Dialect::kAnthropic:
      return Header(request, "x-api-key") == options_.api_key ||
             Header(request, "authorization") == bearer;
    case Dialect::kGemini: {
      auto key = query.find("key");
      return Header(request, "x-goog-api-key") == options_.api_key ||
             (key != query.end() && key->second == options_.api_key);
    }
  }
  return false;
}

ResponsePlan FakeUpstream::HandleChat(const HttpRequest& request, const Route& route,
                                      const std::string& instance,
                                      const std::map<std::string, std::string>& query) {
  const Dialect dialect = route.dialect;
  if (!Authorized(request, dialect, query)) {
    std::string message = dialect == Dialect::kAnthropic ? "invalid x-api-key"
                          : dialect == Dialect::kGemini  ? "API key not valid. Please pass a valid API key."
                                                         : "Incorrect API key provided.";
    return ErrorPlan(dialect, 401, message);
  }
  if (dialect == Dialect::kAnthropic && Header(request, "anthropic-version").empty()) {
    return ErrorPlan(dialect, 400, "anthropic-version: header is required");
  }

  ChatRequest chat;
  std::string error;
  try {
    Json body = Json::parse(request.body);
    if (route.kind == Route::Kind::kCountTokens && dialect == Dialect::kAnthropic && body.is_object() &&
        !body.contains("max_tokens")) {
      body["max_tokens"] = 1;  // count_tokens does not take max_tokens
    }
    bool ok = false;
    switch (dialect) {
      case Dialect::kOpenAi:
        ok = ParseOpenAiRequest(body, &chat, &error);
        break;
      case Dialect::kAnthropic:
        ok = ParseAnthropicRequest(body, &chat, &error);
        break;
      case Dialect::kGemini:
        ok = ParseGeminiRequest(body, route.model, route.gemini_stream, &chat, &error);
        break;
    }
    if (!ok) return ErrorPlan(dialect, 400, error);
  } catch (const Json::parse_error& e) {
    return ErrorPlan(dialect, 400, std::string("We could not parse the JSON body of your request: ") + e.what());
  } catch (const std::exception& e) {
    return ErrorPlan(dialect, 400, std::string("Invalid request: ") + e.what());
  }

  Knobs knobs = options_.default_knobs;
  bool injected_failure = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Instance& inst = instances_[instance];
    knobs.OverlayWith(inst.knobs);
    ApplyDirective(ParseDirective(chat.last_user_text), &knobs);
    if (knobs.fail_first_n) {
      if (inst.failures_served < *knobs.fail_first_n) {
        ++inst.failures_served;
        injected_failure = true;
      }
    } else if (knobs.status && *knobs.status >= 400) {
      injected_failure = true;
    }
  }

  if (route.kind == Route::Kind::kCountTokens) {
    const int64_t tokens = knobs.prompt_tokens.value_or(chat.prompt_tokens);
    if (dialect == Dialect::kAnthropic) return JsonPlan(200, DumpJson(Json{{"input_tokens", tokens}}));
    return JsonPlan(200, DumpJsonPretty(Json{{"totalTokens", tokens}}), JsonContentType(dialect));
  }

  ResponsePlan plan;
  if (knobs.reset.value_or(0) != 0) {
    plan.reset_connection = true;
    return plan;
  }
  if (injected_failure) {
    const int status = static_cast<int>(knobs.status.value_or(kDefaultFaultStatus) >= 400
                                            ? knobs.status.value_or(kDefaultFaultStatus)
                                            : kDefaultFaultStatus);
    plan = ErrorPlan(dialect, status, DefaultErrorMessage(status));
    plan.latency_ms = knobs.latency_ms.value_or(0);
    return plan;
  }

  const ReplyPlan reply = PlanReply(chat, knobs);
  RenderContext ctx;
  ctx.seq = ++seq_;
  ctx.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  const std::string request_id = "req_fake" + std::to_string(ctx.seq);
  plan.latency_ms = knobs.latency_ms.value_or(0);
  plan.headers.emplace_back(dialect == Dialect::kAnthropic ? "request-id" : "x-request-id", request_id);

  if (!chat.stream) {
    plan.headers.emplace_back("content-type", JsonContentType(dialect));
    switch (dialect) {
      case Dialect::kOpenAi:
        plan.body = RenderOpenAiCompletion(chat, reply, ctx);
        break;
      case Dialect::kAnthropic:
        plan.body = RenderAnthropicMessage(chat, reply, ctx);
        break;
      case Dialect::kGemini:
        plan.body = RenderGeminiResponse(chat, reply, ctx);
        break;
    }
    if (knobs.huge_body_bytes && *knobs.huge_body_bytes > 0 && plan.body.size() > 1 && plan.body[0] == '{') {
      // Hostile: a valid answer padded with a huge field the client must not have to buffer.
      plan.body.insert(1, "\"padding\":\"" + std::string(static_cast<size_t>(*knobs.huge_body_bytes), 'x') + "\",");
    }
    return plan;
  }

  std::vector<StreamEvent> events;
  std::string content_type = "text/event-stream; charset=utf-8";
  switch (dialect) {
    case Dialect::kOpenAi:
      events = RenderOpenAiStream(chat, reply, ctx);
      break;
    case Dialect::kAnthropic:
      events = RenderAnthropicStream(chat, reply, ctx);
      break;
    case Dialect::kGemini:
      events = RenderGeminiStream(chat, reply, ctx, route.gemini_sse);
      content_type = route.gemini_sse ? "text/event-stream" : JsonContentType(dialect);
      break;
  }
  plan.streaming = true;
  plan.headers.emplace_back("content-type", content_type);
  plan.headers.emplace_back("cache-control", "no-cache");
  plan.ttft_ms = knobs.ttft_ms.value_or(0);
  plan.chunk_delay_ms = knobs.chunk_delay_ms.value_or(0);

  if (knobs.error_event_after_chunks) {
    if (auto keep = EventsThroughContent(events, *knobs.error_event_after_chunks)) {
      events.resize(*keep);
      switch (dialect) {
        case Dialect::kOpenAi:
          events.push_back({RenderOpenAiStreamError("The server had an error while processing your request. "
                                                    "Sorry about that!"),
                            false});
          break;
        case Dialect::kAnthropic:
          events.push_back({RenderAnthropicStreamError(kAnthropicStreamErrorStatus, "Overloaded"), false});
          break;
        case Dialect::kGemini: {
          const Json error = GeminiErrorJson(kGeminiStreamErrorStatus, "An internal error has occurred.");
          if (route.gemini_sse) {
            events.push_back({"data: " + DumpJson(error) + "\r\n\r\n", false});
          } else {
            events.push_back({(events.empty() ? "[" : ",\r\n") + DumpJsonPretty(error), false});
            events.push_back({"]", false});
          }
          break;
        }
      }
    }
  }
  if (knobs.fail_after_chunks) plan.abort_after = EventsThroughContent(events, *knobs.fail_after_chunks);
  if (knobs.ping_after_chunks) {
    // Hostile: an endless stream that keeps the connection busy with keep-alives only.
    plan.ping_forever_after = EventsThroughContent(events, *knobs.ping_after_chunks);
    if (!plan.ping_forever_after) plan.ping_forever_after = events.size();
    plan.ping_chunk = dialect == Dialect::kAnthropic ? "event: ping\ndata: {\"type\": \"ping\"}\n\n" : ": ping\n\n";
    plan.ping_interval_ms = knobs.ping_interval_ms.value_or(200);
  }
  for (auto& event : events) plan.chunks.push_back(std::move(event.bytes));
  return plan;
}

}  // namespace routeall::fake_upstream
