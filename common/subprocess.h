// Runs a child process with its stdout piped back, for black-box tests of our binaries.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace routeall::testing {

class Subprocess {
 public:
  // argv[0] is the program path; env entries "K=V" are added to this process's environment.
  Subprocess(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Reads stdout lines until one is a JSON object whose "msg" equals msg; returns it.
  std::optional<nlohmann::json> WaitForLogLine(const std::string& msg, std::chrono::milliseconds timeout);
  // Reads stdout lines until one contains text; returns that line.
  std::optional<std::string> WaitForText(const std::string& text, std::chrono::milliseconds timeout);
  // Sends sig and waits for exit; returns the exit code, or -1 on timeout (then kills it).
  int Stop(int sig, std::chrono::milliseconds timeout);
  // Everything read from stdout so far.
  const std::string& output() const { return output_; }

 private:
  std::optional<std::string> NextLine(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;
  std::string output_;
};

// A GET over plain HTTP/1.1 to 127.0.0.1:port; returns {status, body} or status 0 on failure.
struct SimpleHttpResult {
  int status = 0;
  std::string body;
};
SimpleHttpResult HttpGet(int port, const std::string& target);

}  // namespace routeall::testing
