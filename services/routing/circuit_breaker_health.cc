// CircuitBreakerHealth: state machine closed -> open -> half-open -> closed/open, plus
// auto-disable, all under one mutex (every operation is a few map and deque steps).
#include "services/routing/circuit_breaker_health.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"

namespace routeall::routing {

const char* CircuitStateName(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
    case CircuitState::kAutoDisabled:
      return "auto_disabled";
  }
  return "unknown";
}

absl::Status ValidateCircuitOptions(const CircuitOptions& o) {
  if (o.consecutive_failures < 1) return absl::InvalidArgumentError("circuit failures must be at least 1");
  if (!(o.error_rate > 0 && o.error_rate <= 1)) {
    return absl::InvalidArgumentError("circuit error rate must be in (0, 100] percent");
  }
  if (o.min_requests < 1) return absl::InvalidArgumentError("circuit min requests must be at least 1");
  if (o.window <= absl::ZeroDuration() || o.cooldown <= absl::ZeroDuration() ||
      o.auto_disable_after <= absl::ZeroDuration() || o.probe_lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("circuit durations must be positive");
  }
  if (o.max_cooldown < o.cooldown) return absl::InvalidArgumentError("circuit max cooldown must be >= cooldown");
  if (!(o.latency_alpha > 0 && o.latency_alpha <= 1)) {
    return absl::InvalidArgumentError("latency alpha must be in (0, 1]");
  }
  return absl::OkStatus();
}

CircuitBreakerHealth::CircuitBreakerHealth(CircuitOptions options, Clock clock, RoutingMetrics* metrics,
                                           std::string replica)
    : options_(options), clock_(std::move(clock)), metrics_(metrics), replica_(std::move(replica)) {}

CircuitBreakerHealth::State* CircuitBreakerHealth::Find(int64_t channel_id) {
  auto it = states_.find(channel_id);
  return it == states_.end() ? nullptr : &it->second;
}

void CircuitBreakerHealth::Prune(State& s, absl::Time now) {
  while (!s.window.empty() && s.window.front().first <= now - options_.window) {
    if (s.window.front().second) --s.failures_in_window;
    s.window.pop_front();
  }
}

void CircuitBreakerHealth::Refresh(int64_t id, State& s, absl::Time now) {
  if (s.state == CircuitState::kOpen && now >= s.reopened_at + s.cooldown) {
    s.probe_claimed = false;
    Transition(id, s, CircuitState::kHalfOpen, now, /*persist=*/false);
  }
  if ((s.state == CircuitState::kOpen || s.state == CircuitState::kHalfOpen) &&
      now - s.opened_at >= options_.auto_disable_after) {
    Transition(id, s, CircuitState::kAutoDisabled, now, /*persist=*/true);
  }
}

void CircuitBreakerHealth::Transition(int64_t id, State& s, CircuitState to, absl::Time now, bool persist) {
  CircuitState from = s.state;
  if (from == to) return;
  s.state = to;
  // Half-open is local and never stored, so it must not make a newer shared record look old.
  if (persist) s.changed_at = now;
  if (metrics_ != nullptr) {
    metrics_->SetChannelState(s.name, to);
    metrics_->CountTransition(s.name, from, to);
  }
  if (persist) pending_.push_back(ToRecord(id, s));
}

HealthRecord CircuitBreakerHealth::ToRecord(int64_t id, const State& s) const {
  HealthRecord r;
  r.channel_id = id;
  r.state = s.state == CircuitState::kHalfOpen ? CircuitState::kOpen : s.state;
  r.changed_at = s.changed_at;
  r.opened_at = s.state == CircuitState::kClosed ? absl::InfinitePast() : s.opened_at;
  r.cooldown = s.cooldown;
  r.last_error = s.last_error;
  r.replica = replica_;
  return r;
}

void CircuitBreakerHealth::Open(int64_t id, State& s, absl::Time now, absl::Duration cooldown) {
  if (s.state == CircuitState::kClosed) s.opened_at = now;  // a re-open continues the streak
  s.reopened_at = now;
  s.cooldown = std::min(cooldown, options_.max_cooldown);
  s.probe_claimed = false;
  Transition(id, s, CircuitState::kOpen, now, /*persist=*/true);
}

