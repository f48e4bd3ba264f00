// PgKeyStore: plain SQL through PgPool. Times travel as Unix microseconds and arrays as JSON,
// which keeps the SQL independent of libpqxx's array and timestamp support.
#include "services/auth/pg_key_store.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace routeall::auth {
namespace {

// Column lists shared by every query that returns the row type (aliases a = accounts, k = api_keys).
constexpr char kAccountCols[] =
    "a.id, a.name, a.group_name, a.disabled, (extract(epoch FROM a.created_at) * 1000000)::bigint";
constexpr char kKeyCols[] =
    "k.id, k.account_id, k.name, k.prefix, k.status, (extract(epoch FROM k.expires_at) * 1000000)::bigint, "
    "array_to_json(k.allowed_models)::text, k.rpm_limit, (extract(epoch FROM k.created_at) * "
    "1000000)::bigint";
constexpr int kKeyColCount = 9;

absl::Time FromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

std::vector<std::string> FromJsonArray(const pqxx::field& f) {
  return nlohmann::json::parse(f.as<std::string>()).get<std::vector<std::string>>();
}

Group ReadGroup(const pqxx::row& r) {
  return Group{r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<std::string>()};
}

Account ReadAccount(const pqxx::row& r, int at = 0) {
  return Account{r[at].as<int64_t>(), r[at + 1].as<std::string>(), r[at + 2].as<std::string>(),
                 r[at + 3].as<bool>(), FromMicros(r[at + 4])};
}

ApiKey ReadKey(const pqxx::row& r, int at = 0) {
  ApiKey k;
  k.id = r[at].as<int64_t>();
  k.account_id = r[at + 1].as<int64_t>();
  k.name = r[at + 2].as<std::string>();
  k.prefix = r[at + 3].as<std::string>();
  k.status = static_cast<KeyStatus>(r[at + 4].as<int>());
  if (!r[at + 5].is_null()) k.expires_at = FromMicros(r[at + 5]);
  k.allowed_models = FromJsonArray(r[at + 6]);
  k.rpm_limit = r[at + 7].as<int32_t>();
  k.created_at = FromMicros(r[at + 8]);
  return k;
}

}  // namespace

PgKeyStore::PgKeyStore(std::shared_ptr<PgPool> pool, std::string schema)
    : pool_(std::move(pool)), schema_(std::move(schema)) {}

absl::StatusOr<Group> PgKeyStore::CreateGroup(const Group& group) {
  Group out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    out = ReadGroup(tx.exec_params1("INSERT INTO " + schema_ +
                                        ".groups (name, multiplier_ppm, description) VALUES ($1, $2, $3) "
                                        "RETURNING name, multiplier_ppm, description",
                                    group.name, group.multiplier_ppm, group.description));
  });
  if (absl::IsAlreadyExists(st))
    return absl::AlreadyExistsError(absl::StrCat("group \"", group.name, "\" already exists"));
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<Group>> PgKeyStore::ListGroups() {
  std::vector<Group> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    for (const auto& r :
         tx.exec("SELECT name, multiplier_ppm, description FROM " + schema_ + ".groups ORDER BY name")) {
      out.push_back(ReadGroup(r));
    }
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<Account> PgKeyStore::CreateAccount(const std::string& name, const std::string& group) {
  std::optional<Account> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    // Checked here rather than mapped from the foreign-key error, to say which group is missing.
    // FOR SHARE keeps the group from disappearing before the insert commits.
    auto g = tx.exec_params("SELECT 1 FROM " + schema_ + ".groups WHERE name = $1 FOR SHARE", group);
    if (g.empty()) return;
    out = ReadAccount(tx.exec_params1("INSERT INTO " + schema_ +
                                          ".accounts AS a (name, group_name) VALUES ($1, $2) RETURNING " +
                                          kAccountCols,
                                      name, group));
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("group \"", group, "\" not found"));
  return *out;
}

