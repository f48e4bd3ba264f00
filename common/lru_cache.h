// A bounded least-recently-used map: what the gateway caches per untrusted key (API key
// hashes) must have a fixed ceiling that a flood of new keys cannot push past.
#pragma once

#include <algorithm>
#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace routeall {

// Not thread-safe; callers hold their own lock.
template <typename K, typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The value for key, marking it most recently used; nullopt when absent.
  std::optional<V> Get(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  // Inserts or replaces; evicts the least recently used entry beyond capacity.
  void Put(const K& key, V value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    if (index_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
      ++evictions_;
    }
  }

  void Erase(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }
  size_t evictions() const { return evictions_; }

 private:
  size_t capacity_;
  size_t evictions_ = 0;
  std::list<std::pair<K, V>> order_;  // most recent first
  std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator> index_;
};

// A token bucket: at most `rate` events per second on average, bursts up to `burst`.
// Time is passed in (seconds as double from a steady clock), so tests drive it.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  bool TryTake(double now_seconds) {
    if (started_) tokens_ = std::min(burst_, tokens_ + (now_seconds - last_) * rate_);
    started_ = true;
    last_ = now_seconds;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_, burst_, tokens_;
  double last_ = 0;
  bool started_ = false;
};

}  // namespace routeall
