// BeastHttpClient: blocking calls over async Beast/Asio socket ops, pooled keep-alive connections.
//
// Threading model: every connection owns a strand of the internal io_context; all socket and TLS
// operations are initiated and completed on that strand (Beast's tcp_stream timer is not
// thread-safe otherwise). The calling thread posts one step (connect, write+first read, read),
// waits on a condition variable, then parses the bytes itself, so the io threads only do I/O and
// on_data callbacks always run on the caller's thread. Between steps no operation is pending,
// which is what makes it safe for the caller to touch the buffers.
#include "common/http/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace routeall::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

constexpr Deadline kNoDeadline = Deadline::max();
constexpr size_t kReadSize = 64 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr char kStartedPrefix[] = "response started: ";

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

absl::Status MakeError(absl::StatusCode code, bool started, const std::string& msg) {
  if (!started) return absl::Status(code, msg);
  absl::Status st(code, absl::StrCat(kStartedPrefix, msg));
  st.SetPayload(kResponseStartedPayload, absl::Cord("1"));
  return st;
}

// Deadline `timeout` from now, never later than `outer`; a non-positive timeout means none.
Deadline Within(std::chrono::milliseconds timeout, Deadline outer) {
  if (timeout.count() <= 0) return outer;
  Deadline d = Clock::now() + timeout;
  return std::min(d, outer);
}

struct ParsedUrl {
  bool tls = false;
  std::string host;         // without brackets
  bool host_is_ip = false;
  uint16_t port = 0;
  std::string target;       // path?query
  std::string host_header;  // host[:port]
  std::string pool_key;     // scheme://host:port
};

absl::StatusOr<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(absl::StrCat("bad URL \"", std::string(url), "\": ", why));
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("missing scheme");
  std::string_view scheme = url.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "https")) {
    out.tls = true;
  } else if (!EqualsIgnoreCase(scheme, "http")) {
    return bad("scheme must be http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return bad("userinfo not supported");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 literal");
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("empty host");
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '\\' || c == 0x7f) return bad("bad host");
  }
  if (port.empty()) {
    out.port = out.tls ? 443 : 80;
  } else {
    if (port.size() > 5) return bad("bad port");
    unsigned v = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return bad("bad port");
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return bad("bad port");
    out.port = static_cast<uint16_t>(v);
  }
  out.host = std::string(host);
  beast::error_code ec;
  net::ip::make_address(out.host, ec);
  out.host_is_ip = !ec;
  if (!out.host_is_ip && out.host.find(':') != std::string::npos) return bad("bad host");
  for (char c : tail) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("whitespace or control char in path");
  }
  if (tail.empty() || tail[0] != '/') {
    out.target = absl::StrCat("/", std::string(tail));
  } else {
    out.target = std::string(tail);
  }
  std::string bracketed = out.host.find(':') != std::string::npos ? absl::StrCat("[", out.host, "]") : out.host;
  bool default_port = out.port == (out.tls ? 443 : 80);
  out.host_header = default_port ? bracketed : absl::StrCat(bracketed, ":", out.port);
  out.pool_key = absl::StrCat(out.tls ? "https://" : "http://", bracketed, ":", out.port);
  return out;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

struct WireRequest {
  std::string head;  // request line + headers + blank line; the body is sent from req.body as is
  bool connection_close = false;
  bool is_head = false;
};

