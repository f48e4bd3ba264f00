// Structured JSON logs to stdout, one object per line, carrying the current request id.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace routeall {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Process-wide settings, set once in main.
void SetLogService(std::string service);
void SetLogLevel(LogLevel level);
bool ParseLogLevel(std::string_view text, LogLevel* out);

void Log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nullptr);
inline void LogInfo(std::string_view msg, const nlohmann::json& f = nullptr) { Log(LogLevel::kInfo, msg, f); }
inline void LogWarn(std::string_view msg, const nlohmann::json& f = nullptr) { Log(LogLevel::kWarn, msg, f); }
inline void LogError(std::string_view msg, const nlohmann::json& f = nullptr) { Log(LogLevel::kError, msg, f); }

// Renders one log line (without the newline); separate from Log so it can be tested.
std::string FormatLogLine(std::string_view ts, LogLevel level, std::string_view service,
                          std::string_view request_id, std::string_view msg,
                          const nlohmann::json& fields);

// Sets the request id logged by this thread until the scope ends.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

const std::string& CurrentRequestId();

}  // namespace routeall
