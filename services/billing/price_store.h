// The versioned price catalog as storage: prices are appended, never updated in place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "routeall/billing/v1/billing_service.pb.h"

namespace routeall::billing {

// The proto message is the domain type too: common/pricing's ComputeChargeMicros takes it.
using ModelPrice = billing::v1::ModelPrice;

class PriceStore {
 public:
  virtual ~PriceStore() = default;

  // Appends price as version latest+1 of its model (price.version is ignored) and
  // returns it with the version assigned.
  virtual absl::StatusOr<ModelPrice> AddVersion(const ModelPrice& price) = 0;
  // The latest version of every model, ordered by model.
  virtual absl::StatusOr<std::vector<ModelPrice>> ListLatest() = 0;
  // NOT_FOUND when the model has no price.
  virtual absl::StatusOr<ModelPrice> GetLatest(const std::string& model) = 0;
  // NOT_FOUND when that exact version does not exist.
  virtual absl::StatusOr<ModelPrice> GetVersion(const std::string& model, int64_t version) = 0;
};

}  // namespace routeall::billing
