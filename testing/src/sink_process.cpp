#include "chat/testing/sink_process.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "chat/core/status.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {
namespace {

size_t AppendBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
  return size * nmemb;
}

}  // namespace

SinkProcess::~SinkProcess() { Stop(); }

core::Status SinkProcess::Start(const SinkProcessOptions& options) {
  if (pid_ > 0) return core::FailedPrecondition("sink already started");
  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env_map[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env_map["SINK_HOST"] = "127.0.0.1";
  env_map["SINK_PORT"] = "0";  // random unless a test asks for a fixed port (exporter drills)
  for (const auto& [k, v] : options.env) env_map[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_map) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return core::Internal("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::string binary = options.binary;
  std::vector<char*> argv = {binary.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return core::Unavailable("cannot start " + binary + ": " + core::ErrnoMessage(rc));
  }
  pid_ = pid;
  stdout_fd_ = fds[0];

  // Read the first line with a deadline.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      Stop(std::chrono::milliseconds(2000));
      return core::DeadlineExceeded("telemetry-sink did not report its port");
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    char buf[256];
    ssize_t got = read(stdout_fd_, buf, sizeof(buf));
    if (got <= 0) {
      int code = Stop(std::chrono::milliseconds(2000));
      return core::Unavailable("telemetry-sink exited before listening (exit " +
                               std::to_string(code) + ")");
    }
    line.append(buf, static_cast<size_t>(got));
  }
  auto json = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
  if (json.is_discarded() || !json.contains("port") || !json["port"].is_number_integer()) {
    Stop(std::chrono::milliseconds(2000));
    return core::Internal("unexpected first line from telemetry-sink");
  }
  port_ = json["port"].get<uint16_t>();
  return core::Status::Ok();
}

int SinkProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  int code = -1;
  bool exited = WaitFor(
      [&] {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        return r == pid_;
      },
      timeout);
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  } else if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return code;
}

std::string SinkProcess::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

core::Result<SinkProcess::HttpResult> SinkProcess::Http(
    const std::string& method, const std::string& path, const std::string& body,
    const std::map<std::string, std::string>& headers) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return core::Internal("curl_easy_init failed");
  std::string url = BaseUrl() + path;
  HttpResult result;
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || !body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  char* ct = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
  if (ct != nullptr) result.content_type = ct;
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return core::Unavailable(std::string("GET ") + path + ": " + curl_easy_strerror(rc));
  }
  return result;
}

core::Result<nlohmann::json> SinkProcess::GetJson(const std::string& path) const {
  CHAT_ASSIGN_OR_RETURN(HttpResult r, Http("GET", path));
  if (r.status == 404) return core::NotFound(path + " not found");
  if (r.status != 200) {
    return core::Internal(path + " answered " + std::to_string(r.status) + ": " + r.body);
  }
  auto json = nlohmann::json::parse(r.body, nullptr, false);
  if (json.is_discarded()) return core::Internal(path + " answered invalid JSON");
  return json;
}

core::Result<nlohmann::json> SinkProcess::GetTrace(const std::string& trace_id) const {
  return GetJson("/api/traces/" + trace_id);
}

core::Result<nlohmann::json> SinkProcess::SearchTraces(const std::string& query) const {
  return GetJson("/api/traces" + (query.empty() ? std::string() : "?" + query));
}

core::Result<nlohmann::json> SinkProcess::Logs(const std::string& query) const {
  return GetJson("/api/logs" + (query.empty() ? std::string() : "?" + query));
}

core::Result<std::string> SinkProcess::Metrics(bool openmetrics) const {
  std::map<std::string, std::string> headers;
  if (openmetrics) headers["Accept"] = "application/openmetrics-text; version=1.0.0";
  CHAT_ASSIGN_OR_RETURN(HttpResult r, Http("GET", "/metrics", "", headers));
  if (r.status != 200) return core::Internal("/metrics answered " + std::to_string(r.status));
  return r.body;
}

core::Result<nlohmann::json> SinkProcess::WaitForTrace(
    const std::string& trace_id, const std::function<bool(const nlohmann::json&)>& predicate,
    std::chrono::milliseconds timeout) const {
  std::optional<nlohmann::json> last;
  bool ok = WaitFor(
      [&] {
        auto t = GetTrace(trace_id);
        if (!t.ok()) return false;
        last = *t;
        return predicate(*last);
      },
      timeout);
  if (ok) return *last;
  if (!last) return core::NotFound("trace " + trace_id + " never arrived");
  return core::DeadlineExceeded("trace " + trace_id + " did not satisfy the predicate");
}

}  // namespace chat::testing
