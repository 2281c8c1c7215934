// A real Prometheus for the alert drills: /usr/bin/prometheus on a random port with a temp
// storage dir, a generated scrape config (1 s scrapes, 1 s rule evaluation) and the rules of
// deploy/prometheus/rules/chat.yaml in a *test profile*: ScaleRuleTimes() divides the time
// constants (`for:`, the group `interval:`, range windows `[5m]`) by a factor and leaves every
// expression, threshold, label and annotation as written, so the real rules fire on real signals.
// Plus helpers over the HTTP API: instant queries, /api/v1/alerts, wait until an alert fires/ends.
// It runs with the local stack's flags (deploy/local/prometheus.flags, read by ./nats-chat too):
// no lifecycle API, so a reload is Reload() (SIGHUP), as in the stack.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {

// ---- the test profile of the rules ------------------------------------------------------------

// How the production time constants shrink. Every duration d becomes max(min, d / factor); a
// zero `for:` stays zero. Range windows get their own floor: a `rate()` needs at least two
// samples in its window, so a window is never shorter than a few scrape intervals.
struct RuleTimeScale {
  int64_t factor = 20;
  std::chrono::milliseconds min_duration{1000};  // for:, interval:
  std::chrono::milliseconds min_range{5000};     // [..] windows
};

// Prometheus duration ("1500ms", "30s", "5m", "1h", "2d", "1w", "1y"; no compound forms) in ms.
inline std::optional<int64_t> ParsePromDuration(std::string_view text) {
  static const std::regex kRe("^([0-9]+)(ms|s|m|h|d|w|y)$");
  std::cmatch m;
  if (!std::regex_match(text.data(), text.data() + text.size(), m, kRe)) return std::nullopt;
  int64_t n = std::strtoll(m[1].str().c_str(), nullptr, 10);
  const std::string unit = m[2].str();
  int64_t ms = unit == "ms"  ? 1
               : unit == "s" ? 1000
               : unit == "m" ? 60'000
               : unit == "h" ? 3'600'000
               : unit == "d" ? 86'400'000
               : unit == "w" ? 604'800'000
                             : 31'536'000'000;
  return n * ms;
}

// Whole seconds as "Ns", anything else as "Nms".
inline std::string FormatPromDuration(int64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

inline int64_t ScaleDuration(int64_t ms, int64_t floor_ms, const RuleTimeScale& scale) {
  if (ms == 0) return 0;
  int64_t scaled = ms / scale.factor;
  return scaled < floor_ms ? floor_ms : scaled;
}

// The documented transformation (line based: there is no YAML library in this tree, and the
// rule files keep one key per line):
//   * `for: <d>` and `interval: <d>` lines        → the scaled duration;
//   * `[<d>]` range selectors inside `expr:` lines → the scaled window (≥ min_range).
// Nothing else changes: record/alert names (e.g. `...:rate5m`), expressions, thresholds, labels
// and annotations (whose texts keep describing the production times) stay byte for byte. A rule
// file the rewrite cannot handle safely (a block-scalar `expr: |`, a duration it cannot parse)
// is refused instead of being half rewritten.
inline core::Result<std::string> ScaleRuleTimes(std::string_view yaml, const RuleTimeScale& scale) {
  if (scale.factor < 1) return core::InvalidArgument("factor must be >= 1");
  static const std::regex kKeyLine(R"(^(\s*-?\s*)(for|interval):\s*(\S+)\s*$)");
  static const std::regex kExprLine(R"(^\s*-?\s*expr:\s*(.*)$)");
  static const std::regex kRange(R"(\[([0-9]+(?:ms|s|m|h|d|w|y))\])");
  static const std::regex kUnsupported(R"(\[[0-9]+[a-z]+:|\boffset\b|@)");
  std::istringstream in{std::string(yaml)};
  std::ostringstream out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::smatch m;
    if (std::regex_match(line, m, kKeyLine)) {
      auto d = ParsePromDuration(m[3].str());
      if (!d) {
        return core::InvalidArgument("line " + std::to_string(line_no) +
                                     ": cannot parse duration '" + m[3].str() + "'");
      }
      out << m[1].str() << m[2].str() << ": "
          << FormatPromDuration(ScaleDuration(*d, scale.min_duration.count(), scale)) << "\n";
      continue;
    }
    if (std::regex_match(line, m, kExprLine)) {
      std::string value = m[1].str();
      if (value.empty() || value[0] == '|' || value[0] == '>') {
        return core::InvalidArgument("line " + std::to_string(line_no) +
                                     ": block-scalar expressions are not supported by the rewrite");
      }
      // Subqueries, `offset` and `@` carry durations or times the rewrite would miss.
      if (std::regex_search(value, kUnsupported)) {
        return core::InvalidArgument("line " + std::to_string(line_no) +
                                     ": subquery/offset/@ are not supported by the rewrite");
      }
      std::string rewritten;
      auto begin = line.cbegin();
      for (std::sregex_iterator it(line.begin(), line.end(), kRange), end; it != end; ++it) {
        const auto& r = *it;
        auto d = ParsePromDuration(r[1].str());
        if (!d) return core::InvalidArgument("line " + std::to_string(line_no) + ": bad range");
        rewritten.append(begin, r[0].first);
        rewritten +=
            "[" + FormatPromDuration(ScaleDuration(*d, scale.min_range.count(), scale)) + "]";
        begin = r[0].second;
      }
      rewritten.append(begin, line.cend());
      out << rewritten << "\n";
      continue;
    }
    out << line << "\n";
  }
  return out.str();
}

