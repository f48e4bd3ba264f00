// PgPool: lease, run, translate errors, reconnect broken connections.
#include "common/pg_pool.h"

#include "absl/strings/str_cat.h"

namespace routeall {

PgPool::PgPool(std::string conninfo, std::vector<std::unique_ptr<pqxx::connection>> conns)
    : conninfo_(std::move(conninfo)), idle_(std::move(conns)) {}

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Create(std::string conninfo, int size) {
  if (size < 1) return absl::InvalidArgumentError("pool size must be >= 1");
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  try {
    for (int i = 0; i < size; ++i) conns.push_back(std::make_unique<pqxx::connection>(conninfo));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("postgres: ", e.what()));
  }
  return std::unique_ptr<PgPool>(new PgPool(std::move(conninfo), std::move(conns)));
}

std::unique_ptr<pqxx::connection> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty(); });
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

absl::Status PgExceptionToStatus(const std::exception& e) {
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return absl::AlreadyExistsError(e.what());
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    return absl::AbortedError(e.what());
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("postgres: ", e.what()));
  }
  if (dynamic_cast<const pqxx::check_violation*>(&e) != nullptr ||
      dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr ||
      dynamic_cast<const pqxx::not_null_violation*>(&e) != nullptr) {
    return absl::FailedPreconditionError(e.what());
  }
  return absl::InternalError(absl::StrCat("postgres: ", e.what()));
}

absl::Status PgPool::Run(const std::function<void(pqxx::connection&)>& fn) {
  auto conn = Acquire();
  absl::Status status;
  try {
    if (!conn->is_open()) conn = std::make_unique<pqxx::connection>(conninfo_);
    fn(*conn);
  } catch (const std::exception& e) {
    status = PgExceptionToStatus(e);
  }
  if (!status.ok() && !conn->is_open()) {
    // Reopen now so the next lease does not fail the same way; keep the dead one otherwise.
    try {
      conn = std::make_unique<pqxx::connection>(conninfo_);
    } catch (const std::exception&) {
    }
  }
  Release(std::move(conn));
  return status;
}

absl::Status PgPool::Transact(const std::function<void(pqxx::work&)>& fn) {
  return Run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    fn(tx);
    tx.commit();
  });
}

}  // namespace routeall
