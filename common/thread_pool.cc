// ElasticThreadPool.
#include "common/thread_pool.h"

namespace routeall {

ElasticThreadPool::ElasticThreadPool(int min_threads, int max_threads) : max_threads_(max_threads) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < min_threads && i < max_threads; ++i) threads_.emplace_back([this] { Worker(); });
}

ElasticThreadPool::~ElasticThreadPool() { Stop(); }

bool ElasticThreadPool::Submit(std::function<void()> task) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return false;
  // Every queued or running task holds a thread; spawn when none is left for this one.
  if (queue_.size() + busy_ >= threads_.size()) {
    if (static_cast<int>(threads_.size()) >= max_threads_) return false;
    threads_.emplace_back([this] { Worker(); });
  }
  queue_.push_back(std::move(task));
  lock.unlock();
  cv_.notify_one();
  return true;
}

void ElasticThreadPool::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    task();
    lock.lock();
    --busy_;
  }
}

void ElasticThreadPool::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

int ElasticThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(threads_.size());
}

int ElasticThreadPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(busy_);
}

}  // namespace routeall
