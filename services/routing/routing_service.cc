// RoutingServiceImpl: proto <-> domain conversions around Router.
#include "services/routing/routing_service.h"

#include "common/status.h"

namespace routeall::routing {
namespace {

void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

v1::CircuitState ToProto(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed:
      return v1::CIRCUIT_STATE_CLOSED;
    case CircuitState::kOpen:
      return v1::CIRCUIT_STATE_OPEN;
    case CircuitState::kHalfOpen:
      return v1::CIRCUIT_STATE_HALF_OPEN;
    case CircuitState::kAutoDisabled:
      return v1::CIRCUIT_STATE_AUTO_DISABLED;
  }
  return v1::CIRCUIT_STATE_UNSPECIFIED;
}

void ToProto(const HealthInfo& h, v1::ChannelHealthInfo* out) {
  out->set_state(ToProto(h.state));
  out->set_consecutive_failures(h.consecutive_failures);
  out->set_error_rate(h.error_rate);
  out->set_window_requests(h.window_requests);
  out->set_last_error(h.last_error);
  if (h.opened_at != absl::InfinitePast()) ToProto(h.opened_at, out->mutable_opened_at());
  if (h.retry_at != absl::InfinitePast()) ToProto(h.retry_at, out->mutable_retry_at());
  if (h.latency > absl::ZeroDuration()) ToProto(h.latency, out->mutable_latency());
}

// Lists never carry the api_key, whatever the domain object holds.
void ToProto(const Channel& c, v1::Channel* out) {
  out->set_id(c.id);
  out->set_name(c.name);
  out->set_provider(c.provider);
  out->set_base_url(c.base_url);
  out->set_api_key_set(c.api_key_set);
  for (const auto& m : c.models) {
    auto* pm = out->add_models();
    pm->set_model(m.model);
    pm->set_upstream_model(m.upstream_model);
  }
  for (const auto& g : c.groups) out->add_groups(g);
  out->set_priority(c.priority);
  out->set_weight(c.weight);
  out->set_enabled(c.enabled);
  ToProto(c.timeout, out->mutable_timeout());
  if (c.stream_idle_timeout > absl::ZeroDuration()) ToProto(c.stream_idle_timeout, out->mutable_stream_idle_timeout());
  if (c.stream_total_timeout > absl::ZeroDuration()) {
    ToProto(c.stream_total_timeout, out->mutable_stream_total_timeout());
  }
}

Channel FromProto(const v1::Channel& p) {
  Channel c;
  c.name = p.name();
  c.provider = p.provider();
  c.base_url = p.base_url();
  c.api_key = p.api_key();
  for (const auto& m : p.models()) c.models.push_back(ModelMapping{m.model(), m.upstream_model()});
  c.groups.assign(p.groups().begin(), p.groups().end());
  c.priority = p.priority();
  c.weight = p.has_weight() ? p.weight() : 1;
  c.enabled = p.has_enabled() ? p.enabled() : true;
  if (p.has_timeout()) c.timeout = FromProto(p.timeout());  // otherwise the 600 s default
  if (p.has_stream_idle_timeout()) c.stream_idle_timeout = FromProto(p.stream_idle_timeout());
  if (p.has_stream_total_timeout()) c.stream_total_timeout = FromProto(p.stream_total_timeout());
  return c;
}

}  // namespace

grpc::Status RoutingServiceImpl::Route(grpc::ServerContext*, const v1::RouteRequest* req,
                                       v1::RouteResponse* res) {
  auto candidates = router_->Route(req->model(), req->group());
  if (!candidates.ok()) return ToGrpcStatus(candidates.status());
  for (const Candidate& c : *candidates) {
    auto* out = res->add_candidates();
    out->set_channel_id(c.channel_id);
    out->set_channel_name(c.channel_name);
    out->set_provider(c.provider);
    out->set_base_url(c.base_url);
    out->set_api_key(c.api_key);  // internal RPC: the gateway needs the credential
    out->set_upstream_model(c.upstream_model);
    out->set_priority(c.priority);
    ToProto(c.timeout, out->mutable_timeout());
    if (c.stream_idle_timeout > absl::ZeroDuration()) {
      ToProto(c.stream_idle_timeout, out->mutable_stream_idle_timeout());
    }
    if (c.stream_total_timeout > absl::ZeroDuration()) {
      ToProto(c.stream_total_timeout, out->mutable_stream_total_timeout());
    }
  }
  return grpc::Status::OK;
}

grpc::Status RoutingServiceImpl::ReportOutcome(grpc::ServerContext*, const v1::ReportOutcomeRequest* req,
                                               v1::ReportOutcomeResponse*) {
  Outcome outcome;
  switch (req->outcome()) {
    case v1::OUTCOME_SUCCESS:
      outcome = Outcome::kSuccess;
      break;
    case v1::OUTCOME_FAILURE:
      outcome = Outcome::kFailure;
      break;
    case v1::OUTCOME_CLIENT_ERROR:
      outcome = Outcome::kClientError;
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "outcome must be SUCCESS, FAILURE or CLIENT_ERROR");
  }
  return ToGrpcStatus(router_->ReportOutcome(req->channel_id(), outcome, FromProto(req->latency()),
                                             req->http_status(), req->error_message()));
}

grpc::Status RoutingServiceImpl::CreateChannel(grpc::ServerContext*, const v1::CreateChannelRequest* req,
                                               v1::CreateChannelResponse* res) {
  auto c = router_->CreateChannel(FromProto(req->channel()));
  if (!c.ok()) return ToGrpcStatus(c.status());
  ToProto(*c, res->mutable_channel());
  return grpc::Status::OK;
}

grpc::Status RoutingServiceImpl::ListChannels(grpc::ServerContext*, const v1::ListChannelsRequest*,
                                              v1::ListChannelsResponse* res) {
  auto channels = router_->ListChannels();
  if (!channels.ok()) return ToGrpcStatus(channels.status());
  for (const Channel& c : *channels) {
    auto* out = res->add_channels();
    ToProto(c, out);
    ToProto(router_->ChannelHealthInfo(c.id), out->mutable_health());
  }
  return grpc::Status::OK;
}

grpc::Status RoutingServiceImpl::SetChannelEnabled(grpc::ServerContext*,
                                                   const v1::SetChannelEnabledRequest* req,
                                                   v1::SetChannelEnabledResponse* res) {
  auto c = router_->SetChannelEnabled(req->channel_id(), req->enabled());
  if (!c.ok()) return ToGrpcStatus(c.status());
  ToProto(*c, res->mutable_channel());
  return grpc::Status::OK;
}

}  // namespace routeall::routing
