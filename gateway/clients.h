// The gateway's view of the services behind it: small interfaces (so the request lifecycle
// is tested without a network) and their gRPC implementations with hot-path caches.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "common/lru_cache.h"
#include "routeall/adapter/v1/adapter_service.grpc.pb.h"
#include "routeall/auth/v1/auth_service.grpc.pb.h"
#include "routeall/billing/v1/billing_service.grpc.pb.h"
#include "routeall/routing/v1/routing_service.grpc.pb.h"

namespace routeall::gateway {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class AuthClient {
 public:
  virtual ~AuthClient() = default;
  // NOT_FOUND / PERMISSION_DENIED mean 401 to the client; UNAVAILABLE means the auth service
  // could not be asked.
  virtual absl::StatusOr<auth::v1::Principal> Authorize(const std::string& key_hash) = 0;
};

class RoutingClient {
 public:
  virtual ~RoutingClient() = default;
  virtual absl::StatusOr<std::vector<routing::v1::Candidate>> Route(const std::string& model,
                                                                    const std::string& group) = 0;
  // Canonical model names served to a group by at least one enabled channel, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListModels(const std::string& group) = 0;
  // Fire-and-forget: an outcome report never delays a client.
  virtual void ReportOutcome(const routing::v1::ReportOutcomeRequest& report) = 0;
};

// One upstream stream as the gateway reads it.
class AdapterStream {
 public:
  virtual ~AdapterStream() = default;
  // Next event; false at the end (then Finish tells how it ended).
  virtual bool Read(adapter::v1::GenerateStreamResponse* event) = 0;
  // Stops the upstream call (the client went away).
  virtual void Cancel() = 0;
  virtual absl::Status Finish() = 0;
};

class AdapterClient {
 public:
  virtual ~AdapterClient() = default;
  virtual absl::StatusOr<adapter::v1::GenerateResponse> Generate(const adapter::v1::GenerateRequest& req,
                                                                 std::chrono::milliseconds timeout) = 0;
  virtual std::unique_ptr<AdapterStream> GenerateStream(const adapter::v1::GenerateRequest& req,
                                                        std::chrono::milliseconds timeout) = 0;
};

class BillingClient {
 public:
  virtual ~BillingClient() = default;
  // FAILED_PRECONDITION: insufficient balance (402); NOT_FOUND: the model has no price.
  virtual absl::StatusOr<billing::v1::ReserveResponse> Reserve(const billing::v1::ReserveRequest& req) = 0;
  // Fire-and-forget: drops a hold for a request that produced nothing billable. With an empty
  // hold_id, the hold of request_id (a Reserve whose answer never came back) is dropped, and a
  // Reserve for it arriving later is refused.
  virtual void Release(const std::string& hold_id, int64_t account_id, const std::string& request_id = "") = 0;
  virtual absl::StatusOr<billing::v1::GetUsageResponse> GetUsage(const billing::v1::GetUsageRequest& req) = 0;
};

// A gRPC channel tuned for the hot path: one long-lived HTTP/2 connection with keepalive.
std::shared_ptr<grpc::Channel> MakeServiceChannel(const std::string& address);

struct AuthCacheOptions {
  std::chrono::milliseconds ttl{10000};
  // Unknown or revoked keys are remembered for less time (a new key works within this).
  std::chrono::milliseconds negative_ttl{1000};
  // Separate ceilings: a flood of random keys churns only the negative side, so it can never
  // evict a valid key's entry.
  size_t max_positive = 100000;
  size_t max_negative = 20000;
  // Uncached lookups sent to auth per second (and burst) before unknown keys are answered
  // "auth busy" without a round trip; keys already cached are never affected.
  double miss_rate_per_s = 2000;
  double miss_burst = 4000;
};

// Caches answers per key hash (bounded LRUs, negative answers apart) so a steady stream of
// requests costs no auth round trip and a flood of bad keys costs PostgreSQL a bounded rate;
// the auth service stays the source of truth.
class GrpcAuthClient : public AuthClient {
 public:
  GrpcAuthClient(std::shared_ptr<grpc::Channel> channel, AuthCacheOptions options, SteadyClock clock);

  // AuthClient. RESOURCE_EXHAUSTED: over the miss budget (not a verdict on the key).
  absl::StatusOr<auth::v1::Principal> Authorize(const std::string& key_hash) override;

  // Lookups answered from the cache / sent to auth / refused by the miss budget.
  int64_t hits() const { return hits_.load(); }
  int64_t misses() const { return misses_.load(); }
  int64_t throttled() const { return throttled_.load(); }

 protected:
  // The auth round trip (virtual so the cache is tested without a server).
  virtual absl::StatusOr<auth::v1::Principal> Lookup(const std::string& key_hash);

 private:
  struct Entry {
    absl::StatusOr<auth::v1::Principal> answer;
    std::chrono::steady_clock::time_point expires;
  };
  std::unique_ptr<auth::v1::AuthService::Stub> stub_;
  AuthCacheOptions options_;
  SteadyClock clock_;
  std::mutex mu_;
  LruCache<std::string, Entry> positive_;
  LruCache<std::string, Entry> negative_;
  TokenBucket miss_budget_;
  std::atomic<int64_t> hits_{0}, misses_{0}, throttled_{0};
};

// Asks routing on every request for now (routing orders candidates by weight per call);
// caching the candidate set here with a watch stream is the planned next step.
class GrpcRoutingClient : public RoutingClient {
 public:
  explicit GrpcRoutingClient(std::shared_ptr<grpc::Channel> channel);

  // RoutingClient
  absl::StatusOr<std::vector<routing::v1::Candidate>> Route(const std::string& model,
                                                            const std::string& group) override;
  absl::StatusOr<std::vector<std::string>> ListModels(const std::string& group) override;
  void ReportOutcome(const routing::v1::ReportOutcomeRequest& report) override;

 private:
  std::unique_ptr<routing::v1::RoutingService::Stub> stub_;
};

class GrpcBillingClient : public BillingClient {
 public:
  explicit GrpcBillingClient(std::shared_ptr<grpc::Channel> channel);

  // BillingClient
  absl::StatusOr<billing::v1::ReserveResponse> Reserve(const billing::v1::ReserveRequest& req) override;
  void Release(const std::string& hold_id, int64_t account_id, const std::string& request_id = "") override;
  absl::StatusOr<billing::v1::GetUsageResponse> GetUsage(const billing::v1::GetUsageRequest& req) override;

 private:
  std::unique_ptr<billing::v1::BillingService::Stub> stub_;
};

class GrpcAdapterClient : public AdapterClient {
 public:
  explicit GrpcAdapterClient(std::shared_ptr<grpc::Channel> channel);

  // AdapterClient
  absl::StatusOr<adapter::v1::GenerateResponse> Generate(const adapter::v1::GenerateRequest& req,
                                                         std::chrono::milliseconds timeout) override;
  std::unique_ptr<AdapterStream> GenerateStream(const adapter::v1::GenerateRequest& req,
                                                std::chrono::milliseconds timeout) override;

 private:
  std::unique_ptr<adapter::v1::AdapterService::Stub> stub_;
};

}  // namespace routeall::gateway
