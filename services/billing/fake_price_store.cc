// FakePriceStore.
#include "services/billing/fake_price_store.h"

#include "absl/strings/str_cat.h"

namespace routeall::billing {

absl::StatusOr<ModelPrice> FakePriceStore::AddVersion(const ModelPrice& price) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& versions = prices_[price.model()];
  ModelPrice p = price;
  p.set_version(versions.empty() ? 1 : versions.rbegin()->first + 1);
  versions[p.version()] = p;
  return p;
}

absl::StatusOr<std::vector<ModelPrice>> FakePriceStore::ListLatest() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelPrice> out;
  for (const auto& [model, versions] : prices_) out.push_back(versions.rbegin()->second);
  return out;
}

absl::StatusOr<ModelPrice> FakePriceStore::GetLatest(const std::string& model) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = prices_.find(model);
  if (it == prices_.end()) return absl::NotFoundError(absl::StrCat("no price for model ", model));
  return it->second.rbegin()->second;
}

absl::StatusOr<ModelPrice> FakePriceStore::GetVersion(const std::string& model, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  ++version_reads_;
  auto it = prices_.find(model);
  if (it != prices_.end()) {
    auto v = it->second.find(version);
    if (v != it->second.end()) return v->second;
  }
  return absl::NotFoundError(absl::StrCat("no price version ", version, " for model ", model));
}

int FakePriceStore::version_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_reads_;
}

}  // namespace routeall::billing
