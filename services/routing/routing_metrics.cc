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
                    .Register(registry)) {}

void RoutingMetrics::CountRoute(bool found) { (found ? route_ok_ : route_no_channel_).Increment(); }

void RoutingMetrics::CountOutcome(const std::string& channel, Outcome outcome) {
  // Add returns the existing series when the labels match, so this is a lookup after the first call.
  outcomes_.Add({{"channel", channel}, {"outcome", OutcomeLabel(outcome)}}).Increment();
}

}  // namespace routeall::routing
