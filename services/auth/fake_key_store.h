// In-memory KeyStore for unit tests; same integrity rules as PgKeyStore.
#pragma once

#include <map>
#include <mutex>

#include "services/auth/key_store.h"

namespace routeall::auth {

class FakeKeyStore final : public KeyStore {
 public:
  // Like the migration, starts with the "default" group at 1.0x.
  FakeKeyStore();

  // Test hook: the time stamped into created_at.
  void set_now(absl::Time now) { now_ = now; }

  // KeyStore
  absl::StatusOr<Group> CreateGroup(const Group& group) override;
  absl::StatusOr<std::vector<Group>> ListGroups() override;
  absl::StatusOr<Account> CreateAccount(const std::string& name, const std::string& group) override;
  absl::StatusOr<std::vector<Account>> ListAccounts() override;
  absl::StatusOr<Account> SetAccountDisabled(int64_t account_id, bool disabled) override;
  absl::StatusOr<ApiKey> CreateKey(const NewKey& key) override;
  absl::StatusOr<std::vector<ApiKey>> ListKeys(int64_t account_id) override;
  absl::StatusOr<ApiKey> SetKeyStatus(int64_t key_id, KeyStatus status) override;
  absl::StatusOr<KeyLookup> FindKeyByHash(const std::string& key_hash) override;

 private:
  struct StoredKey {
    ApiKey key;
    std::string hash;
  };

  std::mutex mu_;
  absl::Time now_ = absl::UnixEpoch();
  std::map<std::string, Group> groups_;
  std::map<int64_t, Account> accounts_;
  std::map<int64_t, StoredKey> keys_;
  int64_t next_account_id_ = 1;
  int64_t next_key_id_ = 1;
};

}  // namespace routeall::auth
