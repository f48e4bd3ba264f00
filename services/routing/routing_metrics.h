// Every metric the routing service exports, declared once with its help text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <string>

#include "services/routing/channel_health.h"

namespace routeall::routing {

class RoutingMetrics {
 public:
  explicit RoutingMetrics(prometheus::Registry& registry);

  // routeall_routing_route_total{result="ok|no_channel"}
  void CountRoute(bool found);
  // routeall_routing_outcomes_total{channel,outcome="success|failure|client_error"}
  void CountOutcome(const std::string& channel, Outcome outcome);

 private:
  prometheus::Family<prometheus::Counter>& route_;
  prometheus::Counter& route_ok_;
  prometheus::Counter& route_no_channel_;
  prometheus::Family<prometheus::Counter>& outcomes_;
};

}  // namespace routeall::routing
