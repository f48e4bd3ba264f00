// PgChannelStore: plain SQL through PgPool; arrays and model lists travel as JSON so the SQL
// does not depend on libpqxx's array support.
#include "services/routing/pg_channel_store.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace routeall::routing {
namespace {

Channel ReadChannel(const pqxx::row& r) {
  Channel c;
  c.id = r[0].as<int64_t>();
  c.name = r[1].as<std::string>();
  c.provider = static_cast<routeall::llm::v1::Dialect>(r[2].as<int>());
  c.base_url = r[3].as<std::string>();
  c.api_key = r[4].as<std::string>();
  c.api_key_set = r[5].as<bool>();
  c.groups = nlohmann::json::parse(r[6].as<std::string>()).get<std::vector<std::string>>();
  c.priority = r[7].as<int32_t>();
  c.weight = r[8].as<int32_t>();
  c.enabled = r[9].as<bool>();
  c.timeout = absl::Milliseconds(r[10].as<int64_t>());
  c.stream_idle_timeout = absl::Milliseconds(r[12].as<int64_t>());
  c.stream_total_timeout = absl::Milliseconds(r[13].as<int64_t>());
  for (const auto& m : nlohmann::json::parse(r[11].as<std::string>())) {
    c.models.push_back(ModelMapping{m.at(0).get<std::string>(), m.at(1).get<std::string>()});
  }
  return c;
}

}  // namespace

PgChannelStore::PgChannelStore(std::shared_ptr<PgPool> pool, std::string schema)
    : pool_(std::move(pool)), schema_(std::move(schema)) {}

std::string PgChannelStore::SelectSql(bool with_secret, const std::string& where) const {
  return absl::StrCat(
      "SELECT c.id, c.name, c.provider, c.base_url, ", with_secret ? "c.api_key" : "''",
      ", c.api_key <> '', array_to_json(c.groups)::text, c.priority, c.weight, c.enabled, c.timeout_ms, "
      "(SELECT coalesce(json_agg(json_build_array(m.model, m.upstream_model) ORDER BY m.model), '[]'::json) "
      "FROM ",
      schema_, ".channel_models m WHERE m.channel_id = c.id)::text, c.stream_idle_timeout_ms, c.stream_total_timeout_ms "
      "FROM ", schema_, ".channels c ", where,
      " ORDER BY c.id");
}

absl::StatusOr<Channel> PgChannelStore::CreateChannel(const Channel& channel) {
  nlohmann::json models = nlohmann::json::array();
  for (const ModelMapping& m : channel.models) models.push_back({m.model, m.upstream_model});
  Channel out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto id =
        tx.exec_params1(
              absl::StrCat("INSERT INTO ", schema_,
                           ".channels (name, provider, base_url, api_key, groups, priority, weight, "
                           "enabled, timeout_ms, stream_idle_timeout_ms, stream_total_timeout_ms) VALUES ($1, $2, $3, $4, "
                           "ARRAY(SELECT json_array_elements_text($5::json)), $6, $7, $8, $9, $10, $11) RETURNING id"),
              channel.name, static_cast<int>(channel.provider), channel.base_url, channel.api_key,
              nlohmann::json(channel.groups).dump(), channel.priority, channel.weight, channel.enabled,
              absl::ToInt64Milliseconds(channel.timeout), absl::ToInt64Milliseconds(channel.stream_idle_timeout),
              absl::ToInt64Milliseconds(channel.stream_total_timeout))[0]
            .as<int64_t>();
    tx.exec_params0(absl::StrCat("INSERT INTO ", schema_,
                                 ".channel_models (channel_id, model, upstream_model) "
                                 "SELECT $1, x->>0, x->>1 FROM json_array_elements($2::json) x"),
                    id, models.dump());
    out = ReadChannel(tx.exec_params1(SelectSql(false, "WHERE c.id = $1"), id));
  });
  if (absl::IsAlreadyExists(st)) {
    return absl::AlreadyExistsError(absl::StrCat("channel \"", channel.name, "\" already exists"));
  }
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<Channel>> PgChannelStore::ListChannels() {
  std::vector<Channel> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    for (const auto& r : tx.exec(SelectSql(false, ""))) out.push_back(ReadChannel(r));
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<Channel> PgChannelStore::SetChannelEnabled(int64_t channel_id, bool enabled) {
  std::optional<Channel> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    auto updated = tx.exec_params(
        absl::StrCat("UPDATE ", schema_, ".channels SET enabled = $2, updated_at = now() WHERE id = $1"),
        channel_id, enabled);
    if (updated.affected_rows() == 0) return;
    out = ReadChannel(tx.exec_params1(SelectSql(false, "WHERE c.id = $1"), channel_id));
  });
  if (!st.ok()) return st;
  if (!out) return absl::NotFoundError(absl::StrCat("channel ", channel_id, " not found"));
  return *out;
}

absl::StatusOr<std::vector<Channel>> PgChannelStore::LoadEnabledChannels() {
  std::vector<Channel> out;
  absl::Status st = pool_->Transact([&](pqxx::work& tx) {
    for (const auto& r : tx.exec(SelectSql(true, "WHERE c.enabled"))) out.push_back(ReadChannel(r));
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace routeall::routing