// ---- the Prometheus process -------------------------------------------------------------------

struct ScrapeJob {
  std::string name;                  // job_name: the alerts select on it (job="persist-worker")
  std::vector<std::string> targets;  // host:port
};

// The shared flag list: one flag a line, `#` comments and blank lines skipped.
inline core::Result<std::vector<std::string>> ReadPrometheusFlags(
    const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return core::NotFound("cannot read " + file.string());
  std::vector<std::string> flags;
  std::string line;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    const auto e = line.find_last_not_of(" \t\r");
    flags.push_back(line.substr(b, e - b + 1));
  }
  return flags;
}

struct PrometheusOptions {
  std::string binary = "/usr/bin/prometheus";
  std::string flags_file = CHAT_SOURCE_DIR "/deploy/local/prometheus.flags";
  std::vector<ScrapeJob> jobs;          // the `prometheus` self-scrape job is always added
  std::vector<std::string> rule_files;  // absolute paths
  std::string scrape_interval = "1s";
  std::string evaluation_interval = "1s";
  std::chrono::milliseconds ready_timeout{60000};
};

// One alert of /api/v1/alerts.
struct PromAlert {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string state;  // "pending" | "firing"
  std::string value;
  std::string Describe() const {
    std::string s = labels.count("alertname") ? labels.at("alertname") : "?";
    s += "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (k == "alertname") continue;
      s += (first ? "" : ",") + k + "=\"" + v + "\"";
      first = false;
    }
    return s + "} " + state + " value=" + value;
  }
};

using LabelSet = std::map<std::string, std::string>;

// True when every label of `want` is on the alert with the same value.
inline bool AlertMatches(const PromAlert& a, const std::string& name, const LabelSet& want) {
  auto it = a.labels.find("alertname");
  if (it == a.labels.end() || it->second != name) return false;
  for (const auto& [k, v] : want) {
    auto l = a.labels.find(k);
    if (l == a.labels.end() || l->second != v) return false;
  }
  return true;
}

