// The life of one chat request, whatever its dialect: authenticate, validate, route, call
// the upstream through the adapter with silent failover before the first byte, answer.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "gateway/clients.h"
#include "gateway/dialect.h"
#include "gateway/http_server.h"

namespace routeall::gateway {

struct ChatPipelineOptions {
  // Upstream attempts per request (candidates beyond this are not tried).
  int max_attempts = 3;
  // Used when a channel sets no timeout of its own.
  std::chrono::milliseconds default_upstream_timeout{600000};
};

// Request-scoped facts the pipeline reports to its observer (metrics, usage events).
struct ChatResult {
  std::string request_id;
  int http_status = 0;
  int attempts = 0;
  bool stream = false;
  bool client_gone = false;
  llm::v1::Usage usage;
};

class ChatPipeline {
 public:
  ChatPipeline(AuthClient& auth, RoutingClient& routing, AdapterClient& adapter, ChatPipelineOptions options,
               std::function<std::string()> new_request_id, std::function<int64_t()> now_unix,
               std::function<void(const ChatResult&)> observer = nullptr);

  void Handle(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out);
  // GET /v1/models: the models this key may use, in OpenAI's list format.
  void HandleModels(const PublicDialect& dialect, const HttpRequest& req, ResponseWriter& out);

 private:
  // Resolves the key to a principal, or fills err.
  std::optional<auth::v1::Principal> Authenticate(const PublicDialect& dialect, const HttpRequest& req,
                                                  codecs::ApiError* err);
  bool Unary(const PublicDialect& dialect, const llm::v1::ChatRequest& chat,
             const std::vector<routing::v1::Candidate>& candidates, ChatResult& result, ResponseWriter& out);
  bool Stream(const PublicDialect& dialect, const llm::v1::ChatRequest& chat,
              const std::vector<routing::v1::Candidate>& candidates, ChatResult& result, ResponseWriter& out);
  adapter::v1::GenerateRequest MakeCall(const llm::v1::ChatRequest& chat, const routing::v1::Candidate& c,
                                        const std::string& request_id) const;
  std::chrono::milliseconds Timeout(const routing::v1::Candidate& c) const;
  void Report(const routing::v1::Candidate& c, routing::v1::Outcome outcome, int http_status,
              std::chrono::steady_clock::duration latency);

  AuthClient& auth_;
  RoutingClient& routing_;
  AdapterClient& adapter_;
  ChatPipelineOptions options_;
  std::function<std::string()> new_request_id_;
  std::function<int64_t()> now_unix_;
  std::function<void(const ChatResult&)> observer_;
};

// Maps an upstream failure that is the client's own fault (not retried) to a client error.
codecs::ApiError UpstreamClientError(const adapter::v1::UpstreamError& e);

// Adds X-RouteAll-Usage-* headers for usage to a response header.
void SetUsageHeaders(http::response_header<>& h, const llm::v1::Usage& usage);

}  // namespace routeall::gateway
