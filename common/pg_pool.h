// A small pool of libpqxx connections; pqxx exceptions end here and become absl::Status.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace routeall {

class PgPool {
 public:
  // Opens `size` connections up front so a bad conninfo fails at start, not on first use.
  static absl::StatusOr<std::unique_ptr<PgPool>> Create(std::string conninfo, int size);

  // Runs fn with a leased connection. Exceptions from fn become a Status: unique
  // violations ALREADY_EXISTS, serialization failures ABORTED, lost connections UNAVAILABLE
  // (the connection is reopened on next use), anything else INTERNAL.
  absl::Status Run(const std::function<void(pqxx::connection&)>& fn);

  // Runs fn inside one transaction that commits when fn returns normally.
  absl::Status Transact(const std::function<void(pqxx::work&)>& fn);

  const std::string& conninfo() const { return conninfo_; }

 private:
  PgPool(std::string conninfo, std::vector<std::unique_ptr<pqxx::connection>> conns);

  std::unique_ptr<pqxx::connection> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn);

  std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

// Maps a pqxx / std exception currently being handled to a Status (call inside catch).
absl::Status PgExceptionToStatus(const std::exception& e);

}  // namespace routeall
