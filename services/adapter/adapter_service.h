// gRPC front of the adapter service: translates proto <-> domain and nothing more.
#pragma once

#include <vector>

#include "common/migrations.h"
#include "routeall/adapter/v1/adapter_service.grpc.pb.h"

namespace routeall::adapter {

class AdapterServiceImpl final : public routeall::adapter::v1::AdapterService::Service {
 public:
  AdapterServiceImpl() = default;
};



}  // namespace routeall::adapter
