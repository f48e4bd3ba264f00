// HttpServer over loopback: keep-alive, flushed streaming, limits, handler failures.
#include "gateway/http_server.h"

#include <gtest/gtest.h>

#include <future>

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

}  // namespace
}  // namespace routeall::gateway
