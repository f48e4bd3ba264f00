// gRPC front of the adapter: picks the provider for the channel and relays its answer.
#pragma once

#include <map>
#include <memory>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "routeall/adapter/v1/adapter_service.grpc.pb.h"
#include "services/adapter/provider.h"

namespace routeall::adapter {

class AdapterServiceImpl final : public v1::AdapterService::Service {
 public:
  // providers maps each upstream dialect to the provider that speaks it.
  AdapterServiceImpl(std::map<llm::v1::Dialect, Provider*> providers, prometheus::Registry& registry);

  // AdapterService::Service
  grpc::Status Generate(grpc::ServerContext* ctx, const v1::GenerateRequest* req, v1::GenerateResponse* res) override;
  grpc::Status GenerateStream(grpc::ServerContext* ctx, const v1::GenerateRequest* req,
                              grpc::ServerWriter<v1::GenerateStreamResponse>* writer) override;

 private:
  Provider* Find(llm::v1::Dialect d) const;
  void Count(const v1::GenerateRequest& req, const char* kind, const char* result);

  std::map<llm::v1::Dialect, Provider*> providers_;
  prometheus::Family<prometheus::Counter>& calls_;
};

}  // namespace routeall::adapter