absl::StatusOr<WireRequest> BuildRequest(const HttpClientRequest& req, const ParsedUrl& url) {
  if (!IsToken(req.method)) return absl::InvalidArgumentError(absl::StrCat("bad method \"", req.method, "\""));
  WireRequest out;
  out.is_head = req.method == "HEAD";
  std::string& h = out.head;
  h.reserve(256 + url.target.size());
  absl::StrAppend(&h, req.method, " ", url.target, " HTTP/1.1\r\n");
  bool has_host = false, has_length = false, has_te = false, has_ua = false, has_ae = false;
  for (const auto& [name, value] : req.headers) {
    if (!IsToken(name)) return absl::InvalidArgumentError(absl::StrCat("bad header name \"", name, "\""));
    for (char c : value) {
      // Refusing CR/LF/NUL prevents header injection from caller-controlled values.
      if (c == '\r' || c == '\n' || c == '\0') {
        return absl::InvalidArgumentError(absl::StrCat("bad character in header ", name));
      }
    }
    if (EqualsIgnoreCase(name, "host")) has_host = true;
    if (EqualsIgnoreCase(name, "content-length")) has_length = true;
    if (EqualsIgnoreCase(name, "transfer-encoding")) has_te = true;
    if (EqualsIgnoreCase(name, "user-agent")) has_ua = true;
    if (EqualsIgnoreCase(name, "accept-encoding")) has_ae = true;
    if (EqualsIgnoreCase(name, "connection") && value.find("close") != std::string::npos) {
      out.connection_close = true;
    }
    absl::StrAppend(&h, name, ": ", value, "\r\n");
  }
  if (has_te) return absl::InvalidArgumentError("Transfer-Encoding request header is not supported");
  if (!has_host) absl::StrAppend(&h, "Host: ", url.host_header, "\r\n");
  if (!has_length && (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")) {
    absl::StrAppend(&h, "Content-Length: ", req.body.size(), "\r\n");
  }
  if (!has_ua) h += "User-Agent: routeall/0.1\r\n";
  if (!has_ae) h += "Accept-Encoding: identity\r\n";
  h += "\r\n";
  return out;
}

// One-shot completion signal between an io thread and the waiting caller.
class Waiter {
 public:
  void Set(beast::error_code ec) {
    std::lock_guard<std::mutex> lock(mu_);  // notify under the lock: the waiter may vanish right after
    ec_ = ec;
    done_ = true;
    cv_.notify_one();
  }
  beast::error_code Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return ec_;
  }
  // Waits up to d; false when not done yet.
  bool WaitFor(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, d, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  beast::error_code ec_;
};

struct Done {
  Waiter* waiter;
  void operator()(beast::error_code ec) const { waiter->Set(ec); }
};

using Strand = net::strand<net::io_context::executor_type>;

struct Connection {
  Connection(net::io_context& ioc, ssl::context* ctx) : strand(net::make_strand(ioc)) {
    if (ctx != nullptr) {
      tls.emplace(strand, *ctx);
    } else {
      plain.emplace(strand);
    }
  }
  beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <class F>
  void Visit(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }
  void SetExpiry(Deadline d) {
    if (d == kNoDeadline) {
      Tcp().expires_never();
    } else {
      Tcp().expires_at(d);
    }
  }

  Strand strand;
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> tls;
  Clock::time_point idle_since;
};

// Posts `start(Done)` on the connection's strand and blocks until Done is called.
// `start` must call Done exactly once, as its last action.
template <class Start>
beast::error_code RunOnStrand(Connection& c, Start&& start) {
  Waiter waiter;
  net::post(c.strand, [&waiter, &start] { start(Done{&waiter}); });
  return waiter.Wait();
}

// Like RunOnStrand, but polls `cancelled` while waiting and cancels the pending operation on
// the strand when it turns true (the operation then completes with operation_aborted).
template <class Start>
beast::error_code RunOnStrandCancellable(Connection& c, Start&& start, const std::function<bool()>& cancelled) {
  if (!cancelled) return RunOnStrand(c, std::forward<Start>(start));
  Waiter waiter;
  net::post(c.strand, [&waiter, &start] { start(Done{&waiter}); });
  bool cancel_sent = false;
  while (!waiter.WaitFor(kCancelPollInterval)) {
    if (!cancel_sent && cancelled()) {
      cancel_sent = true;
      net::post(c.strand, [&c] { c.Tcp().cancel(); });
    }
  }
  return waiter.Wait();
}

// Closes on the strand (no op may race with it) and drops the last reference there.
void CloseConn(std::shared_ptr<Connection> c) {
  if (!c) return;
  Strand strand = c->strand;
  net::post(strand, [c = std::move(c)]() mutable {
    beast::error_code ec;
    c->Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    c->Tcp().close();
    c.reset();
  });
}

// A pooled connection must be silent: EOF means the server closed it while idle, and any
// unexpected bytes mean we cannot trust the framing.
bool LooksAlive(Connection& c) {
  if (!c.Tcp().socket().is_open()) return false;
  char b;
  ssize_t r = ::recv(c.Tcp().socket().native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

absl::Status TransportError(beast::error_code ec, bool started, const std::string& what, Deadline deadline,
                            Deadline total, const char* timeout_name) {
  if (ec == beast::error::timeout) {
    const char* which = (total != kNoDeadline && total <= deadline) ? "total_timeout" : timeout_name;
    return MakeError(absl::StatusCode::kDeadlineExceeded, started, absl::StrCat(what, ": ", which, " exceeded"));
  }
  return MakeError(absl::StatusCode::kUnavailable, started, absl::StrCat(what, ": ", ec.message()));
}

// What the exchange learned besides its status.
struct Outcome {
  bool reusable = false;
  bool stale = false;  // failed on a transport error before any response byte: safe to resend
};

}  // namespace

struct BeastHttpClient::Impl {
  explicit Impl(BeastHttpClientOptions o)
      : options(std::move(o)), work(net::make_work_guard(ioc)), ssl_ctx(ssl::context::tls_client) {}

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      pool.clear();  // idle connections have no pending ops
    }
    work.reset();  // let queued closes drain, then run() returns
    for (auto& t : threads) t.join();
  }

  absl::Status Init() {
    ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    static const unsigned char kAlpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ssl_ctx.native_handle(), kAlpn, sizeof(kAlpn) - 1);
    beast::error_code ec;
    if (options.verify_tls) {
      ssl_ctx.set_verify_mode(ssl::verify_peer, ec);
      if (options.ca_file.empty()) {
        ssl_ctx.set_default_verify_paths(ec);
        if (ec) return absl::InternalError(absl::StrCat("loading system CA paths: ", ec.message()));
      } else {
        ssl_ctx.load_verify_file(options.ca_file, ec);
        if (ec) {
          return absl::InvalidArgumentError(absl::StrCat("loading CA file ", options.ca_file, ": ", ec.message()));
        }
      }
    } else {
      ssl_ctx.set_verify_mode(ssl::verify_none, ec);
    }
    int n = std::max(1, options.io_threads);
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([this] {
        // A throwing handler must not take an io thread down with it.
        for (;;) {
          try {
            ioc.run();
            return;
          } catch (...) {
          }
        }
      });
    }
    return absl::OkStatus();
  }

  std::shared_ptr<Connection> AcquireIdle(const std::string& key) {
    std::vector<std::shared_ptr<Connection>> dead;
    std::shared_ptr<Connection> found;
    Clock::time_point now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      auto it = pool.find(key);
      if (it != pool.end()) {
        auto& q = it->second;
        while (!q.empty()) {
          std::shared_ptr<Connection> c = std::move(q.back());  // most recent: least likely stale
          q.pop_back();
          if (now - c->idle_since <= options.idle_keepalive && LooksAlive(*c)) {
            found = std::move(c);
            break;
          }
          dead.push_back(std::move(c));
        }
      }
    }
    for (auto& c : dead) CloseConn(std::move(c));
    return found;
  }

  void Release(const std::string& key, std::shared_ptr<Connection> c) {
    if (options.max_idle_per_host <= 0) return CloseConn(std::move(c));
    std::vector<std::shared_ptr<Connection>> evicted;
    Clock::time_point now = Clock::now();
    c->idle_since = now;
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      auto& q = pool[key];
      q.push_back(std::move(c));
      while (!q.empty() && (q.size() > static_cast<size_t>(options.max_idle_per_host) ||
                            now - q.front()->idle_since > options.idle_keepalive)) {
        evicted.push_back(std::move(q.front()));
        q.pop_front();
      }
    }
    for (auto& e : evicted) CloseConn(std::move(e));
  }

  absl::Status Connect(Connection& c, const ParsedUrl& url, Deadline deadline, Deadline total);
  absl::Status Exchange(Connection& c, const HttpClientRequest& req, const WireRequest& wire, Deadline total,
                        const std::function<bool(const HttpClientResponseHead&)>& on_head,
                        const std::function<bool(std::string_view)>& on_data, Outcome* outcome);
  absl::Status Do(const HttpClientRequest& req, const std::function<bool(const HttpClientResponseHead&)>& on_head,
                  const std::function<bool(std::string_view)>& on_data);

  BeastHttpClientOptions options;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  ssl::context ssl_ctx;
  mutable std::mutex pool_mu;
  std::unordered_map<std::string, std::deque<std::shared_ptr<Connection>>> pool;
  std::vector<std::thread> threads;
};

