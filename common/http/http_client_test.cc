// Tests for BeastHttpClient against tiny raw-socket (and TLS) servers on 127.0.0.1.
#include "common/http/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "common/http/http_client_mock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routeall::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// Accepts connections on 127.0.0.1:<ephemeral> and runs `handler(fd, index)` on its own thread
// for each; the fd is closed when the handler returns.
class TestServer {
 public:
  using Handler = std::function<void(int fd, int index)>;
  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    if (::listen(listen_fd_, 64) != 0) std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        timeval tv{10, 0};  // a misbehaving client must not hang the test forever
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int index = connections_.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu_);
        workers_.emplace_back([this, fd, index] {
          handler_(fd, index);
          ::close(fd);
        });
      }
    });
  }
  ~TestServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }
  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  std::string Url(const std::string& path = "/v1/x", const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

// Reads one request (head + Content-Length body); `buf` carries extra bytes. nullopt on EOF.
std::optional<std::string> ReadRequest(int fd, std::string& buf) {
  for (;;) {
    size_t he = buf.find("\r\n\r\n");
    if (he != std::string::npos) {
      std::string head = buf.substr(0, he);
      for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t cl = 0;
      if (size_t p = head.find("content-length:"); p != std::string::npos) cl = std::stoul(head.substr(p + 15));
      if (buf.size() >= he + 4 + cl) {
        std::string req = buf.substr(0, he + 4 + cl);
        buf.erase(0, he + 4 + cl);
        return req;
      }
    }
    char tmp[4096];
    ssize_t r = ::recv(fd, tmp, sizeof tmp, 0);
    if (r <= 0) return std::nullopt;
    buf.append(tmp, static_cast<size_t>(r));
  }
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w <= 0) return;
    data.remove_prefix(static_cast<size_t>(w));
  }
}

// True if the peer closed (EOF or reset) within `timeout`.
bool WaitForClose(int fd, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char tmp[1024];
    ssize_t r = ::recv(fd, tmp, sizeof tmp, 0);
    if (r <= 0) return true;
  }
}

std::string Chunk(std::string_view s) {
  char len[32];
  std::snprintf(len, sizeof len, "%zx\r\n", s.size());
  return std::string(len) + std::string(s) + "\r\n";
}

std::string Ok(std::string_view body, std::string_view extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) +
         "\r\n" + std::string(body);
}

std::unique_ptr<BeastHttpClient> NewClient(BeastHttpClientOptions options = {}) {
  auto client = BeastHttpClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(client).value();
}

HttpClientRequest Post(const std::string& url, std::string body = "{\"q\":1}") {
  HttpClientRequest req;
  req.url = url;
  req.body = std::move(body);
  req.headers = {{"Content-Type", "application/json"}};
  return req;
}

TEST(HttpClientTest, UnaryContentLengthSendsDefaultHeaders) {
  std::promise<std::string> seen;
  TestServer server([&](int fd, int) {
    std::string buf;
    auto req = ReadRequest(fd, buf);
    seen.set_value(req.value_or(""));
    WriteAll(fd, Ok("hello", "X-Test: a\r\nX-Test: b\r\n"));
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url("/v1/chat?x=1")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->head.status, 200);
  EXPECT_EQ(resp->body, "hello");
  EXPECT_EQ(resp->head.Header("x-test"), "a");
  EXPECT_EQ(resp->head.Header("CONTENT-LENGTH"), "5");
  EXPECT_EQ(resp->head.Header("missing"), "");
  std::string req = seen.get_future().get();
  EXPECT_THAT(req, StartsWith("POST /v1/chat?x=1 HTTP/1.1\r\n"));
  EXPECT_THAT(req, HasSubstr("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"));
  EXPECT_THAT(req, HasSubstr("Content-Length: 7\r\n"));
  EXPECT_THAT(req, HasSubstr("User-Agent: routeall/0.1\r\n"));
  EXPECT_THAT(req, HasSubstr("Accept-Encoding: identity\r\n"));
  EXPECT_THAT(req, HasSubstr("\r\n\r\n{\"q\":1}"));
}

TEST(HttpClientTest, UnaryChunkedAndErrorStatusIsNotAnError) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk("{\"err") +
                     "3;ext=1\r\nor\"\r\n" + Chunk(":1}") + "0\r\nTrailer: x\r\n\r\n");
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->head.status, 429);
  EXPECT_EQ(resp->body, "{\"error\":1}");
}

TEST(HttpClientTest, ReadUntilCloseBodyAndNotPooled) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\n\r\nall of it");
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "all of it");
  EXPECT_EQ(client->IdleConnectionCount(), 0u);
}

TEST(HttpClientTest, InterimResponseSkipped) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 100 Continue\r\n\r\n" + Ok("x"));
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->head.status, 200);
  EXPECT_EQ(resp->body, "x");
}

