// FakeKeyStore: maps guarded by one mutex.
#include "services/auth/fake_key_store.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace routeall::auth {

FakeKeyStore::FakeKeyStore() { groups_["default"] = Group{"default", kOneX, "Default group"}; }

absl::StatusOr<Group> FakeKeyStore::CreateGroup(const Group& group) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!groups_.emplace(group.name, group).second) {
    return absl::AlreadyExistsError(absl::StrCat("group \"", group.name, "\" already exists"));
  }
  return group;
}

absl::StatusOr<std::vector<Group>> FakeKeyStore::ListGroups() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Group> out;
  for (const auto& [name, g] : groups_) out.push_back(g);
  return out;
}

absl::StatusOr<Account> FakeKeyStore::CreateAccount(const std::string& name, const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  if (groups_.count(group) == 0) return absl::NotFoundError(absl::StrCat("group \"", group, "\" not found"));
  Account a{next_account_id_++, name, group, false, now_};
  accounts_[a.id] = a;
  return a;
}

absl::StatusOr<std::vector<Account>> FakeKeyStore::ListAccounts() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Account> out;
  for (const auto& [id, a] : accounts_) out.push_back(a);
  return out;
}

absl::StatusOr<Account> FakeKeyStore::SetAccountDisabled(int64_t account_id, bool disabled) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = accounts_.find(account_id);
  if (it == accounts_.end()) return absl::NotFoundError(absl::StrCat("account ", account_id, " not found"));
  it->second.disabled = disabled;
  return it->second;
}

absl::StatusOr<ApiKey> FakeKeyStore::CreateKey(const NewKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (accounts_.count(key.account_id) == 0) {
    return absl::NotFoundError(absl::StrCat("account ", key.account_id, " not found"));
  }
  for (const auto& [id, k] : keys_) {
    if (k.hash == key.key_hash) return absl::AlreadyExistsError("key hash already exists");
  }
  ApiKey k{next_key_id_++, key.account_id,     key.name,      key.prefix, KeyStatus::kActive,
           key.expires_at, key.allowed_models, key.rpm_limit, now_};
  keys_[k.id] = StoredKey{k, key.key_hash};
  return k;
}

absl::StatusOr<std::vector<ApiKey>> FakeKeyStore::ListKeys(int64_t account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ApiKey> out;
  for (const auto& [id, k] : keys_) {
    if (account_id == 0 || k.key.account_id == account_id) out.push_back(k.key);
  }
  return out;
}

absl::StatusOr<ApiKey> FakeKeyStore::SetKeyStatus(int64_t key_id, KeyStatus status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("key ", key_id, " not found"));
  it->second.key.status = status;
  return it->second.key;
}

absl::StatusOr<KeyLookup> FakeKeyStore::FindKeyByHash(const std::string& key_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, k] : keys_) {
    if (k.hash != key_hash) continue;
    const Account& a = accounts_.at(k.key.account_id);
    return KeyLookup{k.key, k.hash, a, groups_.at(a.group)};
  }
  return absl::NotFoundError("no key with this hash");
}

}  // namespace routeall::auth