absl::Status BeastHttpClient::Impl::Connect(Connection& c, const ParsedUrl& url, Deadline deadline,
                                            Deadline total) {
  const std::string where = absl::StrCat("connect to ", url.pool_key);
  tcp::resolver::results_type endpoints;
  if (!url.host_is_ip) {
    // The resolver has no timeout of its own: a timer on the same strand cancels it.
    struct ResolveState {
      explicit ResolveState(Strand s) : resolver(s), timer(s) {}
      tcp::resolver resolver;
      net::steady_timer timer;
      tcp::resolver::results_type results;
      bool timed_out = false;
    };
    auto rs = std::make_shared<ResolveState>(c.strand);
    beast::error_code ec = RunOnStrand(c, [&](Done done) {
      if (deadline != kNoDeadline) {
        rs->timer.expires_at(deadline);
        rs->timer.async_wait([rs](beast::error_code tec) {
          if (!tec) {
            rs->timed_out = true;
            rs->resolver.cancel();
          }
        });
      }
      rs->resolver.async_resolve(url.host, std::to_string(url.port),
                                 [rs, done](beast::error_code rec, tcp::resolver::results_type results) {
                                   rs->timer.cancel();
                                   rs->results = std::move(results);
                                   done(rec);
                                 });
    });
    if (rs->timed_out) ec = beast::error::timeout;
    if (ec) return TransportError(ec, false, absl::StrCat(where, " (DNS)"), deadline, total, "connect_timeout");
    endpoints = std::move(rs->results);
  }

  beast::error_code ec = RunOnStrand(c, [&](Done done) {
    c.SetExpiry(deadline);
    auto after = [&c, done](beast::error_code cec) {
      if (!cec) {
        beast::error_code ignored;
        c.Tcp().socket().set_option(tcp::no_delay(true), ignored);  // small request writes must not wait
      }
      done(cec);
    };
    if (url.host_is_ip) {
      c.Tcp().async_connect(tcp::endpoint(net::ip::make_address(url.host), url.port), after);
    } else {
      c.Tcp().async_connect(endpoints, [after](beast::error_code cec, const tcp::endpoint&) { after(cec); });
    }
  });
  if (ec) return TransportError(ec, false, where, deadline, total, "connect_timeout");

  if (c.tls) {
    SSL* s = c.tls->native_handle();
    if (!url.host_is_ip) SSL_set_tlsext_host_name(s, url.host.c_str());  // SNI is for names only
    if (options.verify_tls) {
      X509_VERIFY_PARAM* param = SSL_get0_param(s);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
      if (ok != 1) return absl::InternalError(absl::StrCat(where, ": cannot set TLS host check"));
    }
    ec = RunOnStrand(c, [&](Done done) {
      c.SetExpiry(deadline);
      c.tls->async_handshake(ssl::stream_base::client, done);
    });
    if (ec) {
      long verify = SSL_get_verify_result(s);
      if (ec != beast::error::timeout && verify != X509_V_OK) {
        return absl::UnavailableError(
            absl::StrCat(where, ": TLS certificate verification failed: ", X509_verify_cert_error_string(verify)));
      }
      return TransportError(ec, false, absl::StrCat(where, " (TLS handshake)"), deadline, total, "connect_timeout");
    }
  }
  return absl::OkStatus();
}

