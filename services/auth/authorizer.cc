// Authorizer: key checks in a fixed order, admin input validation.
#include "services/auth/authorizer.h"

#include <openssl/crypto.h>

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/auth/key_generator.h"

namespace routeall::auth {
namespace {

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxGroupNameLength = 64;

// Group names end up in routing config and metrics labels, so they stay plain identifiers.
bool IsGroupName(const std::string& s) {
  if (s.empty() || s.size() > kMaxGroupNameLength) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

absl::Status CheckName(const char* what, const std::string& name, bool required) {
  if (required && name.empty())
    return absl::InvalidArgumentError(absl::StrCat(what, " name must not be empty"));
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " name is longer than ", kMaxNameLength, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckId(const char* what, int64_t id) {
  if (id <= 0) return absl::InvalidArgumentError(absl::StrCat(what, " must be positive"));
  return absl::OkStatus();
}

}  // namespace

Authorizer::Authorizer(std::shared_ptr<KeyStore> store, Clock clock, KeyGenerator generate_key,
                       AuthMetrics* metrics)
    : store_(std::move(store)),
      clock_(std::move(clock)),
      generate_key_(std::move(generate_key)),
      metrics_(metrics) {
  if (!generate_key_) generate_key_ = [] { return GenerateApiKey(); };
}

absl::StatusOr<Principal> Authorizer::Authorize(const std::string& key_hash) {
  absl::StatusOr<Principal> result = AuthorizeUncounted(key_hash);
  if (metrics_ != nullptr) metrics_->CountAuthorize(result.status());
  return result;
}

absl::StatusOr<Principal> Authorizer::AuthorizeUncounted(const std::string& key_hash) {
  if (!IsKeyHash(key_hash)) {
    return absl::InvalidArgumentError("key_hash must be the lowercase hex SHA-256 of the key");
  }
  absl::StatusOr<KeyLookup> found = store_->FindKeyByHash(key_hash);
  if (absl::IsNotFound(found.status())) return absl::NotFoundError("invalid API key");
  if (!found.ok()) return found.status();
  // The index lookup already matched, but a constant-time compare guards against a store
  // that matches loosely (collation, prefix search) ever being swapped in.
  if (found->key_hash.size() != key_hash.size() ||
      CRYPTO_memcmp(found->key_hash.data(), key_hash.data(), key_hash.size()) != 0) {
    return absl::NotFoundError("invalid API key");
  }
  const ApiKey& key = found->key;
  if (key.status != KeyStatus::kActive) return absl::PermissionDeniedError("API key is disabled");
  if (key.expires_at.has_value() && *key.expires_at <= clock_()) {
    return absl::PermissionDeniedError("API key has expired");
  }
  if (found->account.disabled) return absl::PermissionDeniedError("account is disabled");
  return Principal{found->account.id,  key.id,       found->group.name, found->group.multiplier_ppm,
                   key.allowed_models, key.rpm_limit};
}

absl::StatusOr<Group> Authorizer::CreateGroup(const Group& group) {
  if (!IsGroupName(group.name)) {
    return absl::InvalidArgumentError(absl::StrCat("group name must be 1-", kMaxGroupNameLength,
                                                   " characters of letters, digits, '_', '-' or '.'"));
  }
  if (group.multiplier_ppm < 0)
    return absl::InvalidArgumentError("group multiplier_ppm must not be negative");
  if (group.description.size() > 1000) return absl::InvalidArgumentError("group description is too long");
  return store_->CreateGroup(group);
}

absl::StatusOr<std::vector<Group>> Authorizer::ListGroups() { return store_->ListGroups(); }

absl::StatusOr<Account> Authorizer::CreateAccount(const std::string& name, const std::string& group) {
  RETURN_IF_ERROR(CheckName("account", name, /*required=*/true));
  return store_->CreateAccount(name, group.empty() ? "default" : group);
}

absl::StatusOr<std::vector<Account>> Authorizer::ListAccounts() { return store_->ListAccounts(); }

absl::StatusOr<Account> Authorizer::SetAccountDisabled(int64_t account_id, bool disabled) {
  RETURN_IF_ERROR(CheckId("account_id", account_id));
  return store_->SetAccountDisabled(account_id, disabled);
}

absl::StatusOr<CreatedKey> Authorizer::CreateKey(const KeyRequest& request) {
  RETURN_IF_ERROR(CheckId("account_id", request.account_id));
  RETURN_IF_ERROR(CheckName("key", request.name, /*required=*/false));
  if (request.rpm_limit < 0) return absl::InvalidArgumentError("rpm_limit must not be negative");
  if (request.expires_at.has_value() && *request.expires_at <= clock_()) {
    return absl::InvalidArgumentError("expires_at is in the past");
  }
  NewKey key;
  key.account_id = request.account_id;
  key.name = request.name;
  key.rpm_limit = request.rpm_limit;
  key.expires_at = request.expires_at;
  std::set<std::string> seen;
  for (const std::string& m : request.allowed_models) {
    if (m.empty()) return absl::InvalidArgumentError("allowed_models must not contain an empty name");
    if (seen.insert(m).second) key.allowed_models.push_back(m);
  }
  ASSIGN_OR_RETURN(std::string secret, generate_key_());
  key.key_hash = HashApiKey(secret);
  key.prefix = KeyPrefix(secret);
  ASSIGN_OR_RETURN(ApiKey stored, store_->CreateKey(key));
  return CreatedKey{std::move(stored), std::move(secret)};
}

absl::StatusOr<std::vector<ApiKey>> Authorizer::ListKeys(int64_t account_id) {
  if (account_id < 0) return absl::InvalidArgumentError("account_id must not be negative");
  return store_->ListKeys(account_id);
}

absl::StatusOr<ApiKey> Authorizer::SetKeyStatus(int64_t key_id, KeyStatus status) {
  RETURN_IF_ERROR(CheckId("key_id", key_id));
  if (status != KeyStatus::kActive && status != KeyStatus::kDisabled) {
    return absl::InvalidArgumentError("status must be ACTIVE or DISABLED");
  }
  return store_->SetKeyStatus(key_id, status);
}

}  // namespace routeall::auth