// Serves every request on a connection with "<index>:<n>" until the client closes.
void KeepAliveHandler(int fd, int index) {
  std::string buf;
  int n = 0;
  while (ReadRequest(fd, buf)) WriteAll(fd, Ok(std::to_string(index) + ":" + std::to_string(n++)));
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  TestServer server(KeepAliveHandler);
  auto client = NewClient();
  for (int i = 0; i < 3; ++i) {
    auto resp = client->Send(Post(server.Url()));
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->body, "0:" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client->IdleConnectionCount(), 1u);
}

TEST(HttpClientTest, StaleConnectionClosedAfterRequestIsRetriedOnce) {
  // Connection 0 answers once, then reads the next request and closes without answering: the
  // keep-alive race. The client must resend on a fresh connection, invisibly.
  TestServer server([&](int fd, int index) {
    std::string buf;
    if (index == 0) {
      ReadRequest(fd, buf);
      WriteAll(fd, Ok("first"));
      ReadRequest(fd, buf);
      return;
    }
    while (ReadRequest(fd, buf)) WriteAll(fd, Ok("fresh"));
  });
  auto client = NewClient();
  auto a = client->Send(Post(server.Url()));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->body, "first");
  auto b = client->Send(Post(server.Url()));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->body, "fresh");
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, IdleConnectionClosedByServerIsNotUsed) {
  TestServer server([&](int fd, int index) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, Ok(std::to_string(index)));  // then close while the client holds it idle
  });
  auto client = NewClient();
  auto a = client->Send(Post(server.Url()));
  ASSERT_TRUE(a.ok()) << a.status();
  std::this_thread::sleep_for(100ms);
  auto b = client->Send(Post(server.Url()));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->body, "1");
}

TEST(HttpClientTest, FreshConnectionClosedBeforeResponseIsNotRetried) {
  // Only pooled connections are retried: on a fresh one the server really did refuse to answer.
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(ResponseStarted(resp.status()));
  EXPECT_TRUE(RetryableBeforeResponse(resp.status()));
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, ConnectionCloseHeaderNotReused) {
  std::atomic<int> closed_by_client{0};
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, Ok("x", "Connection: close\r\n"));
    // Keep the socket open: the client itself must decide not to reuse it, and close it.
    if (WaitForClose(fd, 5s)) closed_by_client++;
  });
  auto client = NewClient();
  for (int i = 0; i < 2; ++i) {
    auto resp = client->Send(Post(server.Url()));
    ASSERT_TRUE(resp.ok()) << resp.status();
  }
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client->IdleConnectionCount(), 0u);
  client.reset();
  // Both sockets were closed by the client (worker threads are joined by ~TestServer below).
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(closed_by_client.load(), 2);
}

TEST(HttpClientTest, StreamingDeliversPiecesBeforeServerFinishes) {
  std::promise<void> client_got_first;
  std::atomic<bool> delivered_early{false};
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     Chunk("data: 1\n\n"));
    delivered_early = client_got_first.get_future().wait_for(5s) == std::future_status::ready;
    WriteAll(fd, Chunk("data: 2\n\n") + "0\r\n\r\n");
  });
  auto client = NewClient();
  std::string got;
  int status = 0;
  bool first = true;
  absl::Status st = client->Stream(
      Post(server.Url()),
      [&](const HttpClientResponseHead& head) {
        status = head.status;
        return true;
      },
      [&](std::string_view piece) {
        got += piece;
        if (first) {
          first = false;
          client_got_first.set_value();
        }
        return true;
      });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(delivered_early.load());
  EXPECT_EQ(got, "data: 1\n\ndata: 2\n\n");
  EXPECT_EQ(client->IdleConnectionCount(), 1u);
}

TEST(HttpClientTest, AbortFromOnDataClosesUpstream) {
  std::promise<bool> server_saw_close;
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk("data: 1\n\n"));
    server_saw_close.set_value(WaitForClose(fd, 5s));
  });
  auto client = NewClient();
  auto start = std::chrono::steady_clock::now();
  absl::Status st = client->Stream(
      Post(server.Url()), [](const HttpClientResponseHead&) { return true; },
      [](std::string_view) { return false; });
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(ResponseStarted(st));
  auto fut = server_saw_close.get_future();
  ASSERT_EQ(fut.wait_for(2s), std::future_status::ready);
  EXPECT_TRUE(fut.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(client->IdleConnectionCount(), 0u);
}

TEST(HttpClientTest, AbortFromOnHead) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, Ok("body"));
  });
  auto client = NewClient();
  bool data_called = false;
  absl::Status st = client->Stream(
      Post(server.Url()), [](const HttpClientResponseHead&) { return false; },
      [&](std::string_view) { return data_called = true; });
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(data_called);
}

