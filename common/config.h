// Service configuration from command-line flags and ROUTEALL_* environment variables.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace routeall {

// Looks a setting up by its flag name ("grpc-port"): `--grpc-port=N` or `--grpc-port N`
// wins over the environment variable ROUTEALL_GRPC_PORT, which wins over the default.
class Config {
 public:
  static absl::StatusOr<Config> FromArgs(int argc, const char* const* argv,
                                         const char* const* envp);
  static Config FromMaps(std::map<std::string, std::string> flags,
                         std::map<std::string, std::string> env);

  bool Has(std::string_view name) const;
  std::string GetString(std::string_view name, std::string_view def) const;
  absl::StatusOr<int64_t> GetInt(std::string_view name, int64_t def) const;
  absl::StatusOr<bool> GetBool(std::string_view name, bool def) const;
  absl::StatusOr<std::chrono::milliseconds> GetMillis(std::string_view name,
                                                      std::chrono::milliseconds def) const;

  // "grpc-port" -> "ROUTEALL_GRPC_PORT".
  static std::string EnvName(std::string_view name);

 private:
  const std::string* Find(std::string_view name) const;

  std::map<std::string, std::string> flags_;
  std::map<std::string, std::string> env_;
};

}  // namespace routeall
