// BillingServiceImpl.
#include "services/billing/billing_service.h"

#include "common/log.h"
#include "common/pricing.h"
#include "common/status.h"

namespace routeall::billing {
namespace {

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

}  // namespace

grpc::Status BillingServiceImpl::Reserve(grpc::ServerContext*, const v1::ReserveRequest* req,
                                         v1::ReserveResponse* resp) {
  ScopedRequestId rid(req->request_id());
  auto r = book_->Reserve({req->request_id(), req->account_id(), req->model(), req->estimated_prompt_tokens(),
                           req->max_output_tokens(), req->calls(), req->multiplier_ppm()});
  if (!r.ok()) return ToGrpcStatus(r.status());
  resp->set_hold_id(r->hold_id);
  *resp->mutable_price() = r->price;
  resp->set_hold_micros(r->hold_micros);
  resp->set_available_micros(r->available_micros);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::Release(grpc::ServerContext*, const v1::ReleaseRequest* req,
                                         v1::ReleaseResponse*) {
  return ToGrpcStatus(book_->Release(req->hold_id(), req->account_id(), req->request_id()));
}

grpc::Status BillingServiceImpl::SetPrice(grpc::ServerContext*, const v1::SetPriceRequest* req,
                                          v1::SetPriceResponse* resp) {
  auto p = prices_->Set(req->price());
  if (!p.ok()) return ToGrpcStatus(p.status());
  *resp->mutable_price() = *p;
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::ListPrices(grpc::ServerContext*, const v1::ListPricesRequest*,
                                            v1::ListPricesResponse* resp) {
  auto list = prices_->List();
  if (!list.ok()) return ToGrpcStatus(list.status());
  for (const ModelPrice& p : *list) *resp->add_prices() = p;
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::TopUp(grpc::ServerContext*, const v1::TopUpRequest* req,
                                       v1::TopUpResponse* resp) {
  auto b = book_->TopUp(req->account_id(), req->amount_micros(), req->note(), req->reference());
  if (!b.ok()) return ToGrpcStatus(b.status());
  resp->set_balance_micros(*b);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::GetBalance(grpc::ServerContext*, const v1::GetBalanceRequest* req,
                                            v1::GetBalanceResponse* resp) {
  auto b = book_->GetBalance(req->account_id());
  if (!b.ok()) return ToGrpcStatus(b.status());
  resp->set_balance_micros(b->balance_micros);
  resp->set_held_micros(b->held_micros);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::GetUsage(grpc::ServerContext*, const v1::GetUsageRequest* req,
                                          v1::GetUsageResponse* resp) {
  std::optional<absl::Time> from, to;
  if (req->has_from()) from = FromProto(req->from());
  if (req->has_to()) to = FromProto(req->to());
  auto report = book_->GetUsage(req->account_id(), from, to, req->limit());
  if (!report.ok()) return ToGrpcStatus(report.status());
  for (const UsageRecord& r : report->records) {
    v1::UsageRecord* out = resp->add_records();
    out->set_request_id(r.request_id);
    out->set_model(r.model);
    out->set_key_id(r.key_id);
    out->set_prompt_tokens(r.prompt_tokens);
    out->set_cached_tokens(r.cached_tokens);
    out->set_cache_write_tokens(r.cache_write_tokens);
    out->set_completion_tokens(r.completion_tokens);
    out->set_reasoning_tokens(r.reasoning_tokens);
    out->set_calls(r.calls);
    out->set_charge_micros(r.charge_micros);
    out->set_charge(FormatCredits(r.charge_micros));
    ToProto(r.occurred_at, out->mutable_occurred_at());
  }
  for (const UsageBucket& b : report->buckets) {
    v1::UsageBucket* out = resp->add_buckets();
    out->set_day(b.day);
    out->set_model(b.model);
    out->set_requests(b.requests);
    out->set_prompt_tokens(b.prompt_tokens);
    out->set_cached_tokens(b.cached_tokens);
    out->set_cache_write_tokens(b.cache_write_tokens);
    out->set_completion_tokens(b.completion_tokens);
    out->set_reasoning_tokens(b.reasoning_tokens);
    out->set_calls(b.calls);
    out->set_charge_micros(b.charge_micros);
    out->set_charge(FormatCredits(b.charge_micros));
  }
  return grpc::Status::OK;
}

}  // namespace routeall::billing
