// Router: validation, snapshot building and candidate ordering.
#include "services/routing/router.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace routeall::routing {
namespace {

// timeout_ms is an integer column; a day is far beyond any sane LLM call anyway.
constexpr absl::Duration kMaxTimeout = absl::Hours(24);

// Fills defaults (upstream_model = model) and rejects what could never route correctly.
absl::Status ValidateChannel(Channel& c) {
  if (c.name.empty()) return absl::InvalidArgumentError("channel name must not be empty");
  if (c.provider == routeall::llm::v1::DIALECT_UNSPECIFIED ||
      !routeall::llm::v1::Dialect_IsValid(c.provider)) {
    return absl::InvalidArgumentError("channel provider must be set (OPENAI, ANTHROPIC or GEMINI)");
  }
  const std::string& url = c.base_url;
  std::string_view rest;
  if (absl::StartsWith(c.base_url, "http://")) {
    rest = std::string_view(url).substr(7);
  } else if (absl::StartsWith(c.base_url, "https://")) {
    rest = std::string_view(url).substr(8);
  } else {
    return absl::InvalidArgumentError("channel base_url must start with http:// or https://");
  }
  if (rest.empty() || rest[0] == '/') return absl::InvalidArgumentError("channel base_url has no host");
  if (c.weight < 0) return absl::InvalidArgumentError("channel weight must not be negative");
  if (c.timeout <= absl::ZeroDuration() || c.timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("channel timeout must be positive (at least 1 ms)");
  }
  if (c.timeout > kMaxTimeout) return absl::InvalidArgumentError("channel timeout must be at most 24 hours");
  for (absl::Duration d : {c.stream_idle_timeout, c.stream_total_timeout}) {
    if (d < absl::ZeroDuration() || d > kMaxTimeout) {
      return absl::InvalidArgumentError("channel stream timeouts must be within [0, 24 hours]");
    }
  }
  if (c.models.empty()) return absl::InvalidArgumentError("channel must serve at least one model");
  std::set<std::string> seen;
  for (ModelMapping& m : c.models) {
    if (m.model.empty()) return absl::InvalidArgumentError("channel model names must not be empty");
    if (!seen.insert(m.model).second) {
      return absl::InvalidArgumentError(absl::StrCat("channel lists model \"", m.model, "\" twice"));
    }
    if (m.upstream_model.empty()) m.upstream_model = m.model;
  }
  for (const std::string& g : c.groups) {
    if (g.empty()) return absl::InvalidArgumentError("channel group names must not be empty");
  }
  return absl::OkStatus();
}

}  // namespace

Router::Router(std::shared_ptr<ChannelStore> store, Random random, RoutingMetrics* metrics,
               std::shared_ptr<ChannelHealth> health)
    : store_(std::move(store)),
      random_(std::move(random)),
      metrics_(metrics),
      health_(health ? std::move(health) : std::make_shared<AlwaysHealthy>()),
      snapshot_(std::make_shared<Snapshot>()) {}

Router::~Router() { Stop(); }

absl::Status Router::Reload() {
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  ASSIGN_OR_RETURN(std::vector<Channel> channels, store_->LoadEnabledChannels());
  auto next = std::make_shared<Snapshot>();
  next->channels = std::move(channels);
  // Entries point into next->channels, which is never resized after this point.
  for (const Channel& c : next->channels) {
    next->by_id[c.id] = &c;
    for (const ModelMapping& m : c.models) next->by_model[m.model].push_back(Entry{&c, &m.upstream_model});
  }
  // Before the swap, so every channel Route can see is already known to ChannelHealth.
  health_->Track(next->channels);
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(next);
  return absl::OkStatus();
}

void Router::StartPeriodicReload(absl::Duration period) {
  if (reload_thread_.joinable()) return;
  auto wait = std::chrono::milliseconds(std::max<int64_t>(1, absl::ToInt64Milliseconds(period)));
  reload_thread_ = std::thread([this, wait] {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, wait, [this] { return stopping_; })) {
      lock.unlock();
      absl::Status st = Reload();
      if (!st.ok())
        LogWarn("channel reload failed; routing on the previous snapshot", {{"error", st.ToString()}});
      lock.lock();
    }
  });
}

void Router::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (reload_thread_.joinable()) reload_thread_.join();
}

std::shared_ptr<const Router::Snapshot> Router::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

double Router::Uniform() {
  double r;
  {
    std::lock_guard<std::mutex> lock(random_mu_);
    r = random_();
  }
  return std::clamp(r, 0.0, 1.0);
}

void Router::WeightedShuffle(std::vector<Entry>::iterator begin, std::vector<Entry>::iterator end) {
  // Weight-0 channels are backups: they go after every weighted one, in uniform random order.
  auto zeros = std::stable_partition(begin, end, [](const Entry& e) { return e.channel->weight > 0; });
  int64_t total = 0;
  for (auto it = begin; it != zeros; ++it) total += it->channel->weight;
  for (auto slot = begin; slot != zeros; ++slot) {
    const double target = Uniform() * static_cast<double>(total);
    auto pick = zeros - 1;  // if rounding lets target reach total, take the last one
    double acc = 0;
    for (auto it = slot; it != zeros; ++it) {
      acc += it->channel->weight;
      if (target < acc) {
        pick = it;
        break;
      }
    }
    total -= pick->channel->weight;
    std::iter_swap(slot, pick);
  }
  for (auto slot = zeros; slot != end; ++slot) {
    auto n = static_cast<int64_t>(end - slot);
    auto k = std::min<int64_t>(n - 1, static_cast<int64_t>(Uniform() * static_cast<double>(n)));
    std::iter_swap(slot, slot + k);
  }
}

