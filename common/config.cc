// Flag and environment parsing for Config.
#include "common/config.h"

#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace routeall {

absl::StatusOr<Config> Config::FromArgs(int argc, const char* const* argv,
                                        const char* const* envp) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument: ", std::string(arg)));
    }
    arg.remove_prefix(2);
    auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      flags[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
      flags[std::string(arg)] = argv[++i];
    } else {
      flags[std::string(arg)] = "true";
    }
  }
  std::map<std::string, std::string> env;
  for (const char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv = *e;
    if (kv.substr(0, 9) != "ROUTEALL_") continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return FromMaps(std::move(flags), std::move(env));
}

Config Config::FromMaps(std::map<std::string, std::string> flags,
                        std::map<std::string, std::string> env) {
  Config c;
  c.flags_ = std::move(flags);
  c.env_ = std::move(env);
  return c;
}

std::string Config::EnvName(std::string_view name) {
  std::string out = "ROUTEALL_";
  for (char ch : name) {
    out.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  return out;
}

const std::string* Config::Find(std::string_view name) const {
  if (auto it = flags_.find(std::string(name)); it != flags_.end()) return &it->second;
  if (auto it = env_.find(EnvName(name)); it != env_.end()) return &it->second;
  return nullptr;
}

bool Config::Has(std::string_view name) const { return Find(name) != nullptr; }

std::string Config::GetString(std::string_view name, std::string_view def) const {
  const std::string* v = Find(name);
  return v ? *v : std::string(def);
}

absl::StatusOr<int64_t> Config::GetInt(std::string_view name, int64_t def) const {
  const std::string* v = Find(name);
  if (v == nullptr) return def;
  int64_t out = 0;
  if (!absl::SimpleAtoi(*v, &out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": not an integer: '", *v, "'"));
  }
  return out;
}

absl::StatusOr<bool> Config::GetBool(std::string_view name, bool def) const {
  const std::string* v = Find(name);
  if (v == nullptr) return def;
  bool out = false;
  if (!absl::SimpleAtob(*v, &out)) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": not a boolean: '", *v, "'"));
  }
  return out;
}

absl::StatusOr<std::chrono::milliseconds> Config::GetMillis(
    std::string_view name, std::chrono::milliseconds def) const {
  auto v = GetInt(name, def.count());
  if (!v.ok()) return v.status();
  if (*v < 0) return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": must be >= 0"));
  return std::chrono::milliseconds(*v);
}

}  // namespace routeall
