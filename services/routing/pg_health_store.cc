// PgHealthStore: timestamps travel as microseconds since the epoch so no time zone is involved.
#include "services/routing/pg_health_store.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace routeall::routing {
namespace {

std::optional<CircuitState> ParseState(const std::string& s) {
  if (s == "closed") return CircuitState::kClosed;
  if (s == "open") return CircuitState::kOpen;
  if (s == "auto_disabled") return CircuitState::kAutoDisabled;
  return std::nullopt;
}

}  // namespace

PgHealthStore::PgHealthStore(std::shared_ptr<PgPool> pool, std::string schema)
    : pool_(std::move(pool)), schema_(std::move(schema)) {}

absl::Status PgHealthStore::SaveTransitions(const std::vector<HealthRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  const std::string sql = absl::StrCat(
      "INSERT INTO ", schema_,
      ".channel_health AS h (channel_id, state, changed_at, opened_at, cooldown_ms, last_error, replica) "
      "SELECT $1::bigint, $2::text, timestamptz 'epoch' + $3::bigint * interval '1 microsecond', "
      "CASE WHEN $2::text = 'closed' THEN NULL ELSE timestamptz 'epoch' + $4::bigint * interval '1 microsecond' END, "
      "$5::bigint, $6::text, $7::text "
      "WHERE EXISTS (SELECT 1 FROM ", schema_, ".channels WHERE id = $1::bigint) ",
      "ON CONFLICT (channel_id) DO UPDATE SET state = EXCLUDED.state, changed_at = EXCLUDED.changed_at, "
      "opened_at = EXCLUDED.opened_at, cooldown_ms = EXCLUDED.cooldown_ms, last_error = EXCLUDED.last_error, "
      "replica = EXCLUDED.replica WHERE h.changed_at <= EXCLUDED.changed_at");
  return pool_->Transact([&](pqxx::work& tx) {
    for (const HealthRecord& r : records) {
      const bool closed = r.state == CircuitState::kClosed;
      const absl::Time opened = closed || r.opened_at == absl::InfinitePast() ? r.changed_at : r.opened_at;
      tx.exec_params0(sql, r.channel_id,
                      std::string(CircuitStateName(r.state == CircuitState::kHalfOpen ? CircuitState::kOpen
                                                                                       : r.state)),
                      absl::ToUnixMicros(r.changed_at), absl::ToUnixMicros(opened),
                      absl::ToInt64Milliseconds(r.cooldown), r.last_error, r.replica);
    }
  });
}

absl::StatusOr<std::vector<HealthRecord>> PgHealthStore::LoadHealth() {
  std::vector<HealthRecord> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto rows = tx.exec(absl::StrCat(
        "SELECT channel_id, state, (extract(epoch FROM changed_at) * 1e6)::bigint, "
        "coalesce((extract(epoch FROM opened_at) * 1e6)::bigint, 0), opened_at IS NULL, cooldown_ms, "
        "last_error, replica FROM ",
        schema_, ".channel_health ORDER BY channel_id"));
    for (const auto& row : rows) {
      auto state = ParseState(row[1].as<std::string>());
      if (!state) continue;  // a newer replica's state this one does not know
      HealthRecord r;
      r.channel_id = row[0].as<int64_t>();
      r.state = *state;
      r.changed_at = absl::FromUnixMicros(row[2].as<int64_t>());
      r.opened_at = row[4].as<bool>() ? absl::InfinitePast() : absl::FromUnixMicros(row[3].as<int64_t>());
      r.cooldown = absl::Milliseconds(row[5].as<int64_t>());
      r.last_error = row[6].as<std::string>();
      r.replica = row[7].as<std::string>();
      out.push_back(std::move(r));
    }
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace routeall::routing