absl::StatusOr<std::vector<Candidate>> Router::Route(const std::string& model, const std::string& group) {
  if (model.empty()) return absl::InvalidArgumentError("model must not be empty");
  std::shared_ptr<const Snapshot> snap = snapshot();
  std::vector<Entry> entries;
  std::vector<Entry> open;
  bool any = false;
  if (auto it = snap->by_model.find(model); it != snap->by_model.end()) {
    for (const Entry& e : it->second) {
      const auto& groups = e.channel->groups;
      if (!groups.empty() && std::find(groups.begin(), groups.end(), group) == groups.end()) continue;
      any = true;
      switch (health_->Admit(e.channel->id)) {
        case Admission::kAllow:
          entries.push_back(e);
          break;
        case Admission::kProbe:
          entries.push_back(Entry{e.channel, e.upstream_model, /*probe=*/true});
          break;
        case Admission::kOpen:
          open.push_back(e);
          break;
        case Admission::kDisabled:
          break;
      }
    }
  }
  if (entries.empty()) entries = std::move(open);  // every circuit open: try them anyway
  if (metrics_ != nullptr) metrics_->CountRoute(!entries.empty());
  if (entries.empty() && any) {
    return absl::NotFoundError(absl::StrCat("no available channel for model \"", model, "\" in group \"", group,
                                            "\": every channel is auto-disabled"));
  }
  if (entries.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no enabled channel serves model \"", model, "\" for group \"", group, "\""));
  }
  // Sorted by id first so the outcome depends only on the random draws, not on load order.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.channel->priority != b.channel->priority) return a.channel->priority > b.channel->priority;
    return a.channel->id < b.channel->id;
  });
  for (auto tier = entries.begin(); tier != entries.end();) {
    auto next = std::find_if(tier, entries.end(),
                             [&](const Entry& e) { return e.channel->priority != tier->channel->priority; });
    // The probe goes first so the half-open channel gets its one trial request.
    auto rest = std::stable_partition(tier, next, [](const Entry& e) { return e.probe; });
    WeightedShuffle(rest, next);
    tier = next;
  }
  std::vector<Candidate> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) {
    const Channel& c = *e.channel;
    out.push_back(
        Candidate{c.id, c.name, c.provider, c.base_url, c.api_key, *e.upstream_model, c.priority, c.timeout,
                  c.stream_idle_timeout, c.stream_total_timeout});
  }
  return out;
}

absl::Status Router::ReportOutcome(int64_t channel_id, Outcome outcome, absl::Duration latency,
                                   int32_t http_status, const std::string& error) {
  if (channel_id <= 0) return absl::InvalidArgumentError("channel_id must be positive");
  if (latency < absl::ZeroDuration()) return absl::InvalidArgumentError("latency must not be negative");
  // "HTTP 503: upstream overloaded": the status says what kind of failure, the message why.
  std::string described = error;
  if (outcome == Outcome::kFailure) {
    std::string kind = http_status > 0 ? absl::StrCat("HTTP ", http_status) : "no response (connect, reset or timeout)";
    described = error.empty() ? kind : absl::StrCat(kind, ": ", error);
  }
  health_->Record(channel_id, outcome, latency, described);
  if (metrics_ != nullptr) {
    // Only known channels become label values, so a bad caller cannot blow up cardinality.
    std::shared_ptr<const Snapshot> snap = snapshot();
    auto it = snap->by_id.find(channel_id);
    metrics_->CountOutcome(it == snap->by_id.end() ? "unknown" : it->second->name, outcome);
  }
  return absl::OkStatus();
}

HealthInfo Router::ChannelHealthInfo(int64_t channel_id) { return health_->Info(channel_id); }

absl::StatusOr<Channel> Router::CreateChannel(Channel channel) {
  RETURN_IF_ERROR(ValidateChannel(channel));
  ASSIGN_OR_RETURN(Channel stored, store_->CreateChannel(channel));
  ReloadAfterWrite();
  return stored;
}

absl::StatusOr<std::vector<Channel>> Router::ListChannels() { return store_->ListChannels(); }

absl::StatusOr<Channel> Router::SetChannelEnabled(int64_t channel_id, bool enabled) {
  if (channel_id <= 0) return absl::InvalidArgumentError("channel_id must be positive");
  ASSIGN_OR_RETURN(Channel stored, store_->SetChannelEnabled(channel_id, enabled));
  ReloadAfterWrite();
  return stored;
}

void Router::ReloadAfterWrite() {
  // The write itself succeeded; a failed reload only delays it until the next periodic one.
  absl::Status st = Reload();
  if (!st.ok()) LogWarn("channel reload after write failed", {{"error", st.ToString()}});
}

}  // namespace routeall::routing