class PrometheusProcess {
 public:
  static core::Result<std::unique_ptr<PrometheusProcess>> Start(const PrometheusOptions& options) {
    auto p = std::unique_ptr<PrometheusProcess>(new PrometheusProcess());
    CHAT_RETURN_IF_ERROR(p->Init(options));
    return p;
  }
  ~PrometheusProcess() {
    if (pid_ > 0) TerminateAndWait(pid_, std::chrono::seconds(10));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Re-reads the config file (and rules): SIGHUP, the only reload without the lifecycle API.
  bool Reload() const { return pid_ > 0 && ::kill(pid_, SIGHUP) == 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_path() const { return dir_ / "prometheus.yml"; }
  std::string LogTail(size_t max_bytes = 4000) const {
    std::ifstream in(dir_ / "prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
  }

  // GET an API path; returns `data` of a {"status":"success"} answer.
  core::Result<nlohmann::json> Api(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(2);
    client.set_read_timeout(10);
    auto res = client.Get(path);
    return Data(res, path);
  }

  // Instant query; returns the `result` array (vector) of the answer.
  core::Result<nlohmann::json> Query(const std::string& promql) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(2);
    client.set_read_timeout(10);
    auto res = client.Post("/api/v1/query", httplib::Params{{"query", promql}});
    CHAT_ASSIGN_OR_RETURN(auto data, Data(res, promql));
    if (!data.contains("result")) return core::Internal("no result for " + promql);
    return data["result"];
  }

  // Every pending or firing alert (resolved alerts are not listed by the API).
  core::Result<std::vector<PromAlert>> Alerts() const {
    CHAT_ASSIGN_OR_RETURN(auto data, Api("/api/v1/alerts"));
    std::vector<PromAlert> alerts;
    const nlohmann::json list = data.value("alerts", nlohmann::json::array());
    for (const auto& a : list) {
      PromAlert p;
      // value() returns a copy: keep it alive for the loop.
      const nlohmann::json labels = a.value("labels", nlohmann::json::object());
      const nlohmann::json annotations = a.value("annotations", nlohmann::json::object());
      for (const auto& [k, v] : labels.items()) {
        p.labels[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
      for (const auto& [k, v] : annotations.items()) {
        p.annotations[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
      p.state = a.value("state", "");
      p.value = a.value("value", "");
      alerts.push_back(std::move(p));
    }
    return alerts;
  }

  std::vector<PromAlert> Firing() const {
    std::vector<PromAlert> out;
    auto alerts = Alerts();
    if (!alerts.ok()) return out;
    for (auto& a : *alerts) {
      if (a.state == "firing") out.push_back(std::move(a));
    }
    return out;
  }

  // Waits until an alert `name` whose labels include `labels` is firing; returns it.
  std::optional<PromAlert> WaitForFiring(const std::string& name, const LabelSet& labels,
                                         std::chrono::milliseconds timeout) const {
    std::optional<PromAlert> found;
    const auto start = std::chrono::steady_clock::now();
    WaitFor(
        [&] {
          for (const auto& a : Firing()) {
            if (AlertMatches(a, name, labels)) {
              found = a;
              return true;
            }
          }
          return false;
        },
        timeout);
    // The drills' timeline in the test output (how long the rule took on real signals).
    std::printf("[prometheus] %s %s after %.1f s\n", name.c_str(),
                found ? ("firing: " + found->Describe()).c_str() : "NOT firing", Seconds(start));
    return found;
  }

  // Waits until no alert `name` with `labels` is pending or firing any more.
  bool WaitForGone(const std::string& name, const LabelSet& labels,
                   std::chrono::milliseconds timeout) const {
    const auto start = std::chrono::steady_clock::now();
    bool gone = WaitFor(
        [&] {
          auto alerts = Alerts();
          if (!alerts.ok()) return false;
          for (const auto& a : *alerts) {
            if (AlertMatches(a, name, labels)) return false;
          }
          return true;
        },
        timeout);
    std::printf("[prometheus] %s %s after %.1f s\n", name.c_str(),
                gone ? "resolved" : "NOT resolved", Seconds(start));
    return gone;
  }

  // The config file text for these options (also what Start() writes).
  static std::string RenderConfig(const PrometheusOptions& o, int self_port) {
    std::ostringstream c;
    c << "# Generated by testing/e2e/prometheus_process.hpp for one test run.\n"
      << "global:\n"
      << "  scrape_interval: " << o.scrape_interval << "\n"
      << "  scrape_timeout: " << o.scrape_interval << "\n"
      << "  evaluation_interval: " << o.evaluation_interval << "\n"
      << "rule_files:\n";
    for (const auto& f : o.rule_files) c << "  - \"" << f << "\"\n";
    c << "scrape_configs:\n"
      << "  - job_name: prometheus\n"
      << "    static_configs: [{targets: [\"127.0.0.1:" << self_port << "\"]}]\n";
    for (const auto& j : o.jobs) {
      c << "  - job_name: " << j.name << "\n    static_configs: [{targets: [";
      for (size_t i = 0; i < j.targets.size(); ++i) {
        c << (i ? ", " : "") << "\"" << j.targets[i] << "\"";
      }
      c << "]}]\n";
    }
    return c.str();
  }

 private:
  PrometheusProcess() = default;

  static double Seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  }

  static core::Result<nlohmann::json> Data(const httplib::Result& res, const std::string& what) {
    if (!res) return core::Unavailable("prometheus did not answer (" + what + ")");
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_discarded() || body.value("status", "") != "success") {
      return core::Internal("prometheus HTTP " + std::to_string(res->status) + " for " + what +
                            ": " + res->body.substr(0, 500));
    }
    return body["data"];
  }

  core::Status Init(const PrometheusOptions& options) {
    char tmpl[] = "/tmp/chat-prometheus-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return core::Internal("mkdtemp failed");
    dir_ = tmpl;
    port_ = FreePort();
    if (port_ == 0) return core::Internal("no free port");
    std::ofstream(config_path()) << RenderConfig(options, port_);
    int fd =
        ::open((dir_ / "prometheus.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return core::Internal("cannot open prometheus.log");
    auto flags = ReadPrometheusFlags(options.flags_file);
    if (!flags.ok()) {
      ::close(fd);
      return flags.status();
    }
    std::vector<std::string> argv{options.binary, "--config.file=" + config_path().string(),
                                  "--storage.tsdb.path=" + (dir_ / "data").string(),
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), flags->begin(), flags->end());
    argv.push_back({"--log.level=warn"});
    pid_ = SpawnWithEnv(argv, {}, fd, fd);
    ::close(fd);
    if (pid_ <= 0) return core::Internal("could not spawn " + options.binary);
    const int port = port_;
    bool ready = WaitFor(
        [&] {
          httplib::Client client("127.0.0.1", port);
          client.set_connection_timeout(1);
          auto res = client.Get("/-/ready");
          return res && res->status == 200;
        },
        options.ready_timeout);
    if (!ready) return core::Unavailable("prometheus not ready; log tail:\n" + LogTail());
    return core::Status();
  }

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace chat::testing
