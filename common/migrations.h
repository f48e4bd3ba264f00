// Versioned SQL migrations, applied by the owning service at start.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace routeall {

class PgPool;

struct Migration {
  // File name, "YYYYMMDDHHMMSS_name.sql"; the version is the name.
  std::string name;
  std::string sql;
};

// Applies, in name order, every migration not yet recorded in <schema>.schema_migrations,
// all in one transaction under an advisory lock, so replicas starting together apply each
// file exactly once and a failing file leaves nothing half-applied. Returns how many ran.
absl::Status ApplyMigrations(PgPool& pool, std::string_view schema,
                             const std::vector<Migration>& migrations, int* applied = nullptr);

}  // namespace routeall
