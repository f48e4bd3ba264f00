// BillingMetrics on prometheus-cpp.
#include "services/billing/billing_metrics.h"

namespace routeall::billing {
namespace {

prometheus::Family<prometheus::Counter>& Events(prometheus::Registry& r) {
  return prometheus::BuildCounter()
      .Name("routeall_billing_events_total")
      .Help(
          "Usage events consumed, by result: billed (new ledger row), duplicate (request id already "
          "billed: a redelivery), dead_letter (undecodable or invalid, sent to the dead-letter topic)")
      .Register(r);
}

prometheus::Family<prometheus::Counter>& Reserve(prometheus::Registry& r) {
  return prometheus::BuildCounter()
      .Name("routeall_billing_reserve_total")
      .Help(
          "Reserve calls by result: ok (hold taken), insufficient (balance minus holds too low), "
          "unpriced (the model has no price, so it is not served)")
      .Register(r);
}

}  // namespace

// Every labelled series is created up front so it exists (at 0) from the first scrape.
BillingMetrics::BillingMetrics(prometheus::Registry& registry)
    : events_billed(Events(registry).Add({{"result", "billed"}})),
      events_duplicate(Events(registry).Add({{"result", "duplicate"}})),
      events_dead_letter(Events(registry).Add({{"result", "dead_letter"}})),
      batch_seconds(
          prometheus::BuildHistogram()
              .Name("routeall_billing_batch_seconds")
              .Help("Time to settle one consumed batch: decode, dead-letter, ledger transaction "
                    "and offset commit, retries included")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25, 0.5, 1, 2.5, 5, 10, 30})),
      reserve_ok(Reserve(registry).Add({{"result", "ok"}})),
      reserve_insufficient(Reserve(registry).Add({{"result", "insufficient"}})),
      reserve_unpriced(Reserve(registry).Add({{"result", "unpriced"}})),
      holds_expired(prometheus::BuildCounter()
                        .Name("routeall_billing_holds_expired_total")
                        .Help("Holds released by expiry (--hold-ttl-ms) without a charge: requests whose "
                              "usage event never came")
                        .Register(registry)
                        .Add({})),
      holds_expiry_postponed(
          prometheus::BuildCounter()
              .Name("routeall_billing_holds_expiry_postponed_total")
              .Help("Holds past --hold-ttl-ms kept because usage settlement had not yet caught up past "
                    "their expiry (consumer lagging or Kafka unreachable); counted once per hold")
              .Register(registry)
              .Add({})),
      charge_mismatch(prometheus::BuildCounter()
                          .Name("routeall_billing_charge_mismatch_total")
                          .Help("Usage events whose charge differs from billing's recomputation (or whose "
                                "price version is unknown); the event's charge is billed anyway")
                          .Register(registry)
                          .Add({})) {}

}  // namespace routeall::billing
