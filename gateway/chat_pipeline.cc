// ChatPipeline: the request lifecycle and the failover loop.
#include "gateway/chat_pipeline.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/log.h"
#include "gateway/sse.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;
using codecs::ApiError;

ApiError MakeError(int status, std::string type, std::string message, std::string code) {
  return ApiError{status, std::move(type), std::move(message), "", std::move(code)};
}

std::string MaskKey(const std::string& key) {
  if (key.size() <= 12) return "sk-***";
  return key.substr(0, 8) + "****" + key.substr(key.size() - 4);
}

// What to tell the client when every attempt failed.
ApiError AllFailed(const std::string& model, const adapter::v1::UpstreamError* last) {
  if (last != nullptr && last->http_status() == 429) {
    return MakeError(429, "rate_limit_error", "Every upstream channel for model '" + model +
                     "' is rate limited; retry shortly.", "upstream_rate_limited");
  }
  std::string detail = last != nullptr && !last->message().empty() ? " Last error: " + last->message() : "";
  return MakeError(503, "service_unavailable", "No available channel for model '" + model +
                   "': every upstream attempt failed." + detail, "no_available_channel");
}

}  // namespace

codecs::ApiError UpstreamClientError(const adapter::v1::UpstreamError& e) {
  int status = e.http_status() >= 400 && e.http_status() < 500 ? e.http_status() : 502;
  std::string type = status == 404 ? "not_found_error" : "invalid_request_error";
  std::string message = e.message().empty() ? "The upstream provider rejected the request." : e.message();
  return ApiError{status, type, message, "", e.type().empty() ? "upstream_rejected" : e.type()};
}

void SetUsageHeaders(http::response_header<>& h, const v1::Usage& u) {
  h.set("X-RouteAll-Usage-Prompt", std::to_string(u.prompt_tokens()));
  h.set("X-RouteAll-Usage-Completion", std::to_string(u.completion_tokens()));
  h.set("X-RouteAll-Usage-Cached-Tokens", std::to_string(u.cached_tokens()));
  h.set("X-RouteAll-Usage-Reasoning-Tokens", std::to_string(u.reasoning_tokens()));
  h.set("X-RouteAll-Usage-Calls", std::to_string(u.calls()));
}

ChatPipeline::ChatPipeline(AuthClient& auth, RoutingClient& routing, AdapterClient& adapter,
                           ChatPipelineOptions options, std::function<std::string()> new_request_id,
                           std::function<int64_t()> now_unix, std::function<void(const ChatResult&)> observer)
    : auth_(auth), routing_(routing), adapter_(adapter), options_(options),
      new_request_id_(std::move(new_request_id)), now_unix_(std::move(now_unix)), observer_(std::move(observer)) {}

std::optional<auth::v1::Principal> ChatPipeline::Authenticate(const PublicDialect& dialect, const HttpRequest& req,
                                                              ApiError* err) {
  std::string key = dialect.ApiKey(req);
  if (key.empty()) {
    *err = MakeError(401, "invalid_request_error",
                     "You didn't provide an API key. Provide it in an Authorization header using Bearer auth "
                     "(Authorization: Bearer sk-ra-...).",
                     "missing_api_key");
    return std::nullopt;
  }
  auto principal = auth_.Authorize(Sha256Hex(key));
  if (principal.ok()) return *principal;
  if (principal.status().code() == absl::StatusCode::kNotFound) {
    *err = MakeError(401, "invalid_request_error", "Incorrect API key provided: " + MaskKey(key) + ".",
                     "invalid_api_key");
  } else if (principal.status().code() == absl::StatusCode::kPermissionDenied) {
    *err = MakeError(401, "invalid_request_error",
                     "API key " + MaskKey(key) + " is not usable: " + std::string(principal.status().message()) + ".",
                     "invalid_api_key");
  } else {
    LogError("auth unavailable", {{"error", principal.status().ToString()}});
    *err = MakeError(503, "service_unavailable", "Authentication is temporarily unavailable; retry shortly.",
                     "auth_unavailable");
  }
  return std::nullopt;
}

adapter::v1::GenerateRequest ChatPipeline::MakeCall(const v1::ChatRequest& chat, const routing::v1::Candidate& c,
                                                    const std::string& request_id) const {
  adapter::v1::GenerateRequest call;
  call.set_request_id(request_id);
  auto* up = call.mutable_upstream();
  up->set_channel_id(c.channel_id());
  up->set_provider(c.provider());
  up->set_base_url(c.base_url());
  up->set_api_key(c.api_key());
  up->set_upstream_model(c.upstream_model().empty() ? chat.model() : c.upstream_model());
  auto t = Timeout(c);
  up->mutable_timeout()->set_seconds(t.count() / 1000);
  up->mutable_timeout()->set_nanos(static_cast<int32_t>((t.count() % 1000) * 1000000));
  *call.mutable_request() = chat;
  return call;
}

