// Boost.Beast HTTP/1.1 server that plays FakeUpstream ResponsePlans on real sockets.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_SERVER_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "fake_upstream.h"

namespace routeall::fake_upstream {

class Server {
 public:
  // Binds and listens immediately (port 0 picks an ephemeral port); throws
  // boost::system::system_error when the address cannot be bound.
  Server(FakeUpstream& app, const std::string& host, uint16_t port, int threads);
  ~Server();

  uint16_t port() const { return port_; }

  // Starts the worker threads and returns at once.
  void Start();
  // Stops accepting, aborts sessions and joins the workers. Idempotent.
  void Stop();
  // Blocks until Stop() is called (e.g. from a signal handler on the io_context).
  void Wait();

  boost::asio::io_context& io_context() { return ioc_; }

 private:
  void Accept();

  FakeUpstream& app_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int threads_;
  std::vector<std::thread> workers_;
};

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_SERVER_H_
