// Socket smoke tests: the Beast server on an ephemeral loopback port, driven by a Beast client.
#include <gtest/gtest.h>

#include <chrono>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "fake_upstream.h"
#include "server.h"

namespace routeall::fake_upstream {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : app_(Options{}), server_(app_, "127.0.0.1", 0, 2) { server_.Start(); }
  ~ServerTest() override { server_.Stop(); }

  void Connect(beast::tcp_stream& stream) {
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_.port()));
    stream.expires_after(std::chrono::seconds(10));
  }

  http::request<http::string_body> Post(const std::string& target, const std::string& body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  FakeUpstream app_;
  Server server_;
};

TEST_F(ServerTest, KeepAliveServesHealthzThenChunkedStream) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  Connect(stream);
  beast::flat_buffer buffer;

  http::request<http::string_body> health{http::verb::get, "/healthz", 11};
  health.set(http::field::host, "127.0.0.1");
  http::write(stream, health);
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "ok");

  // Same connection: a streamed OpenAI completion with usage.
  http::write(stream, Post("/v1/chat/completions",
                           R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
                               "messages":[{"role":"user","content":"[[fake words=3 chunk_delay_ms=1]]"}]})"));
  http::response<http::string_body> streamed;
  http::read(stream, buffer, streamed);
  EXPECT_EQ(streamed.result_int(), 200u);
  EXPECT_TRUE(streamed.chunked());
  EXPECT_EQ(streamed[http::field::content_type], "text/event-stream; charset=utf-8");
  const std::string& body = streamed.body();
  EXPECT_NE(body.find(R"("content":" w3")"), std::string::npos);
  EXPECT_NE(body.find(R"("choices":[],"usage":{"prompt_tokens")"), std::string::npos);
  EXPECT_EQ(body.substr(body.size() - 14), "data: [DONE]\n\n");
}

TEST_F(ServerTest, ResetAndFailAfterChunksBreakTheConnection) {
  net::io_context ioc;
  {
    beast::tcp_stream stream(ioc);
    Connect(stream);
    http::write(stream, Post("/v1/chat/completions",
                             R"({"model":"m","messages":[{"role":"user","content":"[[fake reset=1]]"}]})"));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(stream, buffer, res, ec);
    EXPECT_TRUE(ec) << "expected the connection to be dropped";
  }
  {
    beast::tcp_stream stream(ioc);
    Connect(stream);
    http::write(stream, Post("/v1/chat/completions",
                             R"({"model":"m","stream":true,
                                 "messages":[{"role":"user","content":"[[fake words=5 fail_after_chunks=2]]"}]})"));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    EXPECT_EQ(ec, http::error::partial_message);
    EXPECT_NE(parser.get().body().find(R"(" w2")"), std::string::npos);
    EXPECT_EQ(parser.get().body().find(R"(" w3")"), std::string::npos);
  }
}

TEST_F(ServerTest, LatencyDelaysTheResponse) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  Connect(stream);
  const auto start = std::chrono::steady_clock::now();
  http::write(stream, Post("/v1/chat/completions",
                           R"({"model":"m","messages":[{"role":"user","content":"[[fake latency_ms=150]]"}]})"));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
}

}  // namespace
}  // namespace routeall::fake_upstream
