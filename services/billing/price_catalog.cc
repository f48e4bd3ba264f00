// PriceCatalog.
#include "services/billing/price_catalog.h"

#include "absl/strings/str_cat.h"

namespace routeall::billing {

PriceCatalog::PriceCatalog(PriceStore* store, Clock clock, absl::Duration latest_ttl)
    : store_(store), clock_(std::move(clock)), latest_ttl_(latest_ttl) {}

absl::StatusOr<ModelPrice> PriceCatalog::Set(const ModelPrice& price) {
  if (price.model().empty()) return absl::InvalidArgumentError("price.model is required");
  for (int64_t v : {price.input_per_mtok(), price.cache_read_per_mtok(), price.cache_write_per_mtok(),
                    price.output_per_mtok(), price.per_call(), price.per_search()}) {
    if (v < 0) return absl::InvalidArgumentError("prices must not be negative");
  }
  if (price.has_reasoning_per_mtok() && price.reasoning_per_mtok() < 0) {
    return absl::InvalidArgumentError("prices must not be negative");
  }
  auto added = store_->AddVersion(price);
  if (!added.ok()) return added.status();
  std::lock_guard<std::mutex> lock(mu_);
  versions_[{added->model(), added->version()}] = *added;
  latest_[added->model()] = LatestEntry{*added, clock_()};
  return added;
}

absl::StatusOr<std::vector<ModelPrice>> PriceCatalog::List() { return store_->ListLatest(); }

absl::StatusOr<ModelPrice> PriceCatalog::Latest(const std::string& model) {
  const absl::Time now = clock_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = latest_.find(model);
    if (it != latest_.end() && now - it->second.fetched < latest_ttl_) return it->second.price;
  }
  auto p = store_->GetLatest(model);
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> lock(mu_);
  latest_[model] = LatestEntry{*p, now};
  versions_[{model, p->version()}] = *p;
  return p;
}

absl::StatusOr<ModelPrice> PriceCatalog::Version(const std::string& model, int64_t version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = versions_.find({model, version});
    if (it != versions_.end()) return it->second;
  }
  auto p = store_->GetVersion(model, version);
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> lock(mu_);
  versions_[{model, version}] = *p;
  return p;
}

}  // namespace routeall::billing
