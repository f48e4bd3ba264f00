// ChannelStore on PostgreSQL (tables from migrations/, in one schema).
#pragma once

#include <memory>
#include <string>

#include "common/pg_pool.h"
#include "services/routing/channel_store.h"

namespace routeall::routing {

class PgChannelStore final : public ChannelStore {
 public:
  // schema is spliced into SQL, so it must come from code (main, tests), never from a request;
  // it is the same name ApplyMigrations already validated.
  explicit PgChannelStore(std::shared_ptr<PgPool> pool, std::string schema = "routing");

  // ChannelStore
  absl::StatusOr<Channel> CreateChannel(const Channel& channel) override;
  absl::StatusOr<std::vector<Channel>> ListChannels() override;
  absl::StatusOr<Channel> SetChannelEnabled(int64_t channel_id, bool enabled) override;
  absl::StatusOr<std::vector<Channel>> LoadEnabledChannels() override;

 private:
  // The one SELECT every read uses; with_secret decides whether api_key leaves the database.
  std::string SelectSql(bool with_secret, const std::string& where) const;

  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::routing
