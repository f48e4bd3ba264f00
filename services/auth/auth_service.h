// gRPC front of the auth service: translates proto <-> domain and nothing more.
#pragma once

#include <vector>

#include "common/migrations.h"
#include "routeall/auth/v1/auth_service.grpc.pb.h"

namespace routeall::auth {

class AuthServiceImpl final : public routeall::auth::v1::AuthService::Service {
 public:
  AuthServiceImpl() = default;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::auth
