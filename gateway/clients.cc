// gRPC implementations of the gateway's service clients.
#include "gateway/clients.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/status.h"

namespace routeall::gateway {

std::shared_ptr<grpc::Channel> MakeServiceChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

namespace {
void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}
}  // namespace

GrpcAuthClient::GrpcAuthClient(std::shared_ptr<grpc::Channel> channel, AuthCacheOptions options, SteadyClock clock)
    : stub_(channel ? auth::v1::AuthService::NewStub(channel) : nullptr),
      options_(options),
      clock_(std::move(clock)),
      positive_(options.max_positive),
      negative_(options.max_negative),
      miss_budget_(options.miss_rate_per_s, options.miss_burst) {}

absl::StatusOr<auth::v1::Principal> GrpcAuthClient::Lookup(const std::string& key_hash) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::seconds(5));
  auth::v1::AuthorizeRequest req;
  req.set_key_hash(key_hash);
  auth::v1::AuthorizeResponse res;
  grpc::Status st = stub_->Authorize(&ctx, req, &res);
  if (!st.ok()) return FromGrpcStatus(st);
  return res.principal();
}

absl::StatusOr<auth::v1::Principal> GrpcAuthClient::Authorize(const std::string& key_hash) {
  auto now = clock_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* cache : {&positive_, &negative_}) {
      auto hit = cache->Get(key_hash);
      if (hit && hit->expires > now) {
        hits_.fetch_add(1);
        return hit->answer;
      }
    }
    double secs = std::chrono::duration<double>(now.time_since_epoch()).count();
    if (!miss_budget_.TryTake(secs)) {
      throttled_.fetch_add(1);
      return absl::ResourceExhaustedError("too many lookups of uncached API keys");
    }
  }
  misses_.fetch_add(1);
  absl::StatusOr<auth::v1::Principal> answer = Lookup(key_hash);
  const auto code = answer.status().code();
  std::lock_guard<std::mutex> lock(mu_);
  if (answer.ok()) {
    negative_.Erase(key_hash);
    positive_.Put(key_hash, Entry{answer, now + options_.ttl});
  } else if (code == absl::StatusCode::kNotFound || code == absl::StatusCode::kPermissionDenied) {
    // A key revoked while cached stops working at once here, not at its positive expiry.
    positive_.Erase(key_hash);
    negative_.Put(key_hash, Entry{answer, now + options_.negative_ttl});
  }
  return answer;
}

GrpcRoutingClient::GrpcRoutingClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(routing::v1::RoutingService::NewStub(channel)) {}

absl::StatusOr<std::vector<routing::v1::Candidate>> GrpcRoutingClient::Route(const std::string& model,
                                                                            const std::string& group) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::seconds(5));
  routing::v1::RouteRequest req;
  req.set_model(model);
  req.set_group(group);
  routing::v1::RouteResponse res;
  grpc::Status st = stub_->Route(&ctx, req, &res);
  // NOT_FOUND: no channel serves this model for this group (a 503 for the client, not an outage).
  if (st.error_code() == grpc::StatusCode::NOT_FOUND) return std::vector<routing::v1::Candidate>{};
  if (!st.ok()) return FromGrpcStatus(st);
  return std::vector<routing::v1::Candidate>(res.candidates().begin(), res.candidates().end());
}

absl::StatusOr<std::vector<std::string>> GrpcRoutingClient::ListModels(const std::string& group) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::seconds(5));
  routing::v1::ListChannelsRequest req;
  routing::v1::ListChannelsResponse res;
  grpc::Status st = stub_->ListChannels(&ctx, req, &res);
  if (!st.ok()) return FromGrpcStatus(st);
  std::set<std::string> models;
  for (const auto& ch : res.channels()) {
    if (!ch.enabled() || ch.health().state() == routing::v1::CIRCUIT_STATE_AUTO_DISABLED) continue;
    bool allowed = ch.groups().empty() || std::find(ch.groups().begin(), ch.groups().end(), group) != ch.groups().end();
    if (!allowed) continue;
    for (const auto& m : ch.models()) models.insert(m.model());
  }
  return std::vector<std::string>(models.begin(), models.end());
}

