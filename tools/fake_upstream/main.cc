// Entry point of routeall_fake_upstream: parses flags/env, serves until SIGTERM/SIGINT.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/asio/signal_set.hpp>

#include "fake_upstream.h"
#include "knobs.h"
#include "server.h"

namespace {

using routeall::fake_upstream::FakeUpstream;
using routeall::fake_upstream::Json;
using routeall::fake_upstream::Options;
using routeall::fake_upstream::Server;

constexpr char kUsage[] =
    "usage: routeall_fake_upstream [--host H] [--port N] [--threads T] [--api-key K] [--knobs JSON]\n"
    "  env: ROUTEALL_FAKE_HOST, ROUTEALL_FAKE_PORT, ROUTEALL_FAKE_THREADS, ROUTEALL_FAKE_API_KEY,\n"
    "       ROUTEALL_FAKE_KNOBS (default knobs, a JSON object; see README.md)\n";

std::string Env(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::string(value);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = Env("ROUTEALL_FAKE_HOST", "127.0.0.1");
  std::string port = Env("ROUTEALL_FAKE_PORT", "0");
  std::string threads = Env("ROUTEALL_FAKE_THREADS", "2");
  std::string api_key = Env("ROUTEALL_FAKE_API_KEY", "");
  std::string knobs_json = Env("ROUTEALL_FAKE_KNOBS", "");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << arg << "\n" << kUsage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--host") {
      host = value;
    } else if (arg == "--port") {
      port = value;
    } else if (arg == "--threads") {
      threads = value;
    } else if (arg == "--api-key") {
      api_key = value;
    } else if (arg == "--knobs") {
      knobs_json = value;
    } else {
      std::cerr << "unknown flag " << arg << "\n" << kUsage;
      return 2;
    }
  }

  try {
    Options options;
    options.api_key = api_key;
    if (!knobs_json.empty()) {
      std::string error;
      if (!routeall::fake_upstream::ParseKnobsJson(Json::parse(knobs_json), &options.default_knobs, &error)) {
        std::cerr << "bad --knobs: " << error << "\n";
        return 2;
      }
    }
    FakeUpstream app(options);
    Server server(app, host, static_cast<uint16_t>(std::stoi(port)), std::stoi(threads));
    boost::asio::signal_set signals(server.io_context(), SIGINT, SIGTERM);
    signals.async_wait([&server](const boost::system::error_code&, int) { server.io_context().stop(); });
    server.Start();
    std::cout << "listening on " << host << ":" << server.port() << std::endl;  // endl flushes
    server.Wait();
  } catch (const std::exception& e) {
    std::cerr << "routeall_fake_upstream: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
