// Every metric the billing service exports, declared once with its help text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace routeall::billing {

class BillingMetrics {
 public:
  explicit BillingMetrics(prometheus::Registry& registry);

  // routeall_billing_events_total{result}
  prometheus::Counter& events_billed;
  prometheus::Counter& events_duplicate;
  prometheus::Counter& events_dead_letter;
  // routeall_billing_batch_seconds
  prometheus::Histogram& batch_seconds;
  // routeall_billing_reserve_total{result}
  prometheus::Counter& reserve_ok;
  prometheus::Counter& reserve_insufficient;
  prometheus::Counter& reserve_unpriced;
  prometheus::Counter& holds_expired;
  prometheus::Counter& holds_expiry_postponed;
  prometheus::Counter& charge_mismatch;
};

}  // namespace routeall::billing