void CircuitBreakerHealth::Close(int64_t id, State& s, absl::Time now, bool persist) {
  // A fresh start: failures from before the outage must not re-trip the circuit at once.
  s.window.clear();
  s.failures_in_window = 0;
  s.consecutive_failures = 0;
  s.opened_at = absl::InfinitePast();
  s.reopened_at = absl::InfinitePast();
  s.cooldown = absl::ZeroDuration();
  s.probe_claimed = false;
  Transition(id, s, CircuitState::kClosed, now, persist);
}

void CircuitBreakerHealth::SampleLatency(State& s, absl::Duration latency) {
  if (!s.has_latency) {
    s.latency = latency;
    s.has_latency = true;
  } else {
    s.latency = options_.latency_alpha * latency + (1 - options_.latency_alpha) * s.latency;
  }
  if (metrics_ != nullptr) metrics_->SetLatency(s.name, absl::ToDoubleSeconds(s.latency));
}

Admission CircuitBreakerHealth::Admit(int64_t channel_id) {
  std::lock_guard<std::mutex> lock(mu_);
  State* s = Find(channel_id);
  if (s == nullptr) return Admission::kAllow;  // not tracked yet: nothing known against it
  absl::Time now = clock_();
  Refresh(channel_id, *s, now);
  switch (s->state) {
    case CircuitState::kClosed:
      return Admission::kAllow;
    case CircuitState::kOpen:
      return Admission::kOpen;
    case CircuitState::kAutoDisabled:
      return Admission::kDisabled;
    case CircuitState::kHalfOpen:
      if (s->probe_claimed && now - s->probe_claimed_at < options_.probe_lease) return Admission::kOpen;
      s->probe_claimed = true;
      s->probe_claimed_at = now;
      return Admission::kProbe;
  }
  return Admission::kAllow;
}

void CircuitBreakerHealth::Record(int64_t channel_id, Outcome outcome, absl::Duration latency,
                                  const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  State* s = Find(channel_id);
  if (s == nullptr) return;  // unknown ids never grow the map
  absl::Time now = clock_();
  Refresh(channel_id, *s, now);
  if (outcome == Outcome::kClientError) {
    // The upstream answered; the request was bad. Neither for nor against the channel, but a
    // half-open probe that ended this way frees the slot for the next request.
    if (s->state == CircuitState::kHalfOpen) s->probe_claimed = false;
    return;
  }
  const bool failed = outcome == Outcome::kFailure;
  Prune(*s, now);
  s->window.emplace_back(now, failed);
  if (failed) {
    ++s->failures_in_window;
    ++s->consecutive_failures;
    s->last_error = error;
  } else {
    s->consecutive_failures = 0;
    SampleLatency(*s, latency);
  }
  switch (s->state) {
    case CircuitState::kClosed: {
      if (!failed) return;
      const auto n = static_cast<int32_t>(s->window.size());
      const bool rate_tripped =
          n >= options_.min_requests && static_cast<double>(s->failures_in_window) / n > options_.error_rate;
      if (s->consecutive_failures >= options_.consecutive_failures || rate_tripped) {
        Open(channel_id, *s, now, options_.cooldown);
      }
      return;
    }
    case CircuitState::kHalfOpen:
      if (failed) {
        Open(channel_id, *s, now, s->cooldown * 2);
      } else {
        Close(channel_id, *s, now);
      }
      return;
    case CircuitState::kOpen:
    case CircuitState::kAutoDisabled:
      // Late reports from calls started before the circuit opened (or all-open fallback
      // traffic) decide nothing: only the half-open probe or an active probe does.
      return;
  }
}

void CircuitBreakerHealth::RecordProbe(int64_t channel_id, bool ok, absl::Duration latency,
                                       const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  State* s = Find(channel_id);
  if (s == nullptr) return;
  absl::Time now = clock_();
  Refresh(channel_id, *s, now);
  if (ok) {
    SampleLatency(*s, latency);
    if (s->state != CircuitState::kClosed) Close(channel_id, *s, now);
    return;
  }
  s->last_error = error;
  if (s->state == CircuitState::kHalfOpen) Open(channel_id, *s, now, s->cooldown * 2);
}

