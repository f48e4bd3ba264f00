// HttpServer over loopback: keep-alive, flushed streaming, limits, handler failures.
#include "gateway/http_server.h"

#include <gtest/gtest.h>

#include <future>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/sse.h"

namespace routeall::gateway {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler h, HttpServerOptions opts = {}) {
    auto s = HttpServer::Start(opts, std::move(h));
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  tcp::socket Connect() {
    tcp::socket sock(ioc_);
    sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())));
    return sock;
  }
  static http::response<http::string_body> Get(tcp::socket& sock, beast::flat_buffer& buf,
                                                std::string target, std::string body = "") {
    http::request<http::string_body> req{body.empty() ? http::verb::get : http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = body;
    req.prepare_payload();
    http::write(sock, req);
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    return res;
  }

  net::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest& req, ResponseWriter& out) {
    ++calls;
    HttpResponse res{http::status::ok, 11};
    res.body() = std::string(req.target()) + ":" + req.body();
    out.Send(std::move(res));
  });
  auto sock = Connect();
  beast::flat_buffer buf;
  auto r1 = Get(sock, buf, "/a", "x");
  auto r2 = Get(sock, buf, "/b");
  EXPECT_EQ(r1.body(), "/a:x");
  EXPECT_EQ(r2.body(), "/b:");
  EXPECT_TRUE(r2.keep_alive());
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(HttpServerTest, StreamedChunksArriveBeforeTheHandlerFinishes) {
  std::promise<void> first_seen;
  auto first_seen_f = first_seen.get_future().share();
  StartServer([&, first_seen_f](const HttpRequest&, ResponseWriter& out) {
    SseWriter sse(out);
    ASSERT_TRUE(sse.Begin());
    ASSERT_TRUE(sse.Data("one"));
    // The client must see "one" while we are still inside the handler: nothing is buffered.
    ASSERT_EQ(first_seen_f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    sse.Data("[DONE]");
  });
  auto sock = Connect();
  beast::flat_buffer buf;
  http::request<http::empty_body> req{http::verb::get, "/s", 11};
  http::write(sock, req);
  http::response_parser<http::string_body> parser;
  http::read_header(sock, buf, parser);
  EXPECT_EQ(parser.get()[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_TRUE(parser.chunked());
  // read_header may have pulled the first chunk into buf already.
  std::string raw = beast::buffers_to_string(buf.data());
  while (raw.find("data: one\n\n") == std::string::npos) {
    char tmp[256];
    size_t n = sock.read_some(net::buffer(tmp));
    raw.append(tmp, n);
  }
  first_seen.set_value();
  while (raw.find("0\r\n\r\n") == std::string::npos) {
    char tmp[256];
    size_t n = sock.read_some(net::buffer(tmp));
    raw.append(tmp, n);
  }
  EXPECT_NE(raw.find("data: [DONE]\n\n"), std::string::npos);
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  StartServer([&](const HttpRequest&, ResponseWriter& out) { ++calls; out.Send(HttpResponse{http::status::ok, 11}); }, opts);
  auto sock = Connect();
  beast::flat_buffer buf;
  auto res = Get(sock, buf, "/big", std::string(4096, 'x'));
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_NE(res.body().find("\"error\""), std::string::npos);
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, HandlerThatThrowsOrForgetsToAnswerGets500) {
  StartServer([](const HttpRequest& req, ResponseWriter&) {
    if (req.target() == "/throw") throw std::runtime_error("boom");
  });
  auto sock = Connect();
  beast::flat_buffer buf;
  EXPECT_EQ(Get(sock, buf, "/throw").result(), http::status::internal_server_error);
  EXPECT_EQ(Get(sock, buf, "/silent").result(), http::status::internal_server_error);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  StartServer([](const HttpRequest&, ResponseWriter& out) { out.Send(HttpResponse{http::status::ok, 11}); });
  auto sock = Connect();
  net::write(sock, net::buffer(std::string("GARBAGE\x01 / HTTP/1.1\r\n\r\n")));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  EXPECT_EQ(res.result(), http::status::bad_request);
}

TEST_F(HttpServerTest, ClientGoneMakesWritesFail) {
  std::promise<bool> write_failed;
  std::promise<void> headers_sent;
  StartServer([&](const HttpRequest&, ResponseWriter& out) {
    SseWriter sse(out);
    sse.Begin();
    headers_sent.set_value();
    bool failed = false;
    for (int i = 0; i < 2000 && !failed; ++i) {
      failed = !sse.Data(std::string(4096, 'x'));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    write_failed.set_value(failed);
  });
  {
    auto sock = Connect();
    http::request<http::empty_body> req{http::verb::get, "/s", 11};
    http::write(sock, req);
    headers_sent.get_future().wait();
    sock.set_option(net::socket_base::linger(true, 0));
    sock.close();
  }
  auto f = write_failed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(f.get());
}

// Limits on what a client may make the edge hold (time, connections, bytes).
class HttpLimitsTest : public HttpServerTest {
 protected:
  void StartServer(HttpServerOptions opts) {
    HttpServerTest::StartServer(
        [this](const HttpRequest& req, ResponseWriter& out) {
          ++calls_;
          HttpResponse res{http::status::ok, 11};
          res.body() = "got " + std::to_string(req.body().size());
          out.Send(std::move(res));
        },
        opts);
  }
  // Reads whatever the server sends until it closes (or timeout).
  static std::string ReadAll(tcp::socket& sock, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    struct timeval tv{static_cast<time_t>(timeout.count()), 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(sock.native_handle(), buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  std::atomic<int> calls_{0};
};

TEST_F(HttpLimitsTest, SlowLorisHeaderIsCutAtTheHeaderTimeout) {
  HttpServerOptions opts;
  opts.header_timeout = std::chrono::seconds(1);
  StartServer(opts);
  auto sock = Connect();
  auto start = std::chrono::steady_clock::now();
  net::write(sock, net::buffer(std::string("GET / HTTP/1.1\r\n")));
  // Trickle one header byte every 200 ms: each byte arrives well within any idle timeout.
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    beast::error_code ec;
    net::write(sock, net::buffer(std::string("X")), ec);
    closed = static_cast<bool>(ec);
    char b;
    ssize_t n = ::recv(sock.native_handle(), &b, 1, MSG_DONTWAIT);
    if (n == 0) closed = true;
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_LT(took, std::chrono::seconds(4));
  EXPECT_EQ(server_->stats().header_timeouts.load(), 1);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpLimitsTest, NonChunkedTransferEncodingAndSmugglingShapeAre400) {
  StartServer({});
  for (std::string req : {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                          "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
    auto sock = Connect();
    net::write(sock, net::buffer(req));
    std::string res = ReadAll(sock);
    EXPECT_EQ(res.rfind("HTTP/1.1 400", 0), 0u) << req << "\n" << res;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpLimitsTest, LargeBodyIsReadOnlyAfterTheHeaderCheckAccepts) {
  HttpServerOptions opts;
  opts.pre_auth_body_bytes = 1024;
  std::atomic<int> checks{0};
  opts.header_check = [&](const http::request_header<>& h) -> std::optional<HttpResponse> {
    ++checks;
    if (h["authorization"] == "Bearer good") return std::nullopt;
    HttpResponse r{http::status::unauthorized, 11};
    r.body() = "no";
    return r;
  };
  StartServer(opts);
  {
    // A bad key announcing 20 MiB gets its 401 without sending a byte of body.
    auto sock = Connect();
    net::write(sock, net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\n"
                                             "Content-Length: 20971520\r\n\r\n")));
    std::string res = ReadAll(sock);
    EXPECT_EQ(res.rfind("HTTP/1.1 401", 0), 0u) << res;
  }
  {
    auto sock = Connect();
    std::string body(200000, 'x');
    net::write(sock, net::buffer("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nConnection: close\r\n"
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    std::string res = ReadAll(sock);
    EXPECT_NE(res.find("got 200000"), std::string::npos) << res.substr(0, 200);
  }
  {
    // Small bodies never wait for the check.
    auto sock = Connect();
    net::write(sock, net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc")));
    EXPECT_NE(ReadAll(sock).find("got 3"), std::string::npos);
  }
  EXPECT_EQ(checks.load(), 2);
  EXPECT_EQ(server_->stats().refused_before_body.load(), 1);
}

TEST_F(HttpLimitsTest, ConnectionsBeyondTheCapGet503AndTheServerKeepsServing) {
  HttpServerOptions opts;
  opts.max_connections = 5;
  StartServer(opts);
  std::vector<tcp::socket> held;
  for (int i = 0; i < 5; ++i) held.push_back(Connect());
  // Let the server register them.
  for (int i = 0; i < 100 && server_->stats().open_connections.load() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto extra = Connect();
  std::string res = ReadAll(extra);
  EXPECT_EQ(res.rfind("HTTP/1.1 503", 0), 0u) << res;
  EXPECT_GE(server_->stats().rejected_connections.load(), 1);
  held.clear();
  for (int i = 0; i < 100 && server_->stats().open_connections.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto again = Connect();
  net::write(again, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  EXPECT_EQ(ReadAll(again).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(HttpLimitsTest, AcceptOutOfFilesBacksOffInsteadOfSpinning) {
  StartServer({});
  // Our client socket exists before the descriptors run out (connect needs none more).
  tcp::socket client(ioc_);
  client.open(tcp::v4());
  // Use up descriptors so the server's accept() fails with EMFILE.
  std::vector<int> fds;
  for (;;) {
    int fd = ::dup(0);
    if (fd < 0) break;
    fds.push_back(fd);
    if (fds.size() > 200000) break;
  }
  ASSERT_FALSE(fds.empty());
  beast::error_code ec;
  client.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())), ec);
  ASSERT_FALSE(ec) << ec.message();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  int64_t errors = server_->stats().accept_errors.load();
  EXPECT_GE(errors, 1);
  EXPECT_LE(errors, 20) << "accept must back off (100 ms), not spin";
  for (int fd : fds) ::close(fd);
  // Descriptors are back: the pending connection is accepted and served.
  net::write(client, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  EXPECT_EQ(ReadAll(client).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(HttpServerTest, StopDrainsAStreamInFlight) {
  std::promise<void> started;
  StartServer([&](const HttpRequest&, ResponseWriter& out) {
    SseWriter sse(out);
    sse.Begin();
    started.set_value();
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      sse.Data("chunk" + std::to_string(i));
    }
    sse.Data("[DONE]");
  });
  auto sock = Connect();
  http::request<http::empty_body> req{http::verb::get, "/s", 11};
  req.set(http::field::host, "x");
  http::write(sock, req);
  started.get_future().wait();
  // SIGTERM: stop accepting, let the stream in flight finish (the acceptor is the only other
  // pending work; the io threads must keep running for the handler's writes).
  std::thread stopper([this] { server_->Stop(std::chrono::seconds(10)); });
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(sock, buf, res, ec);
  stopper.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_NE(res.body().find("chunk9"), std::string::npos);
  EXPECT_NE(res.body().find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace routeall::gateway