absl::Status BeastHttpClient::Impl::Exchange(Connection& c, const HttpClientRequest& req, const WireRequest& wire,
                                             Deadline total,
                                             const std::function<bool(const HttpClientResponseHead&)>& on_head,
                                             const std::function<bool(std::string_view)>& on_data,
                                             Outcome* outcome) {
  beast::flat_buffer buffer;
  bool got_bytes = false;
  Deadline first_byte = Within(req.first_byte_timeout, total);
  bool write_failed = false;
  size_t n = 0;
  bool cancelled_by_caller = false;

  // Step 1 (one wait): write the request, then read whatever arrives first.
  beast::error_code ec = RunOnStrand(c, [&](Done done) {
    c.SetExpiry(first_byte);
    c.Visit([&](auto& stream) {
      std::array<net::const_buffer, 2> bufs{net::buffer(wire.head), net::buffer(req.body)};
      net::async_write(stream, bufs, [&, done](beast::error_code wec, size_t) {
        if (wec) {
          write_failed = true;
          return done(wec);
        }
        c.SetExpiry(first_byte);
        stream.async_read_some(buffer.prepare(kReadSize), [&n, done](beast::error_code rec, size_t m) {
          n = m;
          done(rec);
        });
      });
    });
  });

  auto read_more = [&](Deadline deadline) {
    n = 0;
    beast::error_code rec = RunOnStrandCancellable(
        c,
        [&](Done done) {
          c.SetExpiry(deadline);
          c.Visit([&](auto& stream) {
            stream.async_read_some(buffer.prepare(kReadSize), [&n, done](beast::error_code e, size_t m) {
              n = m;
              done(e);
            });
          });
        },
        req.cancelled);
    if (rec == net::error::operation_aborted && req.cancelled && req.cancelled()) cancelled_by_caller = true;
    return rec;
  };

  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  auto new_parser = [&] {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    // Not boost::none: Beast 1.74 compares `len > optional` and then rejects every Content-Length.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (wire.is_head) parser->skip(true);
  };
  new_parser();

  // Head. Bytes already received are parsed before an error is looked at, so a server that
  // answers and closes at once is not reported as a failure.
  for (;;) {
    if (n > 0) {
      buffer.commit(n);
      got_bytes = true;
      n = 0;
    }
    if (buffer.size() > 0) {
      beast::error_code pec;
      size_t used = parser->put(buffer.data(), pec);
      buffer.consume(used);
      if (pec && pec != bhttp::error::need_more) {
        return MakeError(absl::StatusCode::kUnavailable, true, absl::StrCat("malformed response head: ", pec.message()));
      }
      if (parser->is_header_done()) {
        int status = static_cast<int>(parser->get().result_int());
        if (status >= 100 && status < 200 && status != 101) {  // interim response: the real one follows
          new_parser();
          continue;
        }
        break;
      }
    }
    if (ec && cancelled_by_caller) return MakeError(absl::StatusCode::kCancelled, got_bytes, "cancelled by caller");
    if (ec) {
      if (ec == net::error::eof) {
        outcome->stale = !got_bytes;
        return MakeError(absl::StatusCode::kUnavailable, got_bytes,
                         got_bytes ? "connection closed inside the response head"
                                   : "connection closed before the response");
      }
      outcome->stale = !got_bytes && ec != beast::error::timeout;
      return TransportError(ec, got_bytes, write_failed ? "sending request" : "reading response head", first_byte,
                            total, "first_byte_timeout");
    }
    ec = read_more(first_byte);
  }

  HttpClientResponseHead head;
  head.status = static_cast<int>(parser->get().result_int());
  for (const auto& field : parser->get()) head.headers.emplace_back(ToStd(field.name_string()), ToStd(field.value()));
  if (!on_head(head)) return MakeError(absl::StatusCode::kCancelled, true, "aborted by caller after the head");

  // Body.
  std::unique_ptr<char[]> chunk(new char[kReadSize]);
  bool eof = false;
  while (!parser->is_done()) {
    bool need_input = true;
    if (buffer.size() > 0) {
      auto& body = parser->get().body();
      body.data = chunk.get();
      body.size = kReadSize;
      beast::error_code pec;
      size_t used = parser->put(buffer.data(), pec);
      buffer.consume(used);
      size_t got = kReadSize - body.size;
      if (pec == bhttp::error::need_buffer) pec = {};
      if (pec && pec != bhttp::error::need_more) {
        return MakeError(absl::StatusCode::kUnavailable, true, absl::StrCat("malformed response body: ", pec.message()));
      }
      if (got > 0 && !on_data(std::string_view(chunk.get(), got))) {
        return MakeError(absl::StatusCode::kCancelled, true, "aborted by caller during the body");
      }
      need_input = pec == bhttp::error::need_more || (used == 0 && got == 0);
    }
    if (parser->is_done()) break;
    if (!need_input) continue;
    Deadline idle = Within(req.idle_timeout, total);
    ec = read_more(idle);
    if (n > 0) buffer.commit(n);
    if (ec == net::error::eof) {
      eof = true;
      beast::error_code pec;
      parser->put_eof(pec);  // completes a read-until-close body, else reports truncation
      if (pec) return MakeError(absl::StatusCode::kUnavailable, true, "connection closed mid-body");
      if (parser->is_done()) break;
      return MakeError(absl::StatusCode::kUnavailable, true, "connection closed mid-body");
    }
    if (ec && cancelled_by_caller) return MakeError(absl::StatusCode::kCancelled, true, "cancelled by caller");
    if (ec) return TransportError(ec, true, "reading response body", idle, total, "idle_timeout");
  }
  outcome->reusable = !eof && !wire.connection_close && parser->get().keep_alive() && buffer.size() == 0;
  return absl::OkStatus();
}