std::chrono::milliseconds ChatPipeline::Timeout(const routing::v1::Candidate& c) const {
  int64_t ms = c.timeout().seconds() * 1000 + c.timeout().nanos() / 1000000;
  return ms > 0 ? std::chrono::milliseconds(ms) : options_.default_upstream_timeout;
}

void ChatPipeline::Report(const routing::v1::Candidate& c, routing::v1::Outcome outcome, int http_status,
                          std::chrono::steady_clock::duration latency) {
  routing::v1::ReportOutcomeRequest r;
  r.set_channel_id(c.channel_id());
  r.set_outcome(outcome);
  r.set_http_status(http_status);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count();
  r.mutable_latency()->set_seconds(ns / 1000000000);
  r.mutable_latency()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  routing_.ReportOutcome(r);
}

void ChatPipeline::Handle(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out) {
  ChatResult result;
  result.request_id = new_request_id_();
  ScopedRequestId scoped(result.request_id);
  auto fail = [&](const ApiError& err) {
    HttpResponse res = dialect.Error(err);
    res.set("X-Request-Id", result.request_id);
    if (err.http_status == 429) res.set(http::field::retry_after, "1");
    result.http_status = err.http_status;
    out.Send(std::move(res));
  };
  auto finish = [&] {
    if (observer_) observer_(result);
  };

  ApiError err;
  auto principal = Authenticate(dialect, req, &err);
  if (!principal) {
    fail(err);
    return finish();
  }
  v1::ChatRequest chat;
  if (auto bad = dialect.Decode(req, &chat)) {
    fail(*bad);
    return finish();
  }
  result.stream = chat.stream();
  const auto& allowed = principal->allowed_models();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), chat.model()) == allowed.end()) {
    fail(MakeError(404, "invalid_request_error",
                   "The model '" + chat.model() + "' does not exist or you do not have access to it.",
                   "model_not_found"));
    return finish();
  }
  auto candidates = routing_.Route(chat.model(), principal->group());
  if (!candidates.ok()) {
    LogError("routing unavailable", {{"error", candidates.status().ToString()}});
    fail(MakeError(503, "service_unavailable", "Routing is temporarily unavailable; retry shortly.",
                   "routing_unavailable"));
    return finish();
  }
  if (candidates->empty()) {
    fail(MakeError(503, "service_unavailable",
                   "No available channel for model '" + chat.model() + "' in group '" + principal->group() + "'.",
                   "no_available_channel"));
    return finish();
  }
  if (chat.stream()) {
    Stream(dialect, chat, *candidates, result, out);
  } else {
    Unary(dialect, chat, *candidates, result, out);
  }
  finish();
}

void ChatPipeline::HandleModels(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out) {
  ApiError err;
  auto principal = Authenticate(dialect, req, &err);
  if (!principal) {
    out.Send(dialect.Error(err));
    return;
  }
  auto models = routing_.ListModels(principal->group());
  if (!models.ok()) {
    out.Send(dialect.Error(MakeError(503, "service_unavailable", "Routing is temporarily unavailable; retry shortly.",
                                     "routing_unavailable")));
    return;
  }
  const auto& allowed = principal->allowed_models();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& m : *models) {
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), m) == allowed.end()) continue;
    data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "routeall"}});
  }
  HttpResponse r{http::status::ok, 11};
  r.set(http::field::content_type, "application/json");
  r.body() = nlohmann::json{{"object", "list"}, {"data", data}}.dump();
  out.Send(std::move(r));
}

bool ChatPipeline::Unary(const PublicDialect& dialect, const v1::ChatRequest& chat,
                         const std::vector<routing::v1::Candidate>& candidates, ChatResult& result,
                         ResponseWriter& out) {
  adapter::v1::UpstreamError last;
  bool have_last = false;
  int limit = std::min<int>(options_.max_attempts, static_cast<int>(candidates.size()));
  for (int i = 0; i < limit; ++i) {
    const auto& c = candidates[i];
    ++result.attempts;
    auto started = std::chrono::steady_clock::now();
    auto res = adapter_.Generate(MakeCall(chat, c, result.request_id), Timeout(c) + std::chrono::seconds(5));
    auto latency = std::chrono::steady_clock::now() - started;
    if (!res.ok()) {
      // The adapter itself could not be reached: not the channel's fault, try the next one.
      LogWarn("adapter call failed", {{"channel_id", c.channel_id()}, {"error", res.status().ToString()}});
      last.set_message("adapter unavailable");
      have_last = true;
      continue;
    }
    if (res->has_error()) {
      const auto& e = res->error();
      if (!e.retryable()) {
        Report(c, routing::v1::OUTCOME_CLIENT_ERROR, e.http_status(), latency);
        HttpResponse r = dialect.Error(UpstreamClientError(e));
        r.set("X-Request-Id", result.request_id);
        result.http_status = r.result_int();
        out.Send(std::move(r));
        return false;
      }
      Report(c, routing::v1::OUTCOME_FAILURE, e.http_status(), latency);
      LogWarn("upstream failed, failing over",
              {{"channel_id", c.channel_id()}, {"http_status", e.http_status()}, {"error", e.message()}});
      last = e;
      have_last = true;
      continue;
    }
    Report(c, routing::v1::OUTCOME_SUCCESS, 200, latency);
    v1::ChatResponse answer = res->response();
    answer.set_id("chatcmpl-" + result.request_id);
    answer.set_model(chat.model());
    if (answer.created_unix() == 0) answer.set_created_unix(now_unix_());
    result.usage = answer.usage();
    HttpResponse r{http::status::ok, 11};
    r.set(http::field::content_type, "application/json");
    r.set("X-Request-Id", result.request_id);
    SetUsageHeaders(r.base(), result.usage);
    r.body() = dialect.EncodeResponse(answer);
    result.http_status = 200;
    out.Send(std::move(r));
    return true;
  }
  ApiError e = AllFailed(chat.model(), have_last ? &last : nullptr);
  HttpResponse r = dialect.Error(e);
  r.set("X-Request-Id", result.request_id);
  if (e.http_status == 429) r.set(http::field::retry_after, "1");
  result.http_status = e.http_status;
  out.Send(std::move(r));
  return false;
}

