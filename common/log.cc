// JSON log line rendering and the process-wide logger.
#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace routeall {
namespace {

std::mutex g_mu;
std::string g_service = "routeall";
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
thread_local std::string t_request_id;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void SetLogService(std::string service) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_service = std::move(service);
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  if (text == "debug") *out = LogLevel::kDebug;
  else if (text == "info") *out = LogLevel::kInfo;
  else if (text == "warn") *out = LogLevel::kWarn;
  else if (text == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

std::string FormatLogLine(std::string_view ts, LogLevel level, std::string_view service,
                          std::string_view request_id, std::string_view msg,
                          const nlohmann::json& fields) {
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = ts;
  line["level"] = LevelName(level);
  line["service"] = service;
  if (!request_id.empty()) line["request_id"] = request_id;
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      // Never let a field overwrite the envelope.
      if (!line.contains(it.key())) line[it.key()] = it.value();
    }
  }
  // Replace invalid UTF-8 instead of throwing: a log call must never fail.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::string service;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    service = g_service;
  }
  std::string line = FormatLogLine(NowRfc3339(), level, service, t_request_id, msg, fields);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

ScopedRequestId::ScopedRequestId(std::string id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(id);
}

ScopedRequestId::~ScopedRequestId() { t_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return t_request_id; }

}  // namespace routeall
