// Every metric the auth service exports, declared once with its help text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"

namespace routeall::auth {

class AuthMetrics {
 public:
  explicit AuthMetrics(prometheus::Registry& registry);

  // routeall_auth_authorize_total{result="ok|not_found|denied|error"}, by the status code.
  void CountAuthorize(const absl::Status& result);

 private:
  prometheus::Family<prometheus::Counter>& authorize_;
  prometheus::Counter& ok_;
  prometheus::Counter& not_found_;
  prometheus::Counter& denied_;
  prometheus::Counter& error_;
};

}  // namespace routeall::auth
