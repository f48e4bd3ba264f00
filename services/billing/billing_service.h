// gRPC front of the billing service: translates proto <-> domain and nothing more.
#pragma once

#include <vector>

#include "common/migrations.h"
#include "routeall/billing/v1/billing_service.grpc.pb.h"

namespace routeall::billing {

class BillingServiceImpl final : public routeall::billing::v1::BillingService::Service {
 public:
  BillingServiceImpl() = default;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::billing
