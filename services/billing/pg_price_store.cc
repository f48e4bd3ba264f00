// PgPriceStore: append-only price versions.
#include "services/billing/pg_price_store.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace routeall::billing {
namespace {

constexpr const char* kCols =
    "model, version, input_per_mtok, cache_read_per_mtok, cache_write_per_mtok, output_per_mtok, "
    "reasoning_per_mtok, per_call, per_search";

ModelPrice ReadPrice(const pqxx::row& r) {
  ModelPrice p;
  p.set_model(r[0].as<std::string>());
  p.set_version(r[1].as<int64_t>());
  p.set_input_per_mtok(r[2].as<int64_t>());
  p.set_cache_read_per_mtok(r[3].as<int64_t>());
  p.set_cache_write_per_mtok(r[4].as<int64_t>());
  p.set_output_per_mtok(r[5].as<int64_t>());
  if (!r[6].is_null()) p.set_reasoning_per_mtok(r[6].as<int64_t>());
  p.set_per_call(r[7].as<int64_t>());
  p.set_per_search(r[8].as<int64_t>());
  return p;
}

}  // namespace

PgPriceStore::PgPriceStore(std::shared_ptr<PgPool> pool, std::string schema)
    : pool_(std::move(pool)), schema_(std::move(schema)) {}

absl::StatusOr<ModelPrice> PgPriceStore::AddVersion(const ModelPrice& price) {
  ModelPrice out;
  // Writers of the same model queue on an advisory lock, so each reads the latest version
  // only after the previous writer committed; the primary key stays the last line of defence
  // (a loser would retry with the new latest).
  absl::Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    st = pool_->Transact([&](pqxx::work& tx) {
      tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "routeall.prices." + schema_ + "." + price.model());
      std::string reasoning =
          price.has_reasoning_per_mtok() ? std::to_string(price.reasoning_per_mtok()) : "";
      out = ReadPrice(tx.exec_params1(absl::StrCat("INSERT INTO ", schema_, ".prices (", kCols,
                                                   ") SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, "
                                                   "$5, NULLIF($6, '')::bigint, $7, $8 FROM ",
                                                   schema_, ".prices WHERE model = $1 RETURNING ", kCols),
                                      price.model(), price.input_per_mtok(), price.cache_read_per_mtok(),
                                      price.cache_write_per_mtok(), price.output_per_mtok(), reasoning,
                                      price.per_call(), price.per_search()));
    });
    if (st.code() != absl::StatusCode::kAlreadyExists) break;
  }
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<ModelPrice>> PgPriceStore::ListLatest() {
  std::vector<ModelPrice> out;
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    for (const auto& r : tx.exec(absl::StrCat("SELECT DISTINCT ON (model) ", kCols, " FROM ", schema_,
                                              ".prices ORDER BY model, version DESC"))) {
      out.push_back(ReadPrice(r));
    }
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<ModelPrice> PgPriceStore::GetLatest(const std::string& model) {
  std::optional<ModelPrice> out;
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_params(absl::StrCat("SELECT ", kCols, " FROM ", schema_,
                                            ".prices WHERE model = $1 ORDER BY version DESC LIMIT 1"),
                               model);
    if (!rows.empty()) out = ReadPrice(rows[0]);
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("no price for model ", model));
  return *out;
}

absl::StatusOr<ModelPrice> PgPriceStore::GetVersion(const std::string& model, int64_t version) {
  std::optional<ModelPrice> out;
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_params(
        absl::StrCat("SELECT ", kCols, " FROM ", schema_, ".prices WHERE model = $1 AND version = $2"), model,
        version);
    if (!rows.empty()) out = ReadPrice(rows[0]);
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("no price version ", version, " for model ", model));
  return *out;
}

}  // namespace routeall::billing
