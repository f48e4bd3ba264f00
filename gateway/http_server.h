// HTTP/1.1 server on Boost.Beast: keep-alive, TCP_NODELAY, bounded bodies, and handlers
// that run on a worker thread and may stream (SSE) with blocking, flushed writes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/statusor.h"
#include "common/thread_pool.h"

namespace routeall::gateway {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// How a handler answers. Every call blocks the handler's thread until the bytes are handed
// to the socket, so a slow client slows its own upstream read and nothing else.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends one complete response (Content-Length set from the body).
  virtual bool Send(HttpResponse response) = 0;
  // Starts a chunked response; returns false when the client is gone.
  virtual bool BeginStream(http::response_header<> header) = 0;
  // Writes one chunk and flushes it; returns false when the client is gone.
  virtual bool Write(std::string_view data) = 0;
  // Ends the chunked response, with trailer fields when given (announce them with a
  // "Trailer" header in BeginStream).
  virtual bool EndStream(const http::fields* trailers = nullptr) = 0;
  // Whether anything was sent yet (the failover loop may only retry before that).
  virtual bool Started() const = 0;
};

using HttpHandler = std::function<void(const HttpRequest&, ResponseWriter&)>;

// The raw value of query parameter `name` in a request target ("" when absent). Values are
// not percent-decoded: callers only accept plain tokens (ids, RFC 3339 times).
std::string QueryParam(std::string_view target, std::string_view name);

// Decides, from the headers alone, whether a request may send a large body (the key is
// valid): nullopt to go on reading, or the response to answer with (the body is never read).
// Runs on a worker thread (it may ask the auth service).
using HeaderCheck = std::function<std::optional<HttpResponse>(const http::request_header<>& header)>;

// Renders a transport-level error (413, 431, 400, 503 at capacity) in the dialect the target
// belongs to. `type`/`code` are OpenAI-style names; dialects map them.
using TransportErrorRenderer = std::function<HttpResponse(std::string_view target, http::status status,
                                                          std::string_view type, std::string_view message)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int io_threads = 2;
  int min_workers = 4;
  int max_workers = 4096;
  size_t max_body_bytes = 32 << 20;
  // Bodies larger than this (or of unknown length: chunked) are read only after header_check
  // accepted the request, so an unauthenticated client can make us buffer at most this much.
  size_t pre_auth_body_bytes = 1 << 20;
  size_t max_header_bytes = 32 * 1024;
  // Open connections beyond this are answered 503 and closed at once.
  int max_connections = 10000;
  // A keep-alive connection may wait this long for the first byte of its next request...
  std::chrono::seconds idle_timeout{75};
  // ...and then has this long for the whole header block (slow-loris), and for the body.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{60};
  // A client that does not take a chunk within this time is treated as gone.
  std::chrono::seconds write_timeout{60};
  HeaderCheck header_check;
  TransportErrorRenderer error_renderer;
};

// Counters the edge exports (read any time, from any thread).
struct HttpServerStats {
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> rejected_connections{0};  // over max_connections
  std::atomic<int64_t> accept_errors{0};         // EMFILE and friends, each backed off
  std::atomic<int64_t> header_timeouts{0};
  std::atomic<int64_t> refused_before_body{0};   // header_check said no
};

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler);
  ~HttpServer();

  int port() const { return port_; }
  const HttpServerStats& stats() const;
  // Stops accepting, waits up to drain for in-flight exchanges, then closes everything.
  void Stop(std::chrono::milliseconds drain);

  struct Shared;

 private:
  HttpServer() = default;

  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace routeall::gateway