TEST(HttpClientTest, ConnectRefusedIsUnavailableQuickly) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);  // bound but not listening: connections are refused
  auto client = NewClient();
  auto start = std::chrono::steady_clock::now();
  auto resp = client->Send(Post("http://127.0.0.1:" + std::to_string(port) + "/"));
  ::close(fd);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("connect"));
  EXPECT_FALSE(ResponseStarted(resp.status()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(HttpClientTest, FirstByteTimeout) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WaitForClose(fd, 5s);
  });
  auto client = NewClient();
  auto req = Post(server.Url());
  req.first_byte_timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  auto resp = client->Send(req);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("first_byte_timeout"));
  EXPECT_FALSE(ResponseStarted(resp.status()));
  EXPECT_TRUE(RetryableBeforeResponse(resp.status()));
  EXPECT_GE(elapsed, 180ms);
  EXPECT_LT(elapsed, 2s);
}

TEST(HttpClientTest, IdleTimeoutMidBodySaysResponseStarted) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
    WaitForClose(fd, 5s);
  });
  auto client = NewClient();
  auto req = Post(server.Url());
  req.idle_timeout = 200ms;
  auto resp = client->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("idle_timeout"));
  EXPECT_TRUE(ResponseStarted(resp.status()));
  EXPECT_FALSE(RetryableBeforeResponse(resp.status()));
}

TEST(HttpClientTest, TotalTimeoutWhileTrickling) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 40; ++i) {
      WriteAll(fd, Chunk("x"));
      std::this_thread::sleep_for(50ms);
    }
    WriteAll(fd, "0\r\n\r\n");
  });
  auto client = NewClient();
  auto req = Post(server.Url());
  req.total_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto resp = client->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("total_timeout"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(HttpClientTest, ServerClosesMidBodySaysBytesReceived) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  });
  auto client = NewClient();
  std::string got;
  absl::Status st = client->Stream(
      Post(server.Url()), [](const HttpClientResponseHead&) { return true; },
      [&](std::string_view p) {
        got += p;
        return true;
      });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_TRUE(ResponseStarted(st));
  EXPECT_THAT(std::string(st.message()), StartsWith("response started: "));
  EXPECT_EQ(got, "0123456789");
}

TEST(HttpClientTest, ServerClosesInsideHeadSaysBytesReceived) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Le");
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ResponseStarted(resp.status()));
}

TEST(HttpClientTest, MalformedResponse) {
  TestServer server([&](int fd, int) {
    std::string buf;
    ReadRequest(fd, buf);
    WriteAll(fd, "SMTP ready\r\n\r\n");
  });
  auto client = NewClient();
  auto resp = client->Send(Post(server.Url()));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("malformed"));
}