absl::Status BeastHttpClient::Impl::Do(const HttpClientRequest& req,
                                       const std::function<bool(const HttpClientResponseHead&)>& on_head,
                                       const std::function<bool(std::string_view)>& on_data) {
  auto url = ParseUrl(req.url);
  if (!url.ok()) return url.status();
  auto wire = BuildRequest(req, *url);
  if (!wire.ok()) return wire.status();
  Deadline total = req.total_timeout.count() > 0 ? Clock::now() + req.total_timeout : kNoDeadline;

  for (int attempt = 0;; ++attempt) {
    // A stale pooled connection is retried once, and always on a fresh connection.
    std::shared_ptr<Connection> conn = attempt == 0 ? AcquireIdle(url->pool_key) : nullptr;
    bool reused = conn != nullptr;
    // Closes the connection on every path that does not hand it back to the pool, including a
    // callback throwing.
    struct Guard {
      std::shared_ptr<Connection>* c;
      ~Guard() { CloseConn(std::move(*c)); }
    } guard{&conn};
    if (!conn) {
      conn = std::make_shared<Connection>(ioc, url->tls ? &ssl_ctx : nullptr);
      absl::Status st = Connect(*conn, *url, Within(req.connect_timeout, total), total);
      if (!st.ok()) return st;
    }
    Outcome outcome;
    absl::Status st = Exchange(*conn, req, *wire, total, on_head, on_data, &outcome);
    if (st.ok()) {
      if (outcome.reusable) Release(url->pool_key, std::move(conn));
      return st;
    }
    if (reused && outcome.stale && attempt == 0 && Clock::now() < total) continue;
    return st;
  }
}

