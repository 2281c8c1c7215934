// ChatStack: the whole chat core as real processes for end-to-end tests — nats-server in operator
// mode (JWT auth, JetStream), a throwaway Postgres cluster, the telemetry sink, the development
// identity provider, auth-service and the six chat services, each with its own NATS credentials,
// exporting to the sink exactly as `./nats-chat up` runs them. Processes log to files under the
// stack's temp dir; Kill/Restart exist for the fault drills.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ranges>
#include <sstream>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/nkeys/local_operator.hpp"
#include "chat/pg/migrate.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/pg_cluster.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/sink_process.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {

// One child process: argv + environment (added to ours), stdout and stderr appended to a log file.
class ChildProcess {
 public:
  ChildProcess(std::string name, std::vector<std::string> argv,
               std::map<std::string, std::string> env, std::filesystem::path log)
      : name_(std::move(name)),
        argv_(std::move(argv)),
        env_(std::move(env)),
        log_(std::move(log)) {}
  ~ChildProcess() { Kill(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool Start() {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    pid_ = SpawnWithEnv(argv_, env_, fd, fd);
    ::close(fd);
    return pid_ > 0;
  }

  // SIGTERM and wait (graceful shutdown); returns the exit status, or -1.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(25)) {
    int rc = TerminateAndWait(pid_, timeout);
    pid_ = -1;
    return rc;
  }

  // SIGKILL: the crash of the fault drills.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool Alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& log() const { return log_; }
  std::string LogTail(size_t max_bytes = 4000) const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
  }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

// Binary paths, from the build (CMake passes them as compile definitions).
struct ChatStackBinaries {
  std::string dev_idp, auth, room, fanout, persist, history, presence, read_receipt;

#ifdef CHAT_DEV_IDP_BIN
  // This build's binaries: the compile definitions cmake/chat_stack.cmake's chat_stack_test()
  // gives a test target.
  static ChatStackBinaries FromBuild() {
    return {CHAT_DEV_IDP_BIN, CHAT_AUTH_BIN,    CHAT_ROOM_BIN,     CHAT_FANOUT_BIN,
            CHAT_PERSIST_BIN, CHAT_HISTORY_BIN, CHAT_PRESENCE_BIN, CHAT_READ_RECEIPT_BIN};
  }
#endif
};

struct ChatStackOptions {
  // Extra environment for every chat service (e.g. LOG_LEVEL=debug).
  std::map<std::string, std::string> service_env{};
  // Per-service extra environment, keyed by service name ("dev-idp" included).
  std::map<std::string, std::map<std::string, std::string>> per_service_env{};
};

class ChatStack {
 public:
  struct Service {
    std::unique_ptr<ChildProcess> process;
    int metrics_port = 0;
  };

  static core::Result<std::unique_ptr<ChatStack>> Create(const ChatStackBinaries& bins,
                                                         ChatStackOptions options = {}) {
    auto stack = std::unique_ptr<ChatStack>(new ChatStack());
    CHAT_RETURN_IF_ERROR(stack->Init(bins, std::move(options)));
    return stack;
  }
  ~ChatStack() {
    // Services first (they drain to NATS and flush to the sink), then the infrastructure.
    // Reverse iterators: clang 14 cannot compile libstdc++ 12's std::ranges::reverse_view.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {  // NOLINT(modernize-loop-convert)
      services_[*it].process->Stop();
    }
    if (idp_) idp_->Stop();
    nats_.reset();
    sink_.reset();
    pg_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ChatStack(const ChatStack&) = delete;
  ChatStack& operator=(const ChatStack&) = delete;

  std::string nats_url() const { return nats_->url(); }
  std::string creds(const std::string& account) const {
    return (op_.dir / "creds" / (account + ".creds")).string();
  }
  std::string idp_issuer() const {
    return "http://127.0.0.1:" + std::to_string(idp_port_) + "/realms/nats-chat";
  }
  std::string auth_url() const { return "http://127.0.0.1:" + std::to_string(auth_port_); }
  PgCluster& pg() { return *pg_; }
  const std::string& dbname() const { return db_; }
  std::string dsn() const { return pg_->Dsn(db_); }
  SinkProcess& sink() { return *sink_; }
  Service& service(const std::string& name) { return services_.at(name); }
  const std::filesystem::path& dir() const { return dir_; }
  // The chat services in start order (their names are the Prometheus job names).
  const std::vector<std::string>& service_names() const { return order_; }
  int nats_monitoring_port() const { return nats_->monitoring_port(); }
  // dev-idp's state dir (keys/<kid>.pem, signing-kid): tests that forge tokens read the key here.
  std::filesystem::path idp_state_dir() const { return dir_ / "idp"; }