HealthInfo CircuitBreakerHealth::Info(int64_t channel_id) {
  std::lock_guard<std::mutex> lock(mu_);
  State* s = Find(channel_id);
  if (s == nullptr) return {};
  absl::Time now = clock_();
  Refresh(channel_id, *s, now);
  Prune(*s, now);
  HealthInfo info;
  info.state = s->state;
  info.consecutive_failures = s->consecutive_failures;
  info.window_requests = static_cast<int32_t>(s->window.size());
  info.error_rate = s->window.empty() ? 0.0 : static_cast<double>(s->failures_in_window) / s->window.size();
  info.last_error = s->last_error;
  if (s->state != CircuitState::kClosed) {
    info.opened_at = s->opened_at;
    info.retry_at = s->reopened_at + s->cooldown;
  }
  info.latency = s->latency;
  return info;
}

void CircuitBreakerHealth::Track(const std::vector<Channel>& channels) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<int64_t> present;
  for (const Channel& c : channels) {
    present.insert(c.id);
    auto [it, added] = states_.try_emplace(c.id);
    State& s = it->second;
    if (!added && s.name != c.name && metrics_ != nullptr) metrics_->ForgetChannel(s.name);
    if (added || s.name != c.name) {
      s.name = c.name;
      if (metrics_ != nullptr) {
        metrics_->SetChannelState(s.name, s.state);
        if (s.has_latency) metrics_->SetLatency(s.name, absl::ToDoubleSeconds(s.latency));
      }
    }
    s.channel = c;
  }
  // Disabled or deleted: start afresh if it comes back.
  for (auto it = states_.begin(); it != states_.end();) {
    if (present.count(it->first) == 0) {
      if (metrics_ != nullptr) metrics_->ForgetChannel(it->second.name);
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
}

void CircuitBreakerHealth::Sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = clock_();
  for (auto& [id, s] : states_) Refresh(id, s, now);
}

std::vector<Channel> CircuitBreakerHealth::ProbeTargets(absl::Duration open_for) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = clock_();
  std::vector<Channel> out;
  for (auto& [id, s] : states_) {
    Refresh(id, s, now);
    if (s.state == CircuitState::kAutoDisabled ||
        ((s.state == CircuitState::kOpen || s.state == CircuitState::kHalfOpen) && now - s.opened_at >= open_for)) {
      out.push_back(s.channel);
    }
  }
  std::sort(out.begin(), out.end(), [](const Channel& a, const Channel& b) { return a.id < b.id; });
  return out;
}

std::vector<HealthRecord> CircuitBreakerHealth::TakeTransitions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HealthRecord> out;
  out.swap(pending_);
  return out;
}

void CircuitBreakerHealth::RequeueTransitions(std::vector<HealthRecord> records) {
  std::lock_guard<std::mutex> lock(mu_);
  records.insert(records.end(), pending_.begin(), pending_.end());
  pending_ = std::move(records);
}

void CircuitBreakerHealth::Apply(const std::vector<HealthRecord>& records) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = clock_();
  for (const HealthRecord& r : records) {
    State* s = Find(r.channel_id);
    // Not newer than what this replica did or already adopted (its own rows come back here).
    if (s == nullptr || r.changed_at <= s->changed_at) continue;
    s->last_error = r.last_error;
    switch (r.state) {
      case CircuitState::kClosed:
        // Adopted, not ours to write again.
        if (s->state != CircuitState::kClosed) Close(r.channel_id, *s, now, /*persist=*/false);
        break;
      case CircuitState::kOpen:
      case CircuitState::kAutoDisabled:
      case CircuitState::kHalfOpen:
        s->opened_at = r.opened_at;
        s->reopened_at = r.changed_at;
        s->cooldown = std::max(r.cooldown, absl::Milliseconds(1));
        s->probe_claimed = false;
        Transition(r.channel_id, *s, r.state == CircuitState::kAutoDisabled ? r.state : CircuitState::kOpen, now,
                   /*persist=*/false);
        break;
    }
    s->changed_at = r.changed_at;
    Refresh(r.channel_id, *s, now);
  }
}

}  // namespace routeall::routing
