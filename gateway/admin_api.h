// The admin HTTP API: JSON over HTTP, forwarded to the owning services' gRPC admin RPCs.
// Protected by one bearer token from config; disabled when no token is configured.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "gateway/http_server.h"
#include "routeall/auth/v1/auth_service.grpc.pb.h"
#include "routeall/billing/v1/billing_service.grpc.pb.h"
#include "routeall/routing/v1/routing_service.grpc.pb.h"

namespace routeall::gateway {

class AdminApi {
 public:
  AdminApi(std::string token, std::shared_ptr<grpc::Channel> auth, std::shared_ptr<grpc::Channel> routing,
           std::shared_ptr<grpc::Channel> billing);

  // Answers requests under /admin/; false when the path is not an admin path.
  bool Handle(const HttpRequest& req, ResponseWriter& out);
  // Whether the request carries the admin token (false when the admin API is disabled).
  bool Authorized(const HttpRequest& req) const;

 private:
  HttpResponse Dispatch(const HttpRequest& req);

  std::string token_hash_;
  std::unique_ptr<auth::v1::AuthService::Stub> auth_;
  std::unique_ptr<routing::v1::RoutingService::Stub> routing_;
  std::unique_ptr<billing::v1::BillingService::Stub> billing_;
};

// HTTP status for a gRPC status from an owning service.
int HttpStatusForGrpc(grpc::StatusCode code);

}  // namespace routeall::gateway
