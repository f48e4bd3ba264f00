// RoutingMetrics on prometheus-cpp.
#include "services/routing/routing_metrics.h"

namespace routeall::routing {
namespace {

const char* OutcomeLabel(Outcome o) {
  switch (o) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kFailure:
      return "failure";
    case Outcome::kClientError:
      return "client_error";
  }
  return "unknown";
}

constexpr CircuitState kAllStates[] = {CircuitState::kClosed, CircuitState::kOpen, CircuitState::kHalfOpen,
                                       CircuitState::kAutoDisabled};

}  // namespace

RoutingMetrics::RoutingMetrics(prometheus::Registry& registry)
    : route_(prometheus::BuildCounter()
                 .Name("routeall_routing_route_total")
                 .Help("Route calls by result: ok (at least one candidate) or no_channel")
                 .Register(registry)),
      route_ok_(route_.Add({{"result", "ok"}})),
      route_no_channel_(route_.Add({{"result", "no_channel"}})),
      outcomes_(prometheus::BuildCounter()
                    .Name("routeall_routing_outcomes_total")
                    .Help("Upstream call outcomes reported by the gateway, by channel name and outcome")
                    .Register(registry)),
      channel_state_(prometheus::BuildGauge()
                         .Name("routeall_routing_channel_state")
                         .Help("Circuit state of each enabled channel as this replica sees it: 1 for the "
                               "current state (closed, open, half_open, auto_disabled), 0 for the others")
                         .Register(registry)),
      transitions_(prometheus::BuildCounter()
                       .Name("routeall_routing_circuit_transitions_total")
                       .Help("Circuit breaker state changes on this replica, by channel, from and to state "
                             "(including those adopted from other replicas)")
                       .Register(registry)),
      latency_(prometheus::BuildGauge()
                   .Name("routeall_routing_channel_latency_seconds")
                   .Help("Exponentially weighted moving average of successful upstream call latency "
                         "per channel, as reported by the gateway and active probes")
                   .Register(registry)),
      probes_(prometheus::BuildCounter()
                  .Name("routeall_routing_probes_total")
                  .Help("Active health probes of open or auto-disabled channels, by result "
                        "(unreachable = the adapter could not be asked)")
                  .Register(registry)) {}

void RoutingMetrics::CountRoute(bool found) { (found ? route_ok_ : route_no_channel_).Increment(); }

void RoutingMetrics::CountOutcome(const std::string& channel, Outcome outcome) {
  // Add returns the existing series when the labels match, so this is a lookup after the first call.
  outcomes_.Add({{"channel", channel}, {"outcome", OutcomeLabel(outcome)}}).Increment();
}

void RoutingMetrics::SetChannelState(const std::string& channel, CircuitState state) {
  for (CircuitState s : kAllStates) {
    channel_state_.Add({{"channel", channel}, {"state", CircuitStateName(s)}}).Set(s == state ? 1 : 0);
  }
}

void RoutingMetrics::CountTransition(const std::string& channel, CircuitState from, CircuitState to) {
  transitions_.Add({{"channel", channel}, {"from", CircuitStateName(from)}, {"to", CircuitStateName(to)}})
      .Increment();
}

void RoutingMetrics::SetLatency(const std::string& channel, double seconds) {
  latency_.Add({{"channel", channel}}).Set(seconds);
}

void RoutingMetrics::CountProbe(const std::string& result) { probes_.Add({{"result", result}}).Increment(); }

void RoutingMetrics::ForgetChannel(const std::string& channel) {
  for (CircuitState s : kAllStates) {
    channel_state_.Remove(&channel_state_.Add({{"channel", channel}, {"state", CircuitStateName(s)}}));
  }
  latency_.Remove(&latency_.Add({{"channel", channel}}));
}

}  // namespace routeall::routing
