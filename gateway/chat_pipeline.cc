// ChatPipeline: the request lifecycle, the failover loop and settlement.
#include "gateway/chat_pipeline.h"

#include <algorithm>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/pricing.h"
#include "gateway/sse.h"
#include "gateway/tokenizer_usage_counter.h"

namespace routeall::gateway {
namespace {

namespace v1 = ::routeall::llm::v1;
using codecs::ApiError;

ApiError MakeError(int status, std::string type, std::string message, std::string code) {
  return ApiError{status, std::move(type), std::move(message), "", std::move(code)};
}

// The shape of a key auth issues ("sk-ra-" + 48 base62, services/auth/key_generator.h):
// anything else is refused here without a lookup, so junk tokens cost auth nothing.
// OpenAI's reasoning models refuse "max_tokens" and want "max_completion_tokens".
bool UsesMaxCompletionTokens(const std::string& model) {
  return (model.size() >= 2 && model[0] == 'o' && model[1] >= '1' && model[1] <= '9') || model.rfind("gpt-5", 0) == 0;
}

bool WellFormedKey(const std::string& key) {
  static constexpr std::string_view kPrefix = "sk-ra-";
  if (key.size() != kPrefix.size() + 48 || key.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  for (size_t i = kPrefix.size(); i < key.size(); ++i) {
    const char c = key[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// What to tell the client when every attempt failed.
ApiError AllFailed(const std::string& model, const adapter::v1::UpstreamError* last) {
  if (last != nullptr && last->http_status() == 429) {
    return MakeError(429, "rate_limit_error", "Every upstream channel for model '" + model +
                     "' is rate limited; retry shortly.", "upstream_rate_limited");
  }
  // The upstream's own text stays in our logs (with the request id): it can name internal
  // addresses or the channel's account.
  return MakeError(503, "service_unavailable", "No available channel for model '" + model +
                   "': every upstream attempt failed.", "no_available_channel");
}

const char* const kUsageFields[] = {"X-RouteAll-Usage-Prompt", "X-RouteAll-Usage-Completion",
                                    "X-RouteAll-Usage-Cached-Tokens", "X-RouteAll-Usage-Reasoning-Tokens",
                                    "X-RouteAll-Usage-Calls", "X-RouteAll-Charge-Credit"};

// "X-RouteAll-Usage-Prompt, ..." for the Trailer header, from the same list SetUsageFields sets.
const std::string& UsageTrailerNames() {
  static const std::string kNames = [] {
    std::string out;
    for (const char* f : kUsageFields) out += (out.empty() ? "" : ", ") + std::string(f);
    return out;
  }();
  return kNames;
}

}  // namespace

struct ChatPipeline::Call {
  const PublicDialect& dialect;
  ResponseWriter& out;
  ChatResult result;
  auth::v1::Principal principal;
  v1::ChatRequest chat;
  billing::v1::ReserveResponse hold;
  bool settled = false;
};

std::string RedactUpstreamText(std::string_view text) {
  // Words that look like a URL, a host:port, an e-mail or a credential are replaced; the rest
  // (the provider's explanation of what was wrong with the request) is kept, up to 300 bytes.
  std::string out;
  size_t i = 0;
  while (i < text.size() && out.size() < 300) {
    size_t j = text.find_first_of(" \t\n\r", i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view word = text.substr(i, j - i);
    bool secret = word.find("://") != std::string_view::npos || word.find('@') != std::string_view::npos ||
                  word.rfind("sk-", 0) == 0 || word.rfind("AIza", 0) == 0 || word.rfind("key=", 0) == 0 ||
                  word.find("key=") != std::string_view::npos;
    int digits = 0, dots = 0, colons = 0;
    for (char c : word) {
      digits += (c >= '0' && c <= '9');
      dots += c == '.';
      colons += c == ':';
    }
    if ((dots >= 3 && digits >= 4) || (colons >= 1 && digits >= 2 && dots >= 1)) secret = true;  // 10.0.0.7, host:443
    if (word.size() >= 24 && word.find_first_of(" .,;") == std::string_view::npos) secret = true;  // token-like
    out += secret ? std::string("[redacted]") : std::string(word);
    if (j < text.size()) out += ' ';
    i = j + 1;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

codecs::ApiError UpstreamClientError(const adapter::v1::UpstreamError& e) {
  if (e.response_started()) {
    return ApiError{e.http_status() == 502 ? 502 : 504, "upstream_error",
                    e.type() == "upstream_response_too_large" ? "The upstream's answer exceeded the size limit."
                                                              : "The upstream provider timed out while generating.",
                    "", e.type().empty() ? "upstream_timeout" : e.type()};
  }
  int status = e.http_status() >= 400 && e.http_status() < 500 ? e.http_status() : 502;
  std::string type = status == 404 ? "not_found_error" : "invalid_request_error";
  std::string message = RedactUpstreamText(e.message());
  if (message.empty()) message = "The upstream provider rejected the request.";
  return ApiError{status, type, message, "", e.type().empty() ? "upstream_rejected" : e.type()};
}

void SetUsageFields(http::fields& h, const v1::Usage& u, int64_t charge_micros) {
  h.set(kUsageFields[0], std::to_string(u.prompt_tokens()));
  h.set(kUsageFields[1], std::to_string(u.completion_tokens()));
  h.set(kUsageFields[2], std::to_string(u.cached_tokens()));
  h.set(kUsageFields[3], std::to_string(u.reasoning_tokens()));
  h.set(kUsageFields[4], std::to_string(u.calls()));
  h.set(kUsageFields[5], FormatCredits(charge_micros));
}

bool PlausibleUsage(const v1::Usage& u, int64_t max_tokens) { return ValidateUsage(u, max_tokens).ok(); }

int64_t EstimatePromptTokens(const v1::ChatRequest& req) {
  // Tokens are rarely shorter than 3 bytes of text; images count by the vision formula.
  int64_t bytes = 0, images = 0;
  for (const auto& m : req.messages()) {
    bytes += 16;
    for (const auto& p : m.parts()) {
      if (p.part_case() == v1::ContentPart::kText) bytes += static_cast<int64_t>(p.text().size());
      if (p.has_thinking()) bytes += static_cast<int64_t>(p.thinking().text().size());
      if (p.has_image()) images += ImagePromptTokens(p.image());
    }
    for (const auto& c : m.tool_calls()) bytes += static_cast<int64_t>(c.arguments_json().size() + c.name().size());
  }
  for (const auto& t : req.tools()) bytes += static_cast<int64_t>(t.parameters_json().size() + t.description().size());
  return bytes / 3 + 1 + images;
}

ChatPipeline::ChatPipeline(ChatPipelineDeps deps, ChatPipelineOptions options)
    : deps_(std::move(deps)), options_(options) {}

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
  // The key itself (or any part of it) is never echoed: it is a secret of the caller's.
  const ApiError bad_key = MakeError(401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key");
  if (!WellFormedKey(key)) {
    *err = bad_key;
    return std::nullopt;
  }
  auto principal = deps_.auth->Authorize(Sha256Hex(key));
  if (principal.ok()) return *principal;
  if (principal.status().code() == absl::StatusCode::kNotFound) {
    *err = bad_key;
  } else if (principal.status().code() == absl::StatusCode::kPermissionDenied) {
    *err = MakeError(401, "invalid_request_error",
                     "This API key is not usable: " + std::string(principal.status().message()) + ".",
                     "invalid_api_key");
  } else if (principal.status().code() == absl::StatusCode::kResourceExhausted) {
    *err = MakeError(503, "service_unavailable", "Too many requests with unknown API keys; retry shortly.",
                     "auth_busy");
  } else {
    LogError("auth unavailable", {{"error", principal.status().ToString()}});
    *err = MakeError(503, "service_unavailable", "Authentication is temporarily unavailable; retry shortly.",
                     "auth_unavailable");
  }
  return std::nullopt;
}

adapter::v1::GenerateRequest ChatPipeline::MakeCall(const Call& call, const routing::v1::Candidate& c) const {
  adapter::v1::GenerateRequest req;
  req.set_request_id(call.result.request_id);
  auto* up = req.mutable_upstream();
  up->set_channel_id(c.channel_id());
  up->set_provider(c.provider());
  up->set_base_url(c.base_url());
  up->set_api_key(c.api_key());
  up->set_upstream_model(c.upstream_model().empty() ? call.chat.model() : c.upstream_model());
  auto t = Timeout(c);
  up->mutable_timeout()->set_seconds(t.count() / 1000);
  up->mutable_timeout()->set_nanos(static_cast<int32_t>((t.count() % 1000) * 1000000));
  if (c.has_stream_idle_timeout()) *up->mutable_stream_idle_timeout() = c.stream_idle_timeout();
  if (c.has_stream_total_timeout()) *up->mutable_stream_total_timeout() = c.stream_total_timeout();
  *req.mutable_request() = call.chat;
  return req;
}

std::chrono::milliseconds ChatPipeline::Timeout(const routing::v1::Candidate& c) const {
  int64_t ms = c.timeout().seconds() * 1000 + c.timeout().nanos() / 1000000;
  return ms > 0 ? std::chrono::milliseconds(ms) : options_.default_upstream_timeout;
}

void ChatPipeline::Report(const routing::v1::Candidate& c, routing::v1::Outcome outcome, int http_status,
                          std::chrono::steady_clock::duration latency, const std::string& error) {
  routing::v1::ReportOutcomeRequest r;
  r.set_channel_id(c.channel_id());
  r.set_outcome(outcome);
  r.set_http_status(http_status);
  r.set_error_message(error);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count();
  r.mutable_latency()->set_seconds(ns / 1000000000);
  r.mutable_latency()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  deps_.routing->ReportOutcome(r);
}

bool ChatPipeline::FailOver(Call& call, const routing::v1::Candidate& c, const adapter::v1::UpstreamError& e,
                            std::chrono::steady_clock::duration latency, const char* log_msg) {
  if (e.response_started()) {
    // The upstream was answering (slow generation, an oversized or cut answer): the channel
    // works, another try would pay a second upstream, and the prompt was consumed — bill it.
    Report(c, routing::v1::OUTCOME_SUCCESS, 200, latency);
    LogWarn("upstream failed after it started answering",
            {{"channel_id", c.channel_id()}, {"type", e.type()}, {"error", e.message()}});
    v1::Usage usage;
    if (deps_.counter != nullptr) usage = deps_.counter->Count(call.chat, "");
    Settle(call, usage, c.channel_id(), billing::v1::REQUEST_OUTCOME_UPSTREAM_FAILED);
    SendError(call, UpstreamClientError(e));
    return false;
  }
  if (!e.retryable()) {
    // The client's own request was rejected: another channel would reject it too.
    Report(c, routing::v1::OUTCOME_CLIENT_ERROR, e.http_status(), latency);
    SendError(call, UpstreamClientError(e));
    return false;
  }
  Report(c, routing::v1::OUTCOME_FAILURE, e.http_status(), latency, e.message());
  LogWarn(log_msg, {{"channel_id", c.channel_id()}, {"http_status", e.http_status()}, {"error", e.message()}});
  return true;
}

void ChatPipeline::SendError(Call& call, const ApiError& err) {
  HttpResponse res = call.dialect.Error(err);
  res.set("X-Request-Id", call.result.request_id);
  if (err.http_status == 429 || err.http_status == 503) res.set(http::field::retry_after, "1");
  call.result.http_status = err.http_status;
  call.out.Send(std::move(res));
}

int64_t ChatPipeline::Settle(Call& call, const v1::Usage& usage, int64_t channel_id,
                             billing::v1::RequestOutcome outcome) {
  call.settled = true;
  int64_t charge = ComputeChargeMicros(call.hold.price(), call.principal.multiplier_ppm(), usage);
  billing::v1::UsageEvent ev;
  ev.set_request_id(call.result.request_id);
  ev.set_account_id(call.principal.account_id());
  ev.set_key_id(call.principal.key_id());
  ev.set_model(call.chat.model());
  ev.set_channel_id(channel_id);
  *ev.mutable_usage() = usage;
  ev.set_charge_micros(charge);
  ev.set_price_version(call.hold.price().version());
  ev.set_multiplier_ppm(call.principal.multiplier_ppm());
  ev.set_hold_id(call.hold.hold_id());
  ev.set_dialect(call.chat.source_dialect());
  ev.set_outcome(outcome);
  ev.set_stream(call.chat.stream());
  *ev.mutable_occurred_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(deps_.now_unix());
  deps_.usage->Publish(ev);
  call.result.billed = true;
  call.result.usage = usage;
  call.result.charge_micros = charge;
  return charge;
}

bool ChatPipeline::TrustedUsage(const v1::Usage& usage, int64_t channel_id) const {
  absl::Status st = ValidateUsage(usage, options_.max_plausible_tokens);
  if (st.ok()) return true;
  // Negative, absurd or inconsistent counts are never billed as reported (nor as zero).
  LogWarn("implausible upstream usage; counting instead",
          {{"channel_id", channel_id}, {"reason", std::string(st.message())}, {"usage", usage.ShortDebugString()}});
  return false;
}

std::optional<ApiError> ChatPipeline::CheckKey(const PublicDialect& dialect, const HttpRequest& req) {
  ApiError err;
  if (Authenticate(dialect, req, &err)) return std::nullopt;
  return err;
}

void ChatPipeline::HandleModels(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out) {
  ApiError err;
  auto principal = Authenticate(dialect, req, &err);
  if (!principal) {
    out.Send(dialect.Error(err));
    return;
  }
  auto models = deps_.routing->ListModels(principal->group());
  if (!models.ok()) {
    out.Send(dialect.Error(MakeError(503, "service_unavailable", "Routing is temporarily unavailable; retry shortly.",
                                     "routing_unavailable")));
    return;
  }
  const auto& allowed = principal->allowed_models();
  std::vector<std::string> visible;
  for (const auto& m : *models) {
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), m) != allowed.end()) visible.push_back(m);
  }
  HttpResponse r{http::status::ok, 11};
  r.set(http::field::content_type, "application/json");
  r.body() = dialect.EncodeModels(visible);
  out.Send(std::move(r));
}

void ChatPipeline::HandleUsage(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out) {
  ApiError err;
  auto principal = Authenticate(dialect, req, &err);
  if (!principal) {
    out.Send(dialect.Error(err));
    return;
  }
  billing::v1::GetUsageRequest q;
  q.set_account_id(principal->account_id());
  std::string_view target(req.target().data(), req.target().size());
  for (const char* name : {"from", "to", "limit"}) {
    std::string v = QueryParam(target, name);
    if (v.empty()) continue;
    bool ok = true;
    if (std::string(name) == "limit") {
      int32_t limit = 0;
      ok = absl::SimpleAtoi(v, &limit) && limit > 0;
      q.set_limit(limit);
    } else {
      ok = google::protobuf::util::TimeUtil::FromString(v, std::string(name) == "from" ? q.mutable_from() : q.mutable_to());
    }
    if (!ok) {
      out.Send(dialect.Error(codecs::InvalidField(name, std::string("Invalid '") + name + "': expected " +
                                                    (std::string(name) == "limit" ? "a positive integer"
                                                                                  : "an RFC 3339 time") + ".")));
      return;
    }
  }
  auto usage = deps_.billing->GetUsage(q);
  if (!usage.ok() && usage.status().code() == absl::StatusCode::kInvalidArgument) {
    // A bad range (from after to, too long a span): the caller's mistake, not an outage.
    out.Send(dialect.Error(codecs::InvalidField("from", "Invalid range: " + std::string(usage.status().message()) + ".")));
    return;
  }
  if (!usage.ok()) {
    out.Send(dialect.Error(MakeError(503, "service_unavailable", "Usage is temporarily unavailable; retry shortly.",
                                     "billing_unavailable")));
    return;
  }
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;  // camelCase names, zeros included
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(*usage, &body, opts);
  HttpResponse r{http::status::ok, 11};
  r.set(http::field::content_type, "application/json");
  r.body() = std::move(body);
  out.Send(std::move(r));
}

void ChatPipeline::Handle(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out) {
  Call call{dialect, out, {}, {}, {}, {}, false};
  call.result.request_id = deps_.new_request_id();
  call.result.dialect = dialect.Name();
  ScopedRequestId scoped(call.result.request_id);
  auto finish = [&] {
    // A hold that no usage event will settle is released now rather than at its expiry.
    if (!call.settled && !call.hold.hold_id().empty()) {
      deps_.billing->Release(call.hold.hold_id(), call.principal.account_id());
    }
    if (deps_.observer) deps_.observer(call.result);
  };

  ApiError err;
  auto principal = Authenticate(dialect, req, &err);
  if (!principal) {
    SendError(call, err);
    return finish();
  }
  call.principal = *principal;
  if (auto bad = dialect.Decode(req, &call.chat)) {
    SendError(call, *bad);
    return finish();
  }
  call.result.stream = call.chat.stream();
  const auto& allowed = call.principal.allowed_models();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), call.chat.model()) == allowed.end()) {
    SendError(call, MakeError(404, "invalid_request_error",
                              "The model '" + call.chat.model() + "' does not exist or you do not have access to it.",
                              "model_not_found"));
    return finish();
  }

  // Route first: an unknown model is a 503 "no available channel" that holds no money.
  auto candidates = deps_.routing->Route(call.chat.model(), call.principal.group());
  if (!candidates.ok()) {
    LogError("routing unavailable", {{"error", candidates.status().ToString()}});
    SendError(call, MakeError(503, "service_unavailable", "Routing is temporarily unavailable; retry shortly.",
                              "routing_unavailable"));
    return finish();
  }
  if (candidates->empty()) {
    SendError(call, MakeError(503, "service_unavailable",
                              "No available channel for model '" + call.chat.model() + "' in group '" +
                                  call.principal.group() + "'.",
                              "no_available_channel"));
    return finish();
  }
  billing::v1::ReserveRequest reserve;
  reserve.set_request_id(call.result.request_id);
  reserve.set_account_id(call.principal.account_id());
  reserve.set_model(call.chat.model());
  reserve.set_estimated_prompt_tokens(EstimatePromptTokens(call.chat));
  if (!call.chat.has_max_tokens()) {
    // The hold must cover the worst case, so the upstream is told the same bound: without it
    // an upstream may write (and bill us) far more than the hold.
    call.chat.set_max_tokens(options_.default_max_output_tokens);
    call.chat.set_max_tokens_is_completion(UsesMaxCompletionTokens(call.chat.model()));
  }
  int64_t max_out = call.chat.max_tokens();
  reserve.set_max_output_tokens(max_out * std::max(1, call.chat.has_n() ? call.chat.n() : 1));
  reserve.set_multiplier_ppm(call.principal.multiplier_ppm());
  auto hold = deps_.billing->Reserve(reserve);
  if (!hold.ok()) {
    switch (hold.status().code()) {
      case absl::StatusCode::kFailedPrecondition:
        SendError(call, MakeError(402, "insufficient_balance",
                                  "Insufficient balance: " + std::string(hold.status().message()) +
                                      ". Top up the account or lower max_tokens.",
                                  "insufficient_balance"));
        break;
      case absl::StatusCode::kNotFound:
        SendError(call, MakeError(503, "service_unavailable",
                                  "Model '" + call.chat.model() + "' has no price configured and cannot be served.",
                                  "model_not_priced"));
        break;
      default:
        LogError("billing unavailable", {{"error", hold.status().ToString()}});
        // The Reserve may still land after our deadline: drop whatever hold it makes.
        deps_.billing->Release("", call.principal.account_id(), call.result.request_id);
        SendError(call, MakeError(503, "service_unavailable", "Billing is temporarily unavailable; retry shortly.",
                                  "billing_unavailable"));
    }
    return finish();
  }
  call.hold = *hold;

  if (call.chat.stream()) {
    Stream(call, *candidates);
  } else {
    Unary(call, *candidates);
  }
  finish();
}

void ChatPipeline::Unary(Call& call, const std::vector<routing::v1::Candidate>& candidates) {
  adapter::v1::UpstreamError last;
  bool have_last = false;
  int limit = std::min<int>(options_.max_attempts, static_cast<int>(candidates.size()));
  for (int i = 0; i < limit; ++i) {
    const auto& c = candidates[i];
    ++call.result.attempts;
    auto started = std::chrono::steady_clock::now();
    auto res = deps_.adapter->Generate(MakeCall(call, c), Timeout(c) + std::chrono::seconds(5));
    auto latency = std::chrono::steady_clock::now() - started;
    if (!res.ok()) {
      // The adapter itself could not be reached: not the channel's fault, try the next one.
      LogWarn("adapter call failed", {{"channel_id", c.channel_id()}, {"error", res.status().ToString()}});
      last.set_message("adapter unavailable");
      have_last = true;
      continue;
    }
    if (res->has_error()) {
      if (!FailOver(call, c, res->error(), latency, "upstream failed, failing over")) return;
      last = res->error();
      have_last = true;
      continue;
    }
    Report(c, routing::v1::OUTCOME_SUCCESS, 200, latency);
    v1::ChatResponse answer = res->response();
    answer.set_id(call.dialect.ResponseId(call.result.request_id));
    answer.set_model(call.chat.model());
    if (answer.created_unix() == 0) answer.set_created_unix(deps_.now_unix());
    v1::Usage usage = answer.usage();
    const bool trusted = usage.source() == v1::USAGE_SOURCE_UPSTREAM && TrustedUsage(usage, c.channel_id());
    if (!trusted && deps_.counter != nullptr) {
      std::string produced;
      for (const auto& ch : answer.choices()) {
        for (const auto& p : ch.message().parts()) produced += p.text() + p.thinking().text();
        for (const auto& t : ch.message().tool_calls()) produced += t.name() + t.arguments_json();
      }
      usage = deps_.counter->Count(call.chat, produced);
      *answer.mutable_usage() = usage;
    }
    int64_t charge = Settle(call, usage, c.channel_id(), billing::v1::REQUEST_OUTCOME_COMPLETED);
    HttpResponse r{http::status::ok, 11};
    r.set(http::field::content_type, "application/json");
    r.set("X-Request-Id", call.result.request_id);
    SetUsageFields(r.base(), usage, charge);
    r.body() = call.dialect.EncodeResponse(answer);
    call.result.http_status = 200;
    call.out.Send(std::move(r));
    return;
  }
  SendError(call, AllFailed(call.chat.model(), have_last ? &last : nullptr));
}

void ChatPipeline::Stream(Call& call, const std::vector<routing::v1::Candidate>& candidates) {
  adapter::v1::UpstreamError last;
  bool have_last = false;
  int limit = std::min<int>(options_.max_attempts, static_cast<int>(candidates.size()));
  const std::string answer_id = call.dialect.ResponseId(call.result.request_id);
  for (int i = 0; i < limit; ++i) {
    const auto& c = candidates[i];
    ++call.result.attempts;
    auto started = std::chrono::steady_clock::now();
    auto stream = deps_.adapter->GenerateStream(MakeCall(call, c), Timeout(c) + std::chrono::seconds(5));
    adapter::v1::GenerateStreamResponse event;
    if (!stream->Read(&event)) {
      absl::Status st = stream->Finish();
      LogWarn("adapter stream ended before any event", {{"channel_id", c.channel_id()}, {"error", st.ToString()}});
      last.set_message("adapter unavailable");
      have_last = true;
      continue;
    }
    if (event.has_error()) {
      if (!FailOver(call, c, event.error(), std::chrono::steady_clock::now() - started,
                    "upstream stream failed before first byte, failing over")) {
        return;
      }
      last = event.error();
      have_last = true;
      continue;
    }

    // First chunk in hand: from here on the client sees bytes and there is no failover.
    auto encoder = call.dialect.NewStreamEncoder(call.chat, answer_id, deps_.now_unix());
    http::response_header<> header = SseHeader();
    header.set("X-Request-Id", call.result.request_id);
    // Usage and charge are only known at the end: they travel as HTTP trailers.
    header.set(http::field::trailer, UsageTrailerNames());
    call.result.http_status = 200;
    bool client_ok = call.out.BeginStream(std::move(header));
    bool upstream_ok = true;
    bool drain_cut = false;
    auto drain_until = std::chrono::steady_clock::time_point::max();
    bool have_usage = false;
    v1::Usage usage;
    std::string produced;
    ApiError broken;
    do {
      if (event.has_error()) {
        upstream_ok = false;
        LogWarn("upstream stream failed", {{"channel_id", c.channel_id()}, {"type", event.error().type()},
                                           {"error", event.error().message()}});
        broken = event.error().response_started() ? UpstreamClientError(event.error())
                                                  : MakeError(502, "upstream_error", "The upstream stream failed.",
                                                              "upstream_stream_error");
        break;
      }
      const v1::ChatChunk& chunk = event.chunk();
      if (chunk.has_usage()) {
        usage = chunk.usage();
        have_usage = TrustedUsage(usage, c.channel_id());
      }
      for (const auto& d : chunk.deltas()) {
        produced += d.text();
        produced += d.thinking();
        for (const auto& t : d.tool_calls()) produced += t.name() + t.arguments_fragment();
      }
      if (client_ok) {
        std::string text = encoder->Chunk(chunk);
        if (!text.empty()) client_ok = call.out.Write(text);
        if (!client_ok) drain_until = std::chrono::steady_clock::now() + options_.client_gone_drain;
      }
      if (!client_ok && std::chrono::steady_clock::now() >= drain_until) {
        // The client went away and the drain time is over: stop paying for tokens nobody
        // reads, and bill what we counted.
        stream->Cancel();
        drain_cut = true;
        break;
      }
      // A gone client's stream is read on (drained) so that the upstream's own usage report,
      // hidden reasoning included, is what gets billed; max_tokens bounds what it can cost.
    } while (stream->Read(&event));
    absl::Status st = stream->Finish();
    auto latency = std::chrono::steady_clock::now() - started;
    if (!drain_cut && upstream_ok && !st.ok()) {
      upstream_ok = false;
      broken = MakeError(502, "upstream_error", "The upstream stream was interrupted.", "upstream_stream_error");
    }
    // The channel answered its first byte: whatever happens later (a slow or cut generation)
    // is not held against its health (only connect / first-byte failures are).
    Report(c, routing::v1::OUTCOME_SUCCESS, 200, latency);
    call.result.client_gone = !client_ok;
    // Bill what was produced: the upstream's own count when the answer completed, else our
    // count of every token that reached us. A broken stream may carry only partial usage
    // (Anthropic reports output_tokens: 1 at message_start): keep its prompt figures, which
    // are exact and split the cache, but never bill less output than we counted.
    const bool complete = upstream_ok && !drain_cut;
    if (deps_.counter != nullptr && (!have_usage || !complete)) {
      v1::Usage counted = deps_.counter->Count(call.chat, produced);
      if (!have_usage || usage.prompt_tokens() == 0) {
        usage = counted;
      } else {
        usage.set_completion_tokens(std::max(usage.completion_tokens(), counted.completion_tokens()));
      }
    }
    auto outcome = !client_ok     ? billing::v1::REQUEST_OUTCOME_CLIENT_ABORTED
                   : upstream_ok ? billing::v1::REQUEST_OUTCOME_COMPLETED
                                 : billing::v1::REQUEST_OUTCOME_UPSTREAM_FAILED;
    int64_t charge = Settle(call, usage, c.channel_id(), outcome);
    if (client_ok) {
      call.out.Write(upstream_ok ? encoder->Finish(usage) : encoder->Error(broken));
      http::fields trailers;
      SetUsageFields(trailers, usage, charge);
      call.out.EndStream(&trailers);
    }
    return;
  }
  SendError(call, AllFailed(call.chat.model(), have_last ? &last : nullptr));
}

}  // namespace routeall::gateway