std::string HttpClientResponseHead::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

bool RetryableBeforeResponse(const absl::Status& status) {
  return (status.code() == absl::StatusCode::kUnavailable || status.code() == absl::StatusCode::kDeadlineExceeded) &&
         !ResponseStarted(status);
}

absl::StatusOr<std::unique_ptr<BeastHttpClient>> BeastHttpClient::Create(BeastHttpClientOptions options) {
  try {
    auto impl = std::make_unique<Impl>(std::move(options));
    absl::Status st = impl->Init();
    if (!st.ok()) return st;
    return std::unique_ptr<BeastHttpClient>(new BeastHttpClient(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("creating HTTP client: ", e.what()));
  }
}

BeastHttpClient::BeastHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BeastHttpClient::~BeastHttpClient() = default;

absl::StatusOr<HttpClientResponse> BeastHttpClient::Send(const HttpClientRequest& req) {
  HttpClientResponse resp;
  bool too_large = false;
  try {
    absl::Status st = impl_->Do(
        req,
        [&](const HttpClientResponseHead& head) {
          resp.head = head;
          if (size_t len = std::strtoull(resp.head.Header("content-length").c_str(), nullptr, 10);
              len > req.max_body_bytes) {
            too_large = true;  // refused before a byte of it is buffered
            return false;
          } else if (len > 0) {
            resp.body.reserve(len);
          }
          return true;
        },
        [&](std::string_view piece) {
          if (resp.body.size() + piece.size() > req.max_body_bytes) {
            too_large = true;
            return false;
          }
          resp.body.append(piece.data(), piece.size());
          return true;
        });
    if (too_large) {
      return absl::ResourceExhaustedError(
          absl::StrCat("response body exceeds ", req.max_body_bytes, " bytes (max_body_bytes)"));
    }
    if (!st.ok()) return st;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("HTTP client: ", e.what()));
  }
  return resp;
}

absl::Status BeastHttpClient::Stream(const HttpClientRequest& req,
                                     const std::function<bool(const HttpClientResponseHead&)>& on_head,
                                     const std::function<bool(std::string_view)>& on_data) {
  try {
    return impl_->Do(req, on_head, on_data);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("HTTP client: ", e.what()));
  } catch (...) {
    return absl::InternalError("HTTP client: unknown exception");
  }
}

size_t BeastHttpClient::IdleConnectionCount() const {
  std::lock_guard<std::mutex> lock(impl_->pool_mu);
  size_t n = 0;
  for (const auto& [key, q] : impl_->pool) n += q.size();
  return n;
}

}  // namespace routeall::http
