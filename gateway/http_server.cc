// HttpServer: Beast accept/read loop on io threads, handlers on an elastic worker pool.
#include "gateway/http_server.h"

#include <future>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace routeall::gateway {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpServer::Shared {
  explicit Shared(const HttpServerOptions& opts, HttpHandler h)
      : options(opts), handler(std::move(h)), ioc(opts.io_threads),
        acceptor(net::make_strand(ioc)), workers(opts.min_workers, opts.max_workers) {}

  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor;
  ElasticThreadPool workers;
  std::atomic<int> in_flight{0};
  HttpServerStats stats;
  // Keeps the io threads running while handlers still write on workers: once the acceptor is
  // closed at shutdown nothing else may be pending, and io_context::run() would return,
  // leaving in-flight streams hanging instead of draining.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::atomic<bool> stopping{false};
  std::atomic<bool> io_stopped{false};
};

namespace {

HttpResponse OpenAIStyleError(http::status status, std::string_view type, std::string_view message) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  nlohmann::json body = {{"error", {{"message", message}, {"type", type}, {"code", nullptr}}}};
  res.body() = body.dump();
  res.prepare_payload();
  return res;
}

class Session : public std::enable_shared_from_this<Session>, public ResponseWriter {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    shared_->stats.open_connections.fetch_add(1);
  }
  ~Session() override { shared_->stats.open_connections.fetch_sub(1); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // ResponseWriter
  bool Send(HttpResponse res) override {
    if (started_ || broken_) return false;
    started_ = true;
    finished_ = true;
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    auto sp = std::make_shared<HttpResponse>(std::move(res));
    return Blocking([this, sp](std::function<void(bool)> done) {
      stream_.expires_after(shared_->options.write_timeout);
      http::async_write(stream_, *sp, [sp, done](beast::error_code ec, size_t) { done(!ec); });
    });
  }

  bool BeginStream(http::response_header<> header) override {
    if (started_ || broken_) return false;
    started_ = true;
    streaming_ = true;
    auto res = std::make_shared<http::response<http::empty_body>>(std::move(header));
    res->version(11);
    res->keep_alive(keep_alive_);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    return Blocking([this, res, sr](std::function<void(bool)> done) {
      stream_.expires_after(shared_->options.write_timeout);
      http::async_write_header(stream_, *sr, [res, sr, done](beast::error_code ec, size_t) { done(!ec); });
    });
  }

  bool Write(std::string_view data) override {
    if (!streaming_ || finished_ || broken_) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    return Blocking([this, data](std::function<void(bool)> done) {
      stream_.expires_after(shared_->options.write_timeout);
      net::async_write(stream_, http::make_chunk(net::const_buffer(data.data(), data.size())),
                       [done](beast::error_code ec, size_t) { done(!ec); });
    });
  }

  bool EndStream(const http::fields* trailers) override {
    if (!streaming_ || finished_ || broken_) return false;
    finished_ = true;
    auto fields = std::make_shared<http::fields>(trailers ? *trailers : http::fields());
    return Blocking([this, fields](std::function<void(bool)> done) {
      stream_.expires_after(shared_->options.write_timeout);
      net::async_write(stream_, http::make_chunk_last(*fields),
                       [fields, done](beast::error_code ec, size_t) { done(!ec); });
    });
  }

  bool Started() const override { return started_; }

 private:
  // Runs op on the connection's strand and waits for its completion; a failed write marks
  // the connection broken so the handler learns the client is gone.
  bool Blocking(const std::function<void(std::function<void(bool)>)>& op) {
    auto p = std::make_shared<std::promise<bool>>();
    auto fut = p->get_future();
    net::post(stream_.get_executor(), [self = shared_from_this(), op, p] {
      op([p](bool ok) { p->set_value(ok); });
    });
    while (fut.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
      if (shared_->io_stopped.load()) {
        broken_ = true;
        return false;
      }
    }
    bool ok = fut.get();
    if (!ok) broken_ = true;
    return ok;
  }

  HttpResponse PlainError(http::status status, std::string_view type, std::string_view message) const {
    std::string_view target = parser_ ? std::string_view(parser_->get().target().data(), parser_->get().target().size())
                                      : std::string_view();
    if (shared_->options.error_renderer) return shared_->options.error_renderer(target, status, type, message);
    return OpenAIStyleError(status, type, message);
  }

  // Waits for the first byte of the next request under the idle timeout; only then does the
  // (short) header timeout start, so a keep-alive client may idle but not trickle.
  void DoRead() {
    if (shared_->stopping.load()) return Close();
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(shared_->options.max_header_bytes));
    if (buffer_.size() > 0) return DoReadHeader();
    stream_.expires_after(shared_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->DoReadHeader();
    });
  }

  void DoReadHeader() {
    // Fast path: a small request usually arrives whole in the first read; parse what is
    // buffered now instead of paying another async round trip (and its timer) for it.
    if (buffer_.size() > 0) {
      beast::error_code ec;
      parser_->eager(true);
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) return OnRead(ec);
      if (parser_->is_header_done()) return OnHeader();
    }
    stream_.expires_after(shared_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == beast::error::timeout) self->shared_->stats.header_timeouts.fetch_add(1);
      if (ec) return self->OnRead(ec);
      self->OnHeader();
    });
  }

  void OnHeader() {
    const auto& h = parser_->get();
    // Only "chunked" is a body framing we accept; anything else (or both framings at once,
    // the request-smuggling shape) is refused before a byte of body is read.
    auto te = h.find(http::field::transfer_encoding);
    if (te != h.end()) {
      std::string v(te->value());
      for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
      if (v != "chunked") {
        return SendAndClose(PlainError(http::status::bad_request, "invalid_request_error",
                                       "Transfer-Encoding other than 'chunked' is not supported."));
      }
      if (h.find(http::field::content_length) != h.end()) {
        return SendAndClose(PlainError(http::status::bad_request, "invalid_request_error",
                                       "A request may not carry both Content-Length and Transfer-Encoding."));
      }
    }
    auto length = parser_->content_length();
    const bool small = length && *length <= shared_->options.pre_auth_body_bytes;
    if (small || !shared_->options.header_check || parser_->is_done()) return DoReadBody();
    // A large (or unknown-length) body: ask whether this client may send it before reading it.
    stream_.expires_never();
    auto header = std::make_shared<http::request_header<>>(h.base());
    bool queued = shared_->workers.Submit([self = shared_from_this(), header] {
      std::optional<HttpResponse> refusal;
      try {
        refusal = self->shared_->options.header_check(*header);
      } catch (const std::exception& e) {
        LogError("header check threw", {{"error", e.what()}});
        refusal = self->PlainError(http::status::internal_server_error, "server_error", "internal error");
      }
      net::post(self->stream_.get_executor(), [self, refusal = std::move(refusal)]() mutable {
        if (refusal) {
          self->shared_->stats.refused_before_body.fetch_add(1);
          return self->SendAndClose(std::move(*refusal));
        }
        self->ContinueAfterCheck();
      });
    });
    if (!queued) {
      SendAndClose(PlainError(http::status::service_unavailable, "server_error",
                              "the gateway is at its concurrency limit; retry shortly"));
    }
  }

  void ContinueAfterCheck() {
    const auto& h = parser_->get();
    auto expect = h.find(http::field::expect);
    if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(shared_->options.write_timeout);
      return net::async_write(stream_, net::buffer(kContinue), [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->DoReadBody();
      });
    }
    DoReadBody();
  }

  void DoReadBody() {
    if (parser_->is_done()) return OnRead({});
    stream_.expires_after(shared_->options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return SendAndClose(PlainError(http::status::payload_too_large, "invalid_request_error",
                                     "request body is too large"));
    }
    if (ec == http::error::header_limit) {
      return SendAndClose(PlainError(http::status::request_header_fields_too_large,
                                     "invalid_request_error", "request headers are too large"));
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec) {
      return SendAndClose(PlainError(http::status::bad_request, "invalid_request_error",
                                     absl::StrCat("malformed HTTP request: ", ec.message())));
    }
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    started_ = streaming_ = finished_ = broken_ = false;
    stream_.expires_never();
    shared_->in_flight.fetch_add(1);
    bool queued = shared_->workers.Submit([self = shared_from_this()] { self->RunHandler(); });
    if (!queued) {
      shared_->in_flight.fetch_sub(1);
      SendAndClose(PlainError(http::status::service_unavailable, "server_error",
                              "the gateway is at its concurrency limit; retry shortly"));
    }
  }

  void RunHandler() {
    try {
      shared_->handler(req_, *this);
    } catch (const std::exception& e) {
      // Handlers report errors as responses; an escaped exception is a bug, not a crash.
      // The path only: a query may carry a credential (?key= on Gemini routes).
      std::string_view target(req_.target().data(), req_.target().size());
      LogError("handler threw", {{"error", e.what()}, {"path", std::string(target.substr(0, target.find('?')))}});
    }
    if (!started_) {
      Send(PlainError(http::status::internal_server_error, "server_error", "internal error"));
    } else if (streaming_ && !finished_) {
      EndStream(nullptr);
    }
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->AfterExchange(); });
  }

  void AfterExchange() {
    shared_->in_flight.fetch_sub(1);
    if (broken_ || !keep_alive_ || shared_->stopping.load()) return Close();
    DoRead();
  }

  void SendAndClose(HttpResponse res) {
    res.keep_alive(false);
    auto sp = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *sp, [self = shared_from_this(), sp](beast::error_code, size_t) {
      self->Close();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest req_;
  std::shared_ptr<HttpServer::Shared> shared_;
  bool keep_alive_ = false;
  bool started_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool broken_ = false;
};

void DoAccept(std::shared_ptr<HttpServer::Shared> shared);

// accept() failing for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) would fail again
// at once: back off instead of spinning a core, and keep serving the connections we have.
void BackOffAccept(std::shared_ptr<HttpServer::Shared> shared, const beast::error_code& ec) {
  int64_t n = shared->stats.accept_errors.fetch_add(1) + 1;
  if ((n & (n - 1)) == 0) LogWarn("accept failed; backing off", {{"error", ec.message()}, {"count", n}});
  auto timer = std::make_shared<net::steady_timer>(shared->acceptor.get_executor(), std::chrono::milliseconds(100));
  timer->async_wait([shared, timer](beast::error_code) {
    if (!shared->stopping.load()) DoAccept(shared);
  });
}

void DoAccept(std::shared_ptr<HttpServer::Shared> shared) {
  auto* raw = shared.get();
  raw->acceptor.async_accept(net::make_strand(raw->ioc), [shared](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (shared->stopping.load() || ec == net::error::operation_aborted) return;
      return BackOffAccept(shared, ec);
    }
    beast::error_code ignored;
    if (shared->stats.open_connections.load() >= shared->options.max_connections) {
      // Over the cap: a canned 503 written without blocking (best effort), then close.
      shared->stats.rejected_connections.fetch_add(1);
      static const std::string kFull = [] {
        std::string body =
            R"({"error":{"message":"too many open connections; retry shortly","type":"server_error","code":"overloaded"}})";
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
      }();
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kFull), ignored);
      socket.close(ignored);
      return DoAccept(shared);
    }
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), shared)->Start();
    DoAccept(shared);
  });
}

}  // namespace

std::string QueryParam(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->shared_ = std::make_shared<Shared>(options, std::move(handler));
  auto& acc = server->shared_->acceptor;
  beast::error_code ec;
  auto addr = net::ip::make_address(options.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad --host: ", options.host));
  tcp::endpoint ep(addr, static_cast<unsigned short>(options.port));
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", ec.message()));
  }
  server->port_ = acc.local_endpoint().port();
  server->shared_->work.emplace(server->shared_->ioc.get_executor());
  DoAccept(server->shared_);
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    server->io_threads_.emplace_back([shared = server->shared_] { shared->ioc.run(); });
  }
  return server;
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  shared_->stopping = true;
  net::post(shared_->acceptor.get_executor(), [shared = shared_] {
    beast::error_code ec;
    shared->acceptor.close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + drain;
  while (shared_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  shared_->io_stopped = true;
  shared_->work.reset();
  shared_->ioc.stop();
  for (auto& t : io_threads_) t.join();
  shared_->workers.Stop();
}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

const HttpServerStats& HttpServer::stats() const { return shared_->stats; }

}  // namespace routeall::gateway