  // Starts tools/nats-exporter against the nats-server's monitoring port (what `./nats-chat up`
  // scrapes as job "nats"); returns its metrics port. Stopped with the stack.
  core::Result<int> StartNatsExporter(const std::string& binary) {
    if (nats_exporter_) return nats_exporter_port_;
    nats_exporter_port_ = FreePort();
    nats_exporter_ = std::make_unique<ChildProcess>(
        "nats-exporter",
        std::vector<std::string>{binary, "--host", "127.0.0.1", "--port",
                                 std::to_string(nats_exporter_port_),
                                 "http://127.0.0.1:" + std::to_string(nats_->monitoring_port())},
        std::map<std::string, std::string>{}, dir_ / "nats-exporter.log");
    if (!nats_exporter_->Start()) return core::Internal("could not start nats-exporter");
    const int port = nats_exporter_port_;
    if (!WaitFor([&] { return HttpGet(port, "/healthz").ok() || !nats_exporter_->Alive(); },
                 std::chrono::seconds(20)) ||
        !nats_exporter_->Alive()) {
      return core::Unavailable("nats-exporter not ready: " + nats_exporter_->LogTail());
    }
    return nats_exporter_port_;
  }
  int nats_exporter_port() const { return nats_exporter_port_; }

  // Restarts a (stopped or killed) service with the same environment and waits until ready.
  core::Status Restart(const std::string& name) {
    auto& svc = services_.at(name);
    svc.process->Kill();
    return StartService(name);
  }

