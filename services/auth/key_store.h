// The auth domain's records and the KeyStore interface that persists them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace routeall::auth {

// Values match routeall.auth.v1.KeyStatus and the api_keys.status column.
enum class KeyStatus { kActive = 1, kDisabled = 2 };

inline constexpr int64_t kOneX = 1'000'000;  // multiplier_ppm of 1.0x

struct Group {
  std::string name;
  int64_t multiplier_ppm = kOneX;
  std::string description;
};

struct Account {
  int64_t id = 0;
  std::string name;
  std::string group;
  bool disabled = false;
  absl::Time created_at;
};

// A stored key as shown to admins: never the secret, never its hash.
struct ApiKey {
  int64_t id = 0;
  int64_t account_id = 0;
  std::string name;
  std::string prefix;
  KeyStatus status = KeyStatus::kActive;
  std::optional<absl::Time> expires_at;
  std::vector<std::string> allowed_models;  // empty = every model
  int32_t rpm_limit = 0;                    // 0 = unlimited
  absl::Time created_at;
};

// What CreateKey persists; the secret itself is gone by now.
struct NewKey {
  int64_t account_id = 0;
  std::string name;
  std::string key_hash;
  std::string prefix;
  std::optional<absl::Time> expires_at;
  std::vector<std::string> allowed_models;
  int32_t rpm_limit = 0;
};

// Everything Authorize needs about one key, read in one query.
struct KeyLookup {
  ApiKey key;
  std::string key_hash;
  Account account;
  Group group;
};

// Persistence of groups, accounts and keys. Implementations validate nothing beyond
// integrity (unknown references -> NOT_FOUND, duplicates -> ALREADY_EXISTS); Authorizer
// validates inputs before calling.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  virtual absl::StatusOr<Group> CreateGroup(const Group& group) = 0;
  virtual absl::StatusOr<std::vector<Group>> ListGroups() = 0;

  // NOT_FOUND when the group does not exist.
  virtual absl::StatusOr<Account> CreateAccount(const std::string& name, const std::string& group) = 0;
  virtual absl::StatusOr<std::vector<Account>> ListAccounts() = 0;
  virtual absl::StatusOr<Account> SetAccountDisabled(int64_t account_id, bool disabled) = 0;

  // NOT_FOUND when the account does not exist.
  virtual absl::StatusOr<ApiKey> CreateKey(const NewKey& key) = 0;
  // account_id 0 lists every account's keys.
  virtual absl::StatusOr<std::vector<ApiKey>> ListKeys(int64_t account_id) = 0;
  virtual absl::StatusOr<ApiKey> SetKeyStatus(int64_t key_id, KeyStatus status) = 0;

  // The key with this hash joined with its account and group; NOT_FOUND when none.
  virtual absl::StatusOr<KeyLookup> FindKeyByHash(const std::string& key_hash) = 0;
};

}  // namespace routeall::auth
