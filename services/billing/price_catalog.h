// Prices as the domain reads them: exact versions cached forever (they never change), the
// latest version per model cached briefly (this process sees its own SetPrice at once).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "absl/time/time.h"
#include "services/billing/price_store.h"

namespace routeall::billing {

using Clock = std::function<absl::Time()>;

class PriceCatalog {
 public:
  PriceCatalog(PriceStore* store, Clock clock, absl::Duration latest_ttl = absl::Seconds(5));

  // Appends a new version (validated: model set, no negative rate).
  absl::StatusOr<ModelPrice> Set(const ModelPrice& price);
  absl::StatusOr<std::vector<ModelPrice>> List();
  // NOT_FOUND when the model has no price.
  absl::StatusOr<ModelPrice> Latest(const std::string& model);
  // NOT_FOUND when that version does not exist.
  absl::StatusOr<ModelPrice> Version(const std::string& model, int64_t version);

 private:
  struct LatestEntry {
    ModelPrice price;
    absl::Time fetched;
  };

  PriceStore* store_;
  Clock clock_;
  absl::Duration latest_ttl_;
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, ModelPrice> versions_;
  std::map<std::string, LatestEntry> latest_;
};

}  // namespace routeall::billing
