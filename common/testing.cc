// Test helper implementations.
#include "common/testing.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

namespace routeall::testing {

std::string UniqueSuffix() {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::to_string(getpid()) + "_" + std::to_string(now % 1000000007) + "_" +
         std::to_string(counter++);
}

absl::StatusOr<std::unique_ptr<PgTestSchema>> PgTestSchema::Create(const std::string& url, const std::string& prefix,
                                                                    const std::vector<Migration>& migrations,
                                                                    int pool_size) {
  auto pool = PgPool::Create(url, pool_size);
  if (!pool.ok()) return pool.status();
  std::shared_ptr<PgPool> shared(std::move(*pool));
  std::string schema = prefix + UniqueSuffix();
  absl::Status st = ApplyMigrations(*shared, schema, migrations);
  if (!st.ok()) return st;
  return std::unique_ptr<PgTestSchema>(new PgTestSchema(shared, schema));
}

PgTestSchema::~PgTestSchema() {
  (void)pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec0("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  });
}

int64_t PgTestSchema::QueryInt(const std::string& sql) {
  int64_t out = -1;
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec1(sql);
    out = r[0].is_null() ? 0 : r[0].as<int64_t>();
  });
  if (!st.ok()) ADD_FAILURE() << sql << ": " << st;
  return out;
}

}  // namespace routeall::testing