bool ChatPipeline::Stream(const PublicDialect& dialect, const v1::ChatRequest& chat,
                          const std::vector<routing::v1::Candidate>& candidates, ChatResult& result,
                          ResponseWriter& out) {
  adapter::v1::UpstreamError last;
  bool have_last = false;
  int limit = std::min<int>(options_.max_attempts, static_cast<int>(candidates.size()));
  const std::string answer_id = "chatcmpl-" + result.request_id;
  for (int i = 0; i < limit; ++i) {
    const auto& c = candidates[i];
    ++result.attempts;
    auto started = std::chrono::steady_clock::now();
    auto stream = adapter_.GenerateStream(MakeCall(chat, c, result.request_id), Timeout(c) + std::chrono::seconds(5));
    adapter::v1::GenerateStreamResponse event;
    if (!stream->Read(&event)) {
      absl::Status st = stream->Finish();
      LogWarn("adapter stream ended before any event", {{"channel_id", c.channel_id()}, {"error", st.ToString()}});
      last.set_message("adapter unavailable");
      have_last = true;
      continue;
    }
    if (event.has_error()) {
      const auto& e = event.error();
      auto latency = std::chrono::steady_clock::now() - started;
      if (!e.retryable()) {
        Report(c, routing::v1::OUTCOME_CLIENT_ERROR, e.http_status(), latency);
        HttpResponse r = dialect.Error(UpstreamClientError(e));
        r.set("X-Request-Id", result.request_id);
        result.http_status = r.result_int();
        out.Send(std::move(r));
        return false;
      }
      Report(c, routing::v1::OUTCOME_FAILURE, e.http_status(), latency);
      LogWarn("upstream stream failed before first byte, failing over",
              {{"channel_id", c.channel_id()}, {"http_status", e.http_status()}, {"error", e.message()}});
      last = e;
      have_last = true;
      continue;
    }

    // First chunk in hand: from here on the client sees bytes and there is no failover.
    auto encoder = dialect.NewStreamEncoder(chat, answer_id, now_unix_());
    http::response_header<> header = SseHeader();
    header.set("X-Request-Id", result.request_id);
    result.http_status = 200;
    bool client_ok = out.BeginStream(std::move(header));
    bool upstream_ok = true;
    ApiError broken;
    do {
      if (event.has_error()) {
        upstream_ok = false;
        broken = MakeError(502, "upstream_error", "The upstream stream failed: " + event.error().message(),
                           "upstream_stream_error");
        break;
      }
      const v1::ChatChunk& chunk = event.chunk();
      if (chunk.has_usage()) result.usage = chunk.usage();
      if (client_ok) {
        std::string text = encoder->Chunk(chunk);
        if (!text.empty()) client_ok = out.Write(text);
      }
      if (!client_ok) {
        // The client went away: stop paying the upstream for tokens nobody reads.
        stream->Cancel();
        break;
      }
    } while (stream->Read(&event));
    absl::Status st = stream->Finish();
    auto latency = std::chrono::steady_clock::now() - started;
    if (client_ok && upstream_ok && !st.ok()) {
      upstream_ok = false;
      broken = MakeError(502, "upstream_error", "The upstream stream was interrupted.", "upstream_stream_error");
    }
    Report(c, upstream_ok || !client_ok ? routing::v1::OUTCOME_SUCCESS : routing::v1::OUTCOME_FAILURE, 200, latency);
    result.client_gone = !client_ok;
    if (client_ok) {
      out.Write(upstream_ok ? encoder->Finish(result.usage) : encoder->Error(broken));
      out.EndStream();
    }
    return upstream_ok && client_ok;
  }
  ApiError e = AllFailed(chat.model(), have_last ? &last : nullptr);
  HttpResponse r = dialect.Error(e);
  r.set("X-Request-Id", result.request_id);
  if (e.http_status == 429) r.set(http::field::retry_after, "1");
  result.http_status = e.http_status;
  out.Send(std::move(r));
  return false;
}

}  // namespace routeall::gateway
