// Every metric the routing service exports, declared once with its help text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
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
  // routeall_routing_channel_state{channel,state}: 1 for the current state, 0 for the others.
  void SetChannelState(const std::string& channel, CircuitState state);
  // routeall_routing_circuit_transitions_total{channel,from,to}
  void CountTransition(const std::string& channel, CircuitState from, CircuitState to);
  // routeall_routing_channel_latency_seconds{channel}
  void SetLatency(const std::string& channel, double seconds);
  // routeall_routing_probes_total{result="success|failure|client_error|unreachable"}
  void CountProbe(const std::string& result);
  // Drops a channel's state and latency series (disabled or renamed).
  void ForgetChannel(const std::string& channel);

 private:
  prometheus::Family<prometheus::Counter>& route_;
  prometheus::Counter& route_ok_;
  prometheus::Counter& route_no_channel_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Family<prometheus::Gauge>& channel_state_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& latency_;
  prometheus::Family<prometheus::Counter>& probes_;
};

}  // namespace routeall::routing
