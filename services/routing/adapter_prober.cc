// AdapterProber: the cheapest call that proves a channel answers (one short user message, one token).
#include "services/routing/adapter_prober.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace routeall::routing {

AdapterProber::AdapterProber(std::shared_ptr<grpc::Channel> channel)
    : stub_(routeall::adapter::v1::AdapterService::NewStub(std::move(channel))) {}

routeall::adapter::v1::GenerateRequest AdapterProber::MakeRequest(const Channel& channel, absl::Duration timeout,
                                                                  int64_t sequence) {
  routeall::adapter::v1::GenerateRequest req;
  req.set_request_id(absl::StrCat("probe-", channel.id, "-", sequence));
  auto* up = req.mutable_upstream();
  up->set_channel_id(channel.id);
  up->set_provider(channel.provider);
  up->set_base_url(channel.base_url);
  up->set_api_key(channel.api_key);
  std::string model = channel.models.empty() ? std::string() : channel.models.front().model;
  std::string upstream = channel.models.empty() ? std::string() : channel.models.front().upstream_model;
  up->set_upstream_model(upstream.empty() ? model : upstream);
  int64_t ms = absl::ToInt64Milliseconds(timeout);
  up->mutable_timeout()->set_seconds(ms / 1000);
  up->mutable_timeout()->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
  auto* chat = req.mutable_request();
  chat->set_model(model);
  chat->set_max_tokens(1);
  chat->set_source_dialect(channel.provider);
  auto* msg = chat->add_messages();
  msg->set_role(routeall::llm::v1::ROLE_USER);
  msg->add_parts()->set_text("ping");
  return req;
}

absl::StatusOr<ProbeResult> AdapterProber::Probe(const Channel& channel, absl::Duration timeout) {
  auto req = MakeRequest(channel, timeout, ++sequence_);
  grpc::ClientContext ctx;
  // The adapter enforces the upstream timeout; the margin only covers the hop to it.
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout) +
                   std::chrono::seconds(2));
  routeall::adapter::v1::GenerateResponse res;
  absl::Time started = absl::Now();
  grpc::Status st = stub_->Generate(&ctx, req, &res);
  ProbeResult out;
  out.latency = absl::Now() - started;
  if (!st.ok()) return FromGrpcStatus(st);
  if (!res.has_error()) {
    out.kind = ProbeResult::Kind::kSuccess;
    return out;
  }
  const auto& e = res.error();
  out.kind = e.retryable() ? ProbeResult::Kind::kFailure : ProbeResult::Kind::kClientError;
  out.error = e.http_status() > 0 ? absl::StrCat("probe: HTTP ", e.http_status(), ": ", e.message())
                                  : absl::StrCat("probe: ", e.message());
  return out;
}

}  // namespace routeall::routing
