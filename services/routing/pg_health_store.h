// HealthStore on PostgreSQL: table channel_health (migrations/*_channel_health.sql).
#pragma once

#include <memory>
#include <string>

#include "common/pg_pool.h"
#include "services/routing/health_store.h"

namespace routeall::routing {

class PgHealthStore final : public HealthStore {
 public:
  // schema comes from code (main, tests), never from a request.
  explicit PgHealthStore(std::shared_ptr<PgPool> pool, std::string schema = "routing");

  // HealthStore
  absl::Status SaveTransitions(const std::vector<HealthRecord>& records) override;
  absl::StatusOr<std::vector<HealthRecord>> LoadHealth() override;

 private:
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::routing
