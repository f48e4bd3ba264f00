// Transport-free core of the fake upstream: routes one HTTP request to a ResponsePlan.
#ifndef ROUTEALL_TOOLS_FAKE_UPSTREAM_FAKE_UPSTREAM_H_
#define ROUTEALL_TOOLS_FAKE_UPSTREAM_FAKE_UPSTREAM_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat_request.h"
#include "knobs.h"
#include "render.h"
#include "text_util.h"

namespace routeall::fake_upstream {

struct HttpRequest {
  std::string method;
  std::string target;                          // path plus optional ?query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Everything the socket layer needs to play a response, including timing and
// fault injection, so the server itself holds no provider logic.
struct ResponsePlan {
  bool reset_connection = false;  // drop the TCP connection, send nothing
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // non-streaming body
  bool streaming = false;
  std::vector<std::string> chunks;  // each written and flushed on its own
  // Close the socket (no terminal chunk) once this many chunks are written.
  std::optional<size_t> abort_after;
  int64_t latency_ms = 0;      // before the status line
  int64_t ttft_ms = 0;         // before the first chunk
  int64_t chunk_delay_ms = 0;  // between chunks
  // Hostile stream: once this many chunks are written, send only keep-alive pings, forever.
  std::optional<size_t> ping_forever_after;
  std::string ping_chunk;
  int64_t ping_interval_ms = 200;
};

struct Options {
  std::string api_key;  // empty: no authentication
  Knobs default_knobs;  // process-wide defaults, lowest precedence
};

// Number of leading events to keep so that exactly n content events are
// included (for n == 0: everything before the first content event), or
// nullopt when the stream has fewer than n content events.
std::optional<size_t> EventsThroughContent(const std::vector<StreamEvent>& events, int64_t n);

class FakeUpstream {
 public:
  explicit FakeUpstream(Options options);

  // Thread-safe; called concurrently from every server thread.
  ResponsePlan Handle(const HttpRequest& request);

 private:
  struct Instance {
    Knobs knobs;
    int64_t requests = 0;
    std::map<std::string, int64_t> by_path;
    int64_t failures_served = 0;  // fail_first_n progress
    std::optional<Json> last;
  };
  struct Route;

  ResponsePlan HandleControl(const HttpRequest& request, const std::string& path);
  ResponsePlan HandleProvider(const HttpRequest& request, const std::string& instance,
                              const std::string& path, const std::map<std::string, std::string>& query);
  ResponsePlan HandleChat(const HttpRequest& request, const Route& route, const std::string& instance,
                          const std::map<std::string, std::string>& query);
  bool Authorized(const HttpRequest& request, Dialect dialect,
                  const std::map<std::string, std::string>& query) const;

  Options options_;
  std::mutex mu_;
  std::map<std::string, Instance> instances_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace routeall::fake_upstream

#endif  // ROUTEALL_TOOLS_FAKE_UPSTREAM_FAKE_UPSTREAM_H_
