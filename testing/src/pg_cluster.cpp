// testing::PgCluster: initdb + pg_ctl in a temp dir, driven through subprocesses only, so the
// testing library needs no libpq.
#include "chat/testing/pg_cluster.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "chat/testing/ports.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// pg_config --bindir, else the Debian default.
std::string FindBinDir() {
  std::string dir;
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr) dir += buf;
    pclose(p);
  }
  dir = Trim(dir);
  if (!dir.empty() && std::filesystem::exists(dir + "/initdb")) return dir;
  return "/usr/lib/postgresql/15/bin";
}

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kHex[gen() % 16];
  return s;
}

}  // namespace

core::Result<std::unique_ptr<PgCluster>> PgCluster::Create(Options options) {
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->options_ = std::move(options);
  CHAT_RETURN_IF_ERROR(c->Init());
  CHAT_RETURN_IF_ERROR(c->StartServer());
  auto created = c->RunSql("postgres", std::string("CREATE DATABASE ") + kTemplate);
  if (!created.ok()) return created.status();
  if (c->options_.prepare_template) {
    core::Status st = c->options_.prepare_template(c->Dsn(kTemplate));
    if (!st.ok()) {
      return core::Status(st.code(), "preparing the template database: " + st.message());
    }
  }
  return c;
}

