// In-memory PriceStore for unit tests; same versioning rules as PgPriceStore.
#pragma once

#include <map>
#include <mutex>

#include "services/billing/price_store.h"

namespace routeall::billing {

class FakePriceStore final : public PriceStore {
 public:
  // PriceStore
  absl::StatusOr<ModelPrice> AddVersion(const ModelPrice& price) override;
  absl::StatusOr<std::vector<ModelPrice>> ListLatest() override;
  absl::StatusOr<ModelPrice> GetLatest(const std::string& model) override;
  absl::StatusOr<ModelPrice> GetVersion(const std::string& model, int64_t version) override;

  // Test hook: how many GetVersion calls reached the store (to check caching).
  int version_reads() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<int64_t, ModelPrice>> prices_;
  int version_reads_ = 0;
};

}  // namespace routeall::billing