TEST(HttpClientTest, InvalidArguments) {
  auto client = NewClient();
  for (const char* url : {"ftp://127.0.0.1/", "http://", "http://127.0.0.1:99999/", "http://127.0.0.1:0/",
                          "127.0.0.1:80/x", "http://a b/", "http://u@127.0.0.1/", "http://[::1/"}) {
    auto resp = client->Send(Post(url));
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
  auto req = Post("http://127.0.0.1:1/");
  req.headers.push_back({"X-Evil", "a\r\nHost: other"});
  EXPECT_EQ(client->Send(req).status().code(), absl::StatusCode::kInvalidArgument);
  req = Post("http://127.0.0.1:1/");
  req.method = "GET /x";
  EXPECT_EQ(client->Send(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, KeepAliveRoundTripIsFast) {
  // Guards against Nagle/delayed-ACK stalls (40 ms) and per-request reconnects.
  TestServer server(KeepAliveHandler);
  auto client = NewClient();
  ASSERT_TRUE(client->Send(Post(server.Url())).ok());
  std::vector<std::chrono::nanoseconds> times;
  for (int i = 0; i < 200; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto resp = client->Send(Post(server.Url()));
    times.push_back(std::chrono::steady_clock::now() - start);
    ASSERT_TRUE(resp.ok()) << resp.status();
  }
  std::sort(times.begin(), times.end());
  std::printf("keep-alive round trip: median %lld us, p90 %lld us\n",
              static_cast<long long>(times[100].count() / 1000), static_cast<long long>(times[180].count() / 1000));
  EXPECT_LT(times[100], 5ms);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, ManyThreadsConcurrently) {
  TestServer server(KeepAliveHandler);
  BeastHttpClientOptions options;
  options.max_idle_per_host = 4;
  auto client = NewClient(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto resp = client->Send(Post(server.Url()));
        if (resp.ok() && resp->head.status == 200) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_LE(client->IdleConnectionCount(), 4u);
  EXPECT_LT(server.connections(), 200);  // connections were reused
}

// ---- TLS ----

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

TestCert MakeSelfSignedCert(const char* san) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("routeall test"), -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<size_t>(len));
    BIO_free(bio);
    return s;
  };
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  TestCert out{to_string(cb), to_string(kb)};
  X509_free(x);
  EVP_PKEY_free(pkey);
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = MakeSelfSignedCert(san_);
    ca_file_ = ::testing::TempDir() + "/routeall_http_test_ca_" + std::to_string(::getpid()) + ".pem";
    std::ofstream(ca_file_) << cert_.cert_pem;
    server_ctx_.use_certificate_chain(boost::asio::buffer(cert_.cert_pem));
    server_ctx_.use_private_key(boost::asio::buffer(cert_.key_pem), boost::asio::ssl::context::pem);
    server_ = std::make_unique<TestServer>([this](int fd, int) {
      namespace net = boost::asio;
      net::io_context ioc;
      net::ip::tcp::socket sock(ioc);
      sock.assign(net::ip::tcp::v4(), ::dup(fd));
      net::ssl::stream<net::ip::tcp::socket&> tls(sock, server_ctx_);
      boost::system::error_code ec;
      tls.handshake(net::ssl::stream_base::server, ec);
      if (ec) return;
      std::string buf;
      for (;;) {
        size_t n = net::read_until(tls, net::dynamic_buffer(buf), "\r\n\r\n", ec);
        if (ec) return;
        buf.erase(0, n);
        std::string body = "secure " + std::to_string(++served_);
        net::write(tls, net::buffer(Ok(body)), ec);
        if (ec) return;
      }
    });
  }
  void TearDown() override {
    server_.reset();
    std::remove(ca_file_.c_str());
  }
  std::string Url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(server_->port()) + "/v1/x";
  }
  HttpClientRequest Get(const std::string& url) {
    HttpClientRequest req;
    req.method = "GET";
    req.url = url;
    req.connect_timeout = 5s;
    return req;
  }

  const char* san_ = "DNS:localhost,IP:127.0.0.1";
  TestCert cert_;
  std::string ca_file_;
  boost::asio::ssl::context server_ctx_{boost::asio::ssl::context::tls_server};
  std::atomic<int> served_{0};
  std::unique_ptr<TestServer> server_;
};

TEST_F(TlsTest, WithoutVerification) {
  BeastHttpClientOptions options;
  options.verify_tls = false;
  auto client = NewClient(options);
  auto resp = client->Send(Get(Url("127.0.0.1")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "secure 1");
}

TEST_F(TlsTest, VerifiedAgainstCaFileByIpAndNameAndReused) {
  BeastHttpClientOptions options;
  options.ca_file = ca_file_;
  auto client = NewClient(options);
  for (const char* host : {"127.0.0.1", "127.0.0.1", "localhost"}) {
    auto resp = client->Send(Get(Url(host)));
    ASSERT_TRUE(resp.ok()) << host << ": " << resp.status();
    EXPECT_EQ(resp->head.status, 200);
  }
  // The two 127.0.0.1 calls shared a connection; "localhost" is another pool key.
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(TlsTest, UntrustedCertificateIsUnavailable) {
  auto client = NewClient();  // system CAs do not include our self-signed cert
  auto resp = client->Send(Get(Url("127.0.0.1")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
  EXPECT_THAT(std::string(resp.status().message()), HasSubstr("verif"));
  EXPECT_FALSE(ResponseStarted(resp.status()));
}

class TlsMismatchTest : public TlsTest {
 protected:
  TlsMismatchTest() { san_ = "DNS:other.example"; }
};

TEST_F(TlsMismatchTest, HostnameMismatchIsRejected) {
  BeastHttpClientOptions options;
  options.ca_file = ca_file_;  // trusted, but issued for another name
  auto client = NewClient(options);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto resp = client->Send(Get(Url(host)));
    ASSERT_FALSE(resp.ok()) << host;
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable) << resp.status();
    EXPECT_THAT(std::string(resp.status().message()), HasSubstr("mismatch")) << resp.status();
  }
}

TEST(HttpClientCreateTest, MissingCaFileIsAnError) {
  BeastHttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(BeastHttpClient::Create(options).ok());
}

TEST(MockHttpClientTest, UsableForFailoverTests) {
  MockHttpClient mock;
  EXPECT_CALL(mock, Send(::testing::_))
      .WillOnce(::testing::Return(absl::UnavailableError("connect refused")))
      .WillOnce(::testing::Return(HttpClientResponse{{200, {}}, "ok"}));
  HttpClient& client = mock;
  EXPECT_TRUE(RetryableBeforeResponse(client.Send({}).status()));
  EXPECT_EQ(client.Send({})->body, "ok");
}

}  // namespace
}  // namespace routeall::http
