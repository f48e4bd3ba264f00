// KeyStore on PostgreSQL (tables from migrations/, in one schema).
#pragma once

#include <memory>
#include <string>

#include "common/pg_pool.h"
#include "services/auth/key_store.h"

namespace routeall::auth {

class PgKeyStore final : public KeyStore {
 public:
  // schema is spliced into SQL, so it must come from code (main, tests), never from a request;
  // it is the same name ApplyMigrations already validated.
  explicit PgKeyStore(std::shared_ptr<PgPool> pool, std::string schema = "auth");

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
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::auth