absl::StatusOr<std::vector<Account>> PgKeyStore::ListAccounts() {
  std::vector<Account> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    for (const auto& r :
         tx.exec(absl::StrCat("SELECT ", kAccountCols, " FROM ", schema_, ".accounts a ORDER BY a.id"))) {
      out.push_back(ReadAccount(r));
    }
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<Account> PgKeyStore::SetAccountDisabled(int64_t account_id, bool disabled) {
  std::optional<Account> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto rows = tx.exec_params(
        absl::StrCat("UPDATE ", schema_, ".accounts AS a SET disabled = $2 WHERE id = $1 RETURNING ",
                     kAccountCols),
        account_id, disabled);
    if (!rows.empty()) out = ReadAccount(rows[0]);
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("account ", account_id, " not found"));
  return *out;
}

absl::StatusOr<ApiKey> PgKeyStore::CreateKey(const NewKey& key) {
  std::optional<ApiKey> out;
  std::string expires = key.expires_at ? std::to_string(absl::ToUnixMicros(*key.expires_at)) : "";
  std::string models = nlohmann::json(key.allowed_models).dump();
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto a = tx.exec_params("SELECT 1 FROM " + schema_ + ".accounts WHERE id = $1 FOR SHARE", key.account_id);
    if (a.empty()) return;
    out = ReadKey(tx.exec_params1(
        absl::StrCat(
            "INSERT INTO ", schema_,
            ".api_keys AS k (account_id, name, key_hash, prefix, expires_at, allowed_models, rpm_limit) "
            "VALUES ($1, $2, $3, $4, "
            "'epoch'::timestamptz + NULLIF($5, '')::bigint * interval '1 microsecond', "
            "ARRAY(SELECT json_array_elements_text($6::json)), $7) RETURNING ",
            kKeyCols),
        key.account_id, key.name, key.key_hash, key.prefix, expires, models, key.rpm_limit));
  });
  if (absl::IsAlreadyExists(st)) return absl::AlreadyExistsError("a key with this hash already exists");
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("account ", key.account_id, " not found"));
  return *out;
}

absl::StatusOr<std::vector<ApiKey>> PgKeyStore::ListKeys(int64_t account_id) {
  std::vector<ApiKey> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto rows =
        tx.exec_params(absl::StrCat("SELECT ", kKeyCols, " FROM ", schema_,
                                    ".api_keys k WHERE $1::bigint = 0 OR k.account_id = $1 ORDER BY k.id"),
                       account_id);
    for (const auto& r : rows) out.push_back(ReadKey(r));
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<ApiKey> PgKeyStore::SetKeyStatus(int64_t key_id, KeyStatus status) {
  std::optional<ApiKey> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto rows = tx.exec_params(
        absl::StrCat("UPDATE ", schema_, ".api_keys AS k SET status = $2 WHERE id = $1 RETURNING ", kKeyCols),
        key_id, static_cast<int>(status));
    if (!rows.empty()) out = ReadKey(rows[0]);
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("key ", key_id, " not found"));
  return *out;
}

absl::StatusOr<KeyLookup> PgKeyStore::FindKeyByHash(const std::string& key_hash) {
  std::optional<KeyLookup> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto rows =
        tx.exec_params(absl::StrCat("SELECT ", kKeyCols, ", ", kAccountCols,
                                    ", k.key_hash, g.multiplier_ppm, g.description FROM ", schema_,
                                    ".api_keys k JOIN ", schema_, ".accounts a ON a.id = k.account_id JOIN ",
                                    schema_, ".groups g ON g.name = a.group_name WHERE k.key_hash = $1"),
                       key_hash);
    if (rows.empty()) return;
    const pqxx::row& r = rows[0];
    KeyLookup l;
    l.key = ReadKey(r);
    l.account = ReadAccount(r, kKeyColCount);
    l.key_hash = r[kKeyColCount + 5].as<std::string>();
    l.group =
        Group{l.account.group, r[kKeyColCount + 6].as<int64_t>(), r[kKeyColCount + 7].as<std::string>()};
    out = std::move(l);
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError("no key with this hash");
  return *out;
}

}  // namespace routeall::auth
