// gRPC front of the billing service: translates proto <-> domain and nothing more.
#pragma once

#include <memory>
#include <vector>

#include "common/migrations.h"
#include "routeall/billing/v1/billing_service.grpc.pb.h"
#include "services/billing/balance_book.h"
#include "services/billing/price_catalog.h"

namespace routeall::billing {

class BillingServiceImpl final : public routeall::billing::v1::BillingService::Service {
 public:
  BillingServiceImpl(std::shared_ptr<BalanceBook> book, std::shared_ptr<PriceCatalog> prices)
      : book_(std::move(book)), prices_(std::move(prices)) {}

  // BillingService
  grpc::Status Reserve(grpc::ServerContext* ctx, const v1::ReserveRequest* req,
                       v1::ReserveResponse* resp) override;
  grpc::Status Release(grpc::ServerContext* ctx, const v1::ReleaseRequest* req,
                       v1::ReleaseResponse* resp) override;
  grpc::Status SetPrice(grpc::ServerContext* ctx, const v1::SetPriceRequest* req,
                        v1::SetPriceResponse* resp) override;
  grpc::Status ListPrices(grpc::ServerContext* ctx, const v1::ListPricesRequest* req,
                          v1::ListPricesResponse* resp) override;
  grpc::Status TopUp(grpc::ServerContext* ctx, const v1::TopUpRequest* req, v1::TopUpResponse* resp) override;
  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::GetBalanceRequest* req,
                          v1::GetBalanceResponse* resp) override;
  grpc::Status GetUsage(grpc::ServerContext* ctx, const v1::GetUsageRequest* req,
                        v1::GetUsageResponse* resp) override;

 private:
  std::shared_ptr<BalanceBook> book_;
  std::shared_ptr<PriceCatalog> prices_;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::billing
