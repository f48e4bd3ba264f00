// AuthMetrics on prometheus-cpp.
#include "services/auth/auth_metrics.h"

namespace routeall::auth {

AuthMetrics::AuthMetrics(prometheus::Registry& registry)
    : authorize_(prometheus::BuildCounter()
                     .Name("routeall_auth_authorize_total")
                     .Help("Authorize calls by result: ok, not_found (unknown key), denied (disabled or "
                           "expired key, disabled account), error (bad request or storage failure)")
                     .Register(registry)),
      // Created up front so every series exists (at 0) from the first scrape.
      ok_(authorize_.Add({{"result", "ok"}})),
      not_found_(authorize_.Add({{"result", "not_found"}})),
      denied_(authorize_.Add({{"result", "denied"}})),
      error_(authorize_.Add({{"result", "error"}})) {}

void AuthMetrics::CountAuthorize(const absl::Status& result) {
  switch (result.code()) {
    case absl::StatusCode::kOk:
      ok_.Increment();
      break;
    case absl::StatusCode::kNotFound:
      not_found_.Increment();
      break;
    case absl::StatusCode::kPermissionDenied:
      denied_.Increment();
      break;
    default:
      error_.Increment();
  }
}

}  // namespace routeall::auth
