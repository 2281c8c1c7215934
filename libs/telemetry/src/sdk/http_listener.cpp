#include "chat/telemetry/sdk/http_listener.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry::sdk {
namespace {

// A connection to the listening port completes a blocked accept(); the loop then sees that the
// server was stopped and returns.
void WakeAccept(const std::string& host, int port) {
  std::string target = (host.empty() || host == "0.0.0.0") ? "127.0.0.1" : host;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, target.c_str(), &addr.sin_addr) != 1) return;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::close(fd);
}

}  // namespace

core::Result<int> BindExclusive(httplib::Server& server, const std::string& host, int port,
                                std::string_view who) {
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    int bound = server.bind_to_any_port(host);
    if (bound <= 0) {
      return core::Unavailable(std::string(who) + ": cannot bind " + host + " on any port");
    }
    return bound;
  }
  if (!server.bind_to_port(host, port)) {
    return core::Unavailable(std::string(who) + ": cannot bind " + host + ":" +
                             std::to_string(port) + " (port in use or bad host)");
  }
  return port;
}

core::Status HttpListener::Start(httplib::Server& server, std::string host, int port,
                                 std::chrono::milliseconds timeout) {
  if (thread_.joinable()) return core::FailedPrecondition("http listener already started");
  server_ = &server;
  host_ = std::move(host);
  port_ = port;
  returned_.store(false);
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    returned_.store(true);
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!server.is_running() && !returned_.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // start-up poll, bounded
  }
  if (!server.is_running()) {
    Stop();
    return core::Internal("http listener did not start");
  }
  return core::Status::Ok();
}

void HttpListener::Stop() {
  if (!thread_.joinable()) return;
  while (!returned_.load()) {
    server_->stop();
    if (returned_.load()) break;
    WakeAccept(host_, port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let the loop observe the stop
  }
  thread_.join();
}

SpanContext ExtractHttpContext(const httplib::Request& req, const Counter& invalid_counter,
                               Logger& logger) {
  const std::string traceparent_key(semconv::kTraceparentHeader);
  size_t count = req.get_header_value_count(traceparent_key);
  if (count == 0) return {};
  ParsedContext parsed = ParseTraceparent(
      req.get_header_value(traceparent_key),
      req.get_header_value(std::string(semconv::kTracestateHeader)), static_cast<int>(count));
  if (parsed.context) return *parsed.context;
  if (parsed.invalid) {
    auto reason = InvalidContextReasonName(*parsed.invalid);
    invalid_counter.With({reason}).Add();
    logger.Log(LogLevel::kDebug, nullptr, "invalid traceparent ignored",
               {{"chat.trace_context.reason", std::string(reason)}});
  }
  return {};
}

}  // namespace chat::telemetry::sdk
