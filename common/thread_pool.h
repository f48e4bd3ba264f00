// A thread pool that grows on demand up to a cap: request handlers block on upstream calls
// for seconds, so a fixed small pool would cap concurrency; spawning per request costs more.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace routeall {

class ElasticThreadPool {
 public:
  ElasticThreadPool(int min_threads, int max_threads);
  ~ElasticThreadPool();
  ElasticThreadPool(const ElasticThreadPool&) = delete;
  ElasticThreadPool& operator=(const ElasticThreadPool&) = delete;

  // Runs task on an idle thread, or a new one while under the cap. Returns false (and does
  // not run it) when every one of max_threads is busy or the pool is stopping.
  bool Submit(std::function<void()> task);
  // Finishes queued tasks, then joins every thread.
  void Stop();

  int threads() const;
  int busy() const;

 private:
  void Worker();

  const int max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t busy_ = 0;
  bool stopping_ = false;
};

}  // namespace routeall