core::Status PgCluster::Init() {
  bin_dir_ = FindBinDir();
  char tmpl[] = "/tmp/chat-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return core::Internal("mkdtemp failed");
  dir_ = tmpl;
  data_dir_ = dir_ + "/data";
  // The superuser's password goes to initdb through a file readable only by the server user.
  superuser_password_ = RandomHex(32);
  const std::string pwfile = dir_ + "/superuser.pw";
  {
    const int fd = open(pwfile.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return core::Internal("cannot write " + pwfile);
    const std::string line = superuser_password_ + "\n";
    const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    close(fd);
    if (!written) return core::Internal("cannot write " + pwfile);
  }
  if (geteuid() == 0) {
    // initdb and postgres refuse to run as root.
    passwd entry{};
    std::array<char, 4096> strings{};
    passwd* pw = nullptr;
    for (const char* name : {"postgres", "nobody"}) {
      if (getpwnam_r(name, &entry, strings.data(), strings.size(), &pw) == 0 && pw != nullptr) {
        break;
      }
    }
    if (pw == nullptr) return core::Internal("running as root and no postgres/nobody user exists");
    run_as_ = pw->pw_name;
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
        chown(pwfile.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return core::Internal("cannot chown " + dir_ + " to " + run_as_);
    }
  }
  std::string out;
  const int rc = Run(
      {bin_dir_ + "/initdb", "-D", data_dir_, "-U", kSuperuser, "--auth-local=scram-sha-256",
       "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "--no-locale", "-E", "UTF8", "--no-sync"},
      /*as_server_user=*/true, &out);
  unlink(pwfile.c_str());
  if (rc != 0) return core::Internal("initdb failed (exit " + std::to_string(rc) + "): " + out);
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# chat::testing::PgCluster\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "fsync = off\n"
       << "synchronous_commit = off\n"
       << "full_page_writes = off\n"
       << "max_connections = 50\n"
       << "shared_buffers = 16MB\n"
       << "log_min_messages = warning\n";
  if (!conf) return core::Internal("cannot write postgresql.conf");
  return core::Status::Ok();
}

core::Status PgCluster::StartServer() {
  std::string last_error;
  // A port picked as free can be taken before postgres binds it: retry with another.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0) port_ = FreePort();
    const std::string log = dir_ + "/server.log";
    std::string out;
    const auto timeout_s =
        std::to_string(std::max<int64_t>(1, options_.ready_timeout.count() / 1000));
    const int rc = Run({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", log, "-o",
                        "-p " + std::to_string(port_), "-w", "-t", timeout_s, "start"},
                       true, &out);
    if (rc == 0) {
      if (!WaitFor([&] { return IsReady(); }, options_.ready_timeout)) {
        return core::Internal("postgres did not become ready: " + ReadFile(log));
      }
      running_ = true;
      return core::Status::Ok();
    }
    last_error = out + ReadFile(log);
    if (last_error.find("could not bind") == std::string::npos &&
        last_error.find("already in use") == std::string::npos) {
      break;
    }
    port_ = 0;
  }
  return core::Internal("postgres failed to start: " + last_error);
}

bool PgCluster::IsReady() const {
  std::string out;
  return Run({bin_dir_ + "/pg_isready", "-q", "-h", host_, "-p", std::to_string(port_), "-U",
              kSuperuser, "-d", "postgres", "-t", "1"},
             false, &out) == 0;
}

core::Status PgCluster::Stop() {
  if (!running_) return core::Status::Ok();
  std::string out;
  const int rc = Run(
      {bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "30", "stop"}, true, &out);
  if (rc != 0) return core::Internal("pg_ctl stop failed: " + out);
  running_ = false;
  return core::Status::Ok();
}

core::Status PgCluster::Start() {
  if (running_) return core::Status::Ok();
  return StartServer();
}

PgCluster::~PgCluster() {
  if (running_) {
    std::string out;
    if (Run({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "-t", "10", "stop"},
            true, &out) != 0) {
      // Last resort: the postmaster pid is the first line of postmaster.pid.
      const std::string pid = ReadFile(data_dir_ + "/postmaster.pid");
      const int p = std::atoi(pid.c_str());
      if (p > 0) kill(p, SIGKILL);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

core::Result<std::string> PgCluster::RunSql(const std::string& dbname, const std::string& sql) {
  std::string out;
  const int rc =
      Run({bin_dir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host_, "-p",
           std::to_string(port_), "-U", kSuperuser, "-d", dbname, "-c", sql},
          false, &out, {"PGPASSWORD=" + superuser_password_});
  if (rc != 0) return core::Internal("psql failed (exit " + std::to_string(rc) + "): " + out);
  return out;
}

core::Result<std::string> PgCluster::CreateDatabase() {
  const std::string name = "t_" + RandomHex(16);
  auto r = RunSql("postgres", "CREATE DATABASE " + name + " TEMPLATE " + kTemplate);
  if (!r.ok()) return r.status();
  return name;
}

std::string PgCluster::Dsn(const std::string& dbname) const {
  return DsnAs(dbname, kSuperuser, superuser_password_);
}

std::string PgCluster::SocketDsn(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " dbname=" + dbname +
         " user=" + kSuperuser + " password=" + superuser_password_;
}

std::string PgCluster::DsnAs(const std::string& dbname, const std::string& user,
                             const std::string& password) const {
  std::string dsn =
      "host=" + host_ + " port=" + std::to_string(port_) + " dbname=" + dbname + " user=" + user;
  if (!password.empty()) dsn += " password=" + password;
  return dsn;
}

int PgCluster::Run(const std::vector<std::string>& argv, bool as_server_user, std::string* output,
                   const std::vector<std::string>& env) const {
  // Output goes to a file, not a pipe: pg_ctl start leaves a postmaster behind that would keep a
  // pipe open forever.
  static int counter = 0;
  const std::string out_path =
      dir_ + "/cmd-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".out";
  const int out_fd = open(out_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (out_fd < 0) return -1;
  std::vector<std::string> full;
  if (as_server_user && !run_as_.empty()) {
    full = {"/usr/sbin/runuser", "-u", run_as_, "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  // The child's environment, built before fork (nothing allocates after it).
  std::vector<std::string> env_strings = env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    // The server user may not be able to enter our working directory (e.g. /root).
    if (chdir(dir_.c_str()) != 0) _exit(126);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_fd);
  if (pid < 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (output != nullptr) *output = ReadFile(out_path);
  unlink(out_path.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace chat::testing
