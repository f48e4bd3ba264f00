// Async (callback-style) Beast server: one Session per connection plays a ResponsePlan,
// writing and flushing every streamed event on its own so timing knobs are observable.
#include "server.h"

#include <chrono>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace routeall::fake_upstream {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr uint64_t kBodyLimit = 64ull * 1024 * 1024;
constexpr std::chrono::seconds kIdleTimeout{300};
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, FakeUpstream& app)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), app_(app) {}

  void Run() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  using Step = void (Session::*)();

  void DoRead() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return DoClose();
    // Clients such as curl wait for "100 Continue" before sending larger bodies.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                         if (write_ec) return self->DoClose();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return DoClose();
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name = ToLower(std::string(field.name_string()));
      auto [it, inserted] = request.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    request.body = std::move(req.body());
    plan_ = app_.Handle(request);
    if (plan_.reset_connection) return DoReset();
    stream_.expires_never();  // delays are deliberate; never time them out
    After(plan_.latency_ms, &Session::SendHead);
  }

  void After(int64_t delay_ms, Step next) {
    if (delay_ms <= 0) return (this->*next)();
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([self = shared_from_this(), next](beast::error_code ec) {
      if (ec) return self->DoClose();
      ((*self).*next)();
    });
  }

  template <class Message>
  void FillHead(Message& res) {
    res.version(11);
    res.result(static_cast<unsigned>(plan_.status));
    if (plan_.status == 529) res.reason("Site Overloaded");
    res.set(http::field::server, "routeall-fake-upstream");
    for (const auto& [name, value] : plan_.headers) res.set(name, value);
    res.keep_alive(keep_alive_);
  }

  void SendHead() {
    if (!plan_.streaming) {
      response_.emplace();
      FillHead(*response_);
      response_->body() = std::move(plan_.body);
      response_->prepare_payload();
      http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->response_.reset();
        self->FinishResponse(ec);
      });
      return;
    }
    head_.emplace();
    FillHead(*head_);
    head_->chunked(true);
    serializer_.emplace(*head_);
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->DoClose();
      self->next_chunk_ = 0;
      self->After(self->plan_.ttft_ms, &Session::WriteChunk);
    });
  }

  void WriteChunk() {
    if (plan_.abort_after && next_chunk_ == *plan_.abort_after) return DoClose();  // fault: no last chunk
    if (plan_.ping_forever_after && next_chunk_ == *plan_.ping_forever_after) {
      // Fault: pings until the reader gives up (a write error ends it).
      return net::async_write(stream_, http::make_chunk(net::buffer(plan_.ping_chunk)),
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->DoClose();
                                self->After(self->plan_.ping_interval_ms, &Session::WriteChunk);
                              });
    }
    if (next_chunk_ == plan_.chunks.size()) {
      net::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->serializer_.reset();
        self->head_.reset();
        self->FinishResponse(ec);
      });
      return;
    }
    net::async_write(stream_, http::make_chunk(net::buffer(plan_.chunks[next_chunk_])),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->DoClose();
                       ++self->next_chunk_;
                       const bool more = self->next_chunk_ < self->plan_.chunks.size();
                       self->After(more ? self->plan_.chunk_delay_ms : 0, &Session::WriteChunk);
                     });
  }

  void FinishResponse(beast::error_code ec) {
    if (ec) return DoClose();
    if (!keep_alive_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    plan_ = ResponsePlan();
    DoRead();
  }

  void DoClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  // Linger 0 makes close() send RST, like an upstream that drops the connection.
  void DoReset() {
    beast::error_code ignored;
    stream_.socket().set_option(net::socket_base::linger(true, 0), ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  FakeUpstream& app_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  ResponsePlan plan_;
  std::optional<http::response<http::string_body>> response_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::size_t next_chunk_ = 0;
};

net::ip::address ParseHost(const std::string& host) {
  if (host == "localhost") return net::ip::make_address("127.0.0.1");
  return net::ip::make_address(host);
}

}  // namespace

Server::Server(FakeUpstream& app, const std::string& host, uint16_t port, int threads)
    : app_(app), acceptor_(ioc_), threads_(threads < 1 ? 1 : threads) {
  const tcp::endpoint endpoint(ParseHost(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

Server::~Server() { Stop(); }

void Server::Start() {
  Accept();
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { ioc_.run(); });
}

void Server::Stop() {
  ioc_.stop();
  Wait();
}

void Server::Wait() {
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void Server::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), app_)->Run();
    }
    Accept();
  });
}

}  // namespace routeall::fake_upstream
