// Starts a gRPC server with the standard health service and drains it on shutdown.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace routeall {

struct GrpcServerOptions {
  // "host:port"; port 0 picks a free port.
  std::string address = "127.0.0.1:0";
  std::vector<grpc::Service*> services;
  int max_message_bytes = 64 << 20;
};

class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options);
  ~GrpcServer();

  int port() const { return port_; }
  grpc::Server& server() { return *server_; }

  // Marks the server NOT_SERVING (so load balancers stop sending), lets in-flight RPCs
  // finish until the deadline, then cancels the rest.
  void Shutdown(std::chrono::milliseconds drain);

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port);

  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later; call first in main.
void BlockTerminationSignals();
// Waits for SIGTERM or SIGINT (after BlockTerminationSignals) and returns its number.
int WaitForTerminationSignal();

}  // namespace routeall