void GrpcRoutingClient::ReportOutcome(const routing::v1::ReportOutcomeRequest& report) {
  // Async unary call; the context and buffers live until the callback runs.
  struct Call {
    grpc::ClientContext ctx;
    routing::v1::ReportOutcomeRequest req;
    routing::v1::ReportOutcomeResponse res;
  };
  auto* call = new Call;
  call->req = report;
  SetDeadline(&call->ctx, std::chrono::seconds(5));
  stub_->async()->ReportOutcome(&call->ctx, &call->req, &call->res, [call](grpc::Status st) {
    if (!st.ok()) LogWarn("outcome report failed", {{"error", st.error_message()}});
    delete call;
  });
}

GrpcBillingClient::GrpcBillingClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(billing::v1::BillingService::NewStub(channel)) {}

absl::StatusOr<billing::v1::ReserveResponse> GrpcBillingClient::Reserve(const billing::v1::ReserveRequest& req) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::seconds(5));
  billing::v1::ReserveResponse res;
  grpc::Status st = stub_->Reserve(&ctx, req, &res);
  if (!st.ok()) return FromGrpcStatus(st);
  return res;
}

void GrpcBillingClient::Release(const std::string& hold_id, int64_t account_id, const std::string& request_id) {
  struct Call {
    grpc::ClientContext ctx;
    billing::v1::ReleaseRequest req;
    billing::v1::ReleaseResponse res;
  };
  auto* call = new Call;
  call->req.set_hold_id(hold_id);
  call->req.set_account_id(account_id);
  call->req.set_request_id(request_id);
  SetDeadline(&call->ctx, std::chrono::seconds(5));
  stub_->async()->Release(&call->ctx, &call->req, &call->res, [call](grpc::Status st) {
    // A lost release only keeps a hold until it expires; it never charges anyone.
    if (!st.ok()) LogWarn("hold release failed", {{"error", st.error_message()}});
    delete call;
  });
}

absl::StatusOr<billing::v1::GetUsageResponse> GrpcBillingClient::GetUsage(const billing::v1::GetUsageRequest& req) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::chrono::seconds(10));
  billing::v1::GetUsageResponse res;
  grpc::Status st = stub_->GetUsage(&ctx, req, &res);
  if (!st.ok()) return FromGrpcStatus(st);
  return res;
}

GrpcAdapterClient::GrpcAdapterClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(adapter::v1::AdapterService::NewStub(channel)) {}

absl::StatusOr<adapter::v1::GenerateResponse> GrpcAdapterClient::Generate(const adapter::v1::GenerateRequest& req,
                                                                          std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  adapter::v1::GenerateResponse res;
  grpc::Status st = stub_->Generate(&ctx, req, &res);
  if (!st.ok()) return FromGrpcStatus(st);
  return res;
}

namespace {
class GrpcAdapterStream : public AdapterStream {
 public:
  GrpcAdapterStream(adapter::v1::AdapterService::Stub* stub, const adapter::v1::GenerateRequest& req,
                    std::chrono::milliseconds timeout) {
    SetDeadline(&ctx_, timeout);
    reader_ = stub->GenerateStream(&ctx_, req);
  }
  ~GrpcAdapterStream() override {
    if (!finished_) {
      ctx_.TryCancel();
      adapter::v1::GenerateStreamResponse ignored;
      while (reader_->Read(&ignored)) {
      }
      (void)reader_->Finish();
    }
  }
  // AdapterStream
  bool Read(adapter::v1::GenerateStreamResponse* event) override { return reader_->Read(event); }
  void Cancel() override { ctx_.TryCancel(); }
  absl::Status Finish() override {
    finished_ = true;
    return FromGrpcStatus(reader_->Finish());
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<adapter::v1::GenerateStreamResponse>> reader_;
  bool finished_ = false;
};
}  // namespace

std::unique_ptr<AdapterStream> GrpcAdapterClient::GenerateStream(const adapter::v1::GenerateRequest& req,
                                                                 std::chrono::milliseconds timeout) {
  return std::make_unique<GrpcAdapterStream>(stub_.get(), req, timeout);
}

}  // namespace routeall::gateway
