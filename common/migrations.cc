// ApplyMigrations on a PgPool.
#include "common/migrations.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/pg_pool.h"

namespace routeall {

absl::Status ApplyMigrations(PgPool& pool, std::string_view schema,
                             const std::vector<Migration>& migrations, int* applied) {
  // The schema is spliced into SQL text, so only plain identifiers are accepted.
  bool ok = !schema.empty() && !std::isdigit(static_cast<unsigned char>(schema[0]));
  for (char ch : schema) {
    ok = ok && (std::islower(static_cast<unsigned char>(ch)) ||
                std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad schema name: ", std::string(schema)));
  std::vector<Migration> sorted = migrations;
  std::sort(sorted.begin(), sorted.end(),
            [](const Migration& a, const Migration& b) { return a.name < b.name; });
  int count = 0;
  absl::Status st = pool.Transact([&](pqxx::work& tx) {
    const std::string s(schema);
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "routeall.migrations." + s);
    tx.exec0("CREATE SCHEMA IF NOT EXISTS " + s);
    tx.exec0("CREATE TABLE IF NOT EXISTS " + s +
             ".schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<std::string> done;
    for (const auto& row : tx.exec("SELECT version FROM " + s + ".schema_migrations")) {
      done.insert(row[0].as<std::string>());
    }
    tx.exec0("SET LOCAL search_path TO " + s + ", public");
    for (const Migration& m : sorted) {
      if (done.count(m.name)) continue;
      tx.exec(m.sql);
      tx.exec_params0("INSERT INTO " + s + ".schema_migrations (version) VALUES ($1)", m.name);
      ++count;
    }
  });
  if (!st.ok()) return absl::Status(st.code(), absl::StrCat("migrations for ", std::string(schema), ": ", st.message()));
  if (applied) *applied = count;
  return absl::OkStatus();
}

}  // namespace routeall
