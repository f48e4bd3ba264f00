// Test helpers: where the real PostgreSQL and Kafka started by scripts/test live.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "common/migrations.h"
#include "common/pg_pool.h"

namespace routeall::testing {

// Returns the environment value, or "" after recording why the test cannot run. When
// ROUTEALL_TEST_REQUIRE_INTEGRATION=1 (scripts/test sets it) a missing value fails the test
// instead of skipping it, so CI can never pass by skipping.
inline std::string IntegrationEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return v;
  const char* req = std::getenv("ROUTEALL_TEST_REQUIRE_INTEGRATION");
  if (req != nullptr && std::string(req) == "1") {
    ADD_FAILURE() << name << " is not set but integration tests are required";
  }
  return "";
}

// A unique suffix per test process, so parallel runs never share schemas or topics.
std::string UniqueSuffix();

// A service's migrations applied into a fresh schema "<prefix><UniqueSuffix()>" of the test
// PostgreSQL, so tests never see each other's rows; dropped on destruction.
class PgTestSchema {
 public:
  static absl::StatusOr<std::unique_ptr<PgTestSchema>> Create(const std::string& url, const std::string& prefix,
                                                              const std::vector<Migration>& migrations,
                                                              int pool_size = 4);
  ~PgTestSchema();

  const std::shared_ptr<PgPool>& pool() const { return pool_; }
  const std::string& schema() const { return schema_; }
  // Runs a query returning one bigint (NULL reads as 0); a failing query fails the test.
  int64_t QueryInt(const std::string& sql);

 private:
  PgTestSchema(std::shared_ptr<PgPool> pool, std::string schema) : pool_(std::move(pool)), schema_(std::move(schema)) {}
  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::testing

#define ROUTEALL_REQUIRE_ENV(var, name)                                  \
  std::string var = ::routeall::testing::IntegrationEnv(name);           \
  if (var.empty()) GTEST_SKIP() << name << " not set (run scripts/test)"
