// PriceStore on PostgreSQL (table prices of the billing schema).
#pragma once

#include <memory>
#include <string>

#include "common/pg_pool.h"
#include "services/billing/price_store.h"

namespace routeall::billing {

class PgPriceStore final : public PriceStore {
 public:
  // schema: where the billing migrations were applied ("billing"; tests use a private one).
  PgPriceStore(std::shared_ptr<PgPool> pool, std::string schema);

  // PriceStore
  absl::StatusOr<ModelPrice> AddVersion(const ModelPrice& price) override;
  absl::StatusOr<std::vector<ModelPrice>> ListLatest() override;
  absl::StatusOr<ModelPrice> GetLatest(const std::string& model) override;
  absl::StatusOr<ModelPrice> GetVersion(const std::string& model, int64_t version) override;

 private:
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::billing
