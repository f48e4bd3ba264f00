// The life of one chat request, whatever its dialect: authenticate, validate, reserve the
// balance, route, call the upstream through the adapter with silent failover before the
// first byte, answer, and bill exactly what was produced.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "gateway/clients.h"
#include "gateway/dialect.h"
#include "gateway/http_server.h"
#include "gateway/usage_counter.h"
#include "gateway/usage_publisher.h"

namespace routeall::gateway {

struct ChatPipelineOptions {
  // Upstream attempts per request (candidates beyond this are not tried).
  int max_attempts = 3;
  // Used when a channel sets no timeout of its own.
  std::chrono::milliseconds default_upstream_timeout{600000};
  // Output tokens a hold is sized for when the request sets no max_tokens.
  // Also sent upstream as max_tokens then, so the hold really bounds the output.
  int64_t default_max_output_tokens = 4096;
  // How long a stream whose client went away is still read, so the upstream's own usage
  // (reasoning included) is billed instead of a count of what reached us.
  std::chrono::milliseconds client_gone_drain{30000};
  // Reported usage beyond this many tokens in any field (or negative, or inconsistent) is not
  // believed: the tokenizer counts the request instead. No model's context comes close.
  int64_t max_plausible_tokens = 10000000;
};

// Request-scoped facts the pipeline reports to its observer (metrics).
struct ChatResult {
  std::string request_id;
  std::string dialect;
  int http_status = 0;
  int attempts = 0;
  bool stream = false;
  bool client_gone = false;
  bool billed = false;
  llm::v1::Usage usage;
  int64_t charge_micros = 0;
};

// Everything the pipeline talks to.
struct ChatPipelineDeps {
  AuthClient* auth;
  RoutingClient* routing;
  AdapterClient* adapter;
  BillingClient* billing;
  UsageSink* usage;
  // Counts usage an upstream did not report; null = bill only reported usage.
  const UsageCounter* counter = nullptr;
  std::function<std::string()> new_request_id;
  std::function<int64_t()> now_unix;
  std::function<void(const ChatResult&)> observer;
};

class ChatPipeline {
 public:
  ChatPipeline(ChatPipelineDeps deps, ChatPipelineOptions options);

  void Handle(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out);
  // Whether the request's key is valid (header only; the body is not read yet): nullopt, or
  // the error to answer with. Lets the edge read large bodies only from known callers.
  std::optional<codecs::ApiError> CheckKey(const PublicDialect& dialect, const HttpRequest& req);
  // GET /v1/models: the models this key may use, in OpenAI's list format.
  void HandleModels(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out);
  // GET /v1/usage[?from=RFC3339&to=RFC3339&limit=N]: the key's account usage, per request and
  // per day and model (camelCase JSON: promptTokens, cachedTokens, reasoningTokens, charge...).
  void HandleUsage(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out);

 private:
  struct Call;  // one request's state

  std::optional<auth::v1::Principal> Authenticate(const PublicDialect& dialect, const HttpRequest& req,
                                                  codecs::ApiError* err);
  void Unary(Call& call, const std::vector<routing::v1::Candidate>& candidates);
  void Stream(Call& call, const std::vector<routing::v1::Candidate>& candidates);
  void SendError(Call& call, const codecs::ApiError& err);
  // An attempt failed before anything reached the client: a client error is answered (false,
  // stop); a retryable one is reported against the channel and logged (true, try the next).
  bool FailOver(Call& call, const routing::v1::Candidate& c, const adapter::v1::UpstreamError& e,
                std::chrono::steady_clock::duration latency, const char* log_msg);
  // Bills usage (publishes the event) and returns the charge.
  int64_t Settle(Call& call, const llm::v1::Usage& usage, int64_t channel_id,
                 billing::v1::RequestOutcome outcome);
  // Whether an upstream's usage report can be billed as is (PlausibleUsage); logs why not.
  bool TrustedUsage(const llm::v1::Usage& usage, int64_t channel_id) const;
  adapter::v1::GenerateRequest MakeCall(const Call& call, const routing::v1::Candidate& c) const;
  std::chrono::milliseconds Timeout(const routing::v1::Candidate& c) const;
  void Report(const routing::v1::Candidate& c, routing::v1::Outcome outcome, int http_status,
              std::chrono::steady_clock::duration latency, const std::string& error = "");

  ChatPipelineDeps deps_;
  ChatPipelineOptions options_;
};

// An upstream error text made safe to show a client: URLs, addresses and credential-like
// words redacted, at most ~300 bytes.
std::string RedactUpstreamText(std::string_view text);

// Maps an upstream failure that is the client's own fault (not retried) to a client error.
codecs::ApiError UpstreamClientError(const adapter::v1::UpstreamError& e);

// Sets the X-RouteAll-Usage-* fields and X-RouteAll-Charge-Credit.
void SetUsageFields(http::fields& h, const llm::v1::Usage& usage, int64_t charge_micros);

// Whether an upstream's usage report can be billed as is: every count in [0, max_tokens],
// cache within the prompt, reasoning within the completion.
bool PlausibleUsage(const llm::v1::Usage& u, int64_t max_tokens);

// An upper-bound guess of a request's prompt tokens, used only to size the balance hold
// (what is billed always comes from the upstream's report or the tokenizer).
int64_t EstimatePromptTokens(const llm::v1::ChatRequest& req);

}  // namespace routeall::gateway