  // The service's /metrics text (Prometheus format).
  core::Result<std::string> Metrics(const std::string& name) {
    return HttpGet(services_.at(name).metrics_port, "/metrics");
  }
  // The value of one exposed series line prefix, e.g. `messages_persisted_total{action="send"}`;
  // 0 when absent.
  static double SeriesValue(const std::string& metrics, const std::string& series) {
    std::istringstream in(metrics);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) {
        return std::strtod(line.c_str() + series.size() + 1, nullptr);
      }
    }
    return 0;
  }

  static core::Result<std::string> HttpGet(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    auto res = client.Get(path);
    if (!res) return core::Unavailable("no answer from 127.0.0.1:" + std::to_string(port));
    if (res->status != 200) return core::Unavailable("HTTP " + std::to_string(res->status));
    return res->body;
  }

 private:
  ChatStack() = default;

  core::Status Init(const ChatStackBinaries& bins, ChatStackOptions options) {
    options_ = std::move(options);
    bins_ = bins;
    char tmpl[] = "/tmp/chat-stack-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return core::Internal("mkdtemp failed");
    dir_ = tmpl;
    std::filesystem::permissions(dir_, std::filesystem::perms::all);

    auto op = nkeys::InitOperatorDir(dir_ / "nats", core::SystemClock::Instance());
    CHAT_RETURN_IF_ERROR(op.status());
    op_ = std::move(*op);
    std::filesystem::path conf = op_.dir / "server.conf";
    std::ofstream(conf) << "include \"resolver.conf\"\nmax_payload: 1MB\n";
    NatsServer::Options nopts;
    nopts.jetstream = true;
    nopts.monitoring = true;
    nopts.config_file = conf.string();
    auto nats = NatsServer::Create(nopts);
    CHAT_RETURN_IF_ERROR(nats.status());
    nats_ = std::move(*nats);

    PgCluster::Options pgo;
    pgo.prepare_template = [](const std::string& dsn) {
      return pg::Migrate(dsn, CHAT_SOURCE_DIR "/db/migrations", telemetry::Telemetry::Noop())
          .status();
    };
    auto pg = PgCluster::Create(pgo);
    CHAT_RETURN_IF_ERROR(pg.status());
    pg_ = std::move(*pg);
    auto db = pg_->CreateDatabase();
    CHAT_RETURN_IF_ERROR(db.status());
    db_ = *db;

    sink_ = std::make_unique<SinkProcess>();
    CHAT_RETURN_IF_ERROR(sink_->Start());

    idp_port_ = FreePort();
    std::map<std::string, std::string> idp_env{
        {"CHAT_IDP_HOST", "127.0.0.1"},
        {"CHAT_IDP_PORT", std::to_string(idp_port_)},
        {"CHAT_IDP_ISSUER", idp_issuer()},
        {"CHAT_IDP_STATE_DIR", (dir_ / "idp").string()},
        // The production 600,000 PBKDF2 rounds make a login ~0.5 s of CPU on a 2-core box: half
        // the SlowRequests threshold, so any other load on the machine made the alert drills'
        // healthy run fire for dev-idp. The tests judge the login path, not the hash cost.
        {"CHAT_IDP_PBKDF2_ITERATIONS", "50000"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT", sink_->BaseUrl()},
        {"OTEL_EXPORTER_PROMETHEUS_PORT", std::to_string(FreePort())},
        {"OTEL_BSP_SCHEDULE_DELAY", "100"},
        {"OTEL_BLRP_SCHEDULE_DELAY", "100"}};
    if (auto it = options_.per_service_env.find("dev-idp"); it != options_.per_service_env.end()) {
      for (const auto& [k, v] : it->second) idp_env[k] = v;
    }
    idp_ = std::make_unique<ChildProcess>("dev-idp", std::vector<std::string>{bins_.dev_idp},
                                          std::move(idp_env), dir_ / "dev-idp.log");
    if (!idp_->Start()) return core::Internal("could not start dev-idp");
    if (!WaitFor(
            [&] {
              return HttpGet(idp_port_, "/realms/nats-chat/.well-known/openid-configuration").ok();
            },
            std::chrono::seconds(30))) {
      return core::Unavailable("dev-idp not ready: " + idp_->LogTail());
    }

    auth_port_ = FreePort();
    // Start order: room before fanout (membership RPCs), persist creates the stream.
    order_ = {"auth-service",    "room-service",     "persist-worker",      "fanout-service",
              "history-service", "presence-service", "read-receipt-service"};
    for (const auto& name : order_) CHAT_RETURN_IF_ERROR(StartService(name));
    return core::Status();
  }

  std::string BinaryOf(const std::string& name) const {
    if (name == "auth-service") return bins_.auth;
    if (name == "room-service") return bins_.room;
    if (name == "fanout-service") return bins_.fanout;
    if (name == "persist-worker") return bins_.persist;
    if (name == "history-service") return bins_.history;
    if (name == "presence-service") return bins_.presence;
    return bins_.read_receipt;
  }

  core::Status StartService(const std::string& name) {
    auto& svc = services_[name];
    if (svc.metrics_port == 0) svc.metrics_port = FreePort();
    std::map<std::string, std::string> env = {
        {"NATS_URL", nats_->url()},
        {"NATS_CREDS", creds(name)},
        {"DATABASE_URL", dsn()},
        {"OTEL_EXPORTER_OTLP_ENDPOINT", sink_->BaseUrl()},
        {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
        {"OTEL_EXPORTER_PROMETHEUS_PORT", std::to_string(svc.metrics_port)},
        // Short export delays: tests wait on the sink, not on batching.
        {"OTEL_BSP_SCHEDULE_DELAY", "100"},
        {"OTEL_BLRP_SCHEDULE_DELAY", "100"},
    };
    if (name == "auth-service") {
      env["CHAT_AUTH_ISSUER_URL"] = idp_issuer();
      env["CHAT_AUTH_HTTP_HOST"] = "127.0.0.1";
      env["CHAT_AUTH_HTTP_PORT"] = std::to_string(auth_port_);
      env["CHAT_AUTH_ACCOUNT_SIGNING_SEED_FILE"] = op_.chat_signing_seed_file.string();
      env["CHAT_AUTH_RATE_LIMIT_PER_SECOND"] = "1000";
      env["CHAT_AUTH_USER_RATE_LIMIT_PER_MINUTE"] = "100000";  // drills replay one user's token
    }
    for (const auto& [k, v] : options_.service_env) env[k] = v;
    if (auto it = options_.per_service_env.find(name); it != options_.per_service_env.end()) {
      for (const auto& [k, v] : it->second) env[k] = v;
    }
    svc.process = std::make_unique<ChildProcess>(name, std::vector<std::string>{BinaryOf(name)},
                                                 env, dir_ / (name + ".log"));
    if (!svc.process->Start()) return core::Internal("could not start " + name);
    int port = svc.metrics_port;
    if (!WaitFor([&] { return HttpGet(port, "/readyz").ok() || !svc.process->Alive(); },
                 std::chrono::seconds(40)) ||
        !svc.process->Alive()) {
      return core::Unavailable(name + " not ready; log tail:\n" + svc.process->LogTail());
    }
    return core::Status();
  }

  ChatStackOptions options_;
  ChatStackBinaries bins_;
  std::filesystem::path dir_;
  nkeys::OperatorSetup op_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<PgCluster> pg_;
  std::string db_;
  std::unique_ptr<SinkProcess> sink_;
  std::unique_ptr<ChildProcess> idp_;
  int idp_port_ = 0;
  int auth_port_ = 0;
  std::vector<std::string> order_;
  std::map<std::string, Service> services_;
  std::unique_ptr<ChildProcess> nats_exporter_;
  int nats_exporter_port_ = 0;
};

}  // namespace chat::testing
