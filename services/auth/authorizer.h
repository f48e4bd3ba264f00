// The auth domain: decides whether a presented key may be used, and validates admin changes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/auth/auth_metrics.h"
#include "services/auth/key_store.h"

namespace routeall::auth {

using Clock = std::function<absl::Time()>;
// Returns a fresh secret key; GenerateApiKey in production, fixed values in tests.
using KeyGenerator = std::function<absl::StatusOr<std::string>()>;

// What the gateway needs to serve a request for a key.
struct Principal {
  int64_t account_id = 0;
  int64_t key_id = 0;
  std::string group;
  int64_t multiplier_ppm = kOneX;
  std::vector<std::string> allowed_models;
  int32_t rpm_limit = 0;
};

struct KeyRequest {
  int64_t account_id = 0;
  std::string name;
  std::vector<std::string> allowed_models;
  int32_t rpm_limit = 0;
  std::optional<absl::Time> expires_at;
};

// The only place the full secret exists after creation: it is shown once, then forgotten.
struct CreatedKey {
  ApiKey key;
  std::string secret;
};

class Authorizer {
 public:
  // generate_key defaults to GenerateApiKey (OpenSSL); metrics may be null.
  Authorizer(std::shared_ptr<KeyStore> store, Clock clock, KeyGenerator generate_key = nullptr,
             AuthMetrics* metrics = nullptr);

  // key_hash is the lowercase hex SHA-256 of the presented key. NOT_FOUND "invalid API key"
  // for an unknown key; PERMISSION_DENIED for a disabled or expired key or a disabled account.
  absl::StatusOr<Principal> Authorize(const std::string& key_hash);

  absl::StatusOr<Group> CreateGroup(const Group& group);
  absl::StatusOr<std::vector<Group>> ListGroups();
  // An empty group means "default".
  absl::StatusOr<Account> CreateAccount(const std::string& name, const std::string& group);
  absl::StatusOr<std::vector<Account>> ListAccounts();
  absl::StatusOr<Account> SetAccountDisabled(int64_t account_id, bool disabled);
  absl::StatusOr<CreatedKey> CreateKey(const KeyRequest& request);
  // account_id 0 lists every account's keys.
  absl::StatusOr<std::vector<ApiKey>> ListKeys(int64_t account_id);
  absl::StatusOr<ApiKey> SetKeyStatus(int64_t key_id, KeyStatus status);

 private:
  absl::StatusOr<Principal> AuthorizeUncounted(const std::string& key_hash);

  std::shared_ptr<KeyStore> store_;
  Clock clock_;
  KeyGenerator generate_key_;
  AuthMetrics* metrics_;
};

}  // namespace routeall::auth
