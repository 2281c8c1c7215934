// testing::PgCluster: a throwaway PostgreSQL 15 cluster for integration tests (style.md rule 15).
//
// Create() runs initdb in a fresh temp dir with scram-sha-256 authentication for local and TCP
// connections (like the local stack and deploy/: no trust anywhere, so tests exercise SCRAM) and
// a random superuser password, starts postgres on a random free 127.0.0.1 port plus
// a Unix socket in that dir (fsync and synchronous_commit off), waits for readiness with a
// deadline, and builds the template database `chat_template` (optionally prepared by a callback,
// e.g. one that applies db/migrations). Each test then takes its own CREATE DATABASE t_<random>
// TEMPLATE chat_template. Postgres refuses to run as root: under root the server binaries run as
// the `postgres` system user (else `nobody`) via runuser, with the temp dir chowned to it.
// Stop()/Start() let fault tests take the server away and bring it back on the same port.
// The destructor stops the server (immediate mode) and removes the dir. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"

namespace chat::testing {

class PgCluster {
 public:
  struct Options {
    // Called once with the DSN of the empty template database; must close every connection it
    // opened before returning (CREATE DATABASE ... TEMPLATE needs the template idle).
    std::function<core::Status(const std::string& dsn)> prepare_template;
    std::chrono::milliseconds ready_timeout{30000};
  };

  static core::Result<std::unique_ptr<PgCluster>> Create(Options options);
  static core::Result<std::unique_ptr<PgCluster>> Create() { return Create(Options{}); }
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // pg_ctl stop -m fast (clients see their connections terminated) / start again, same port.
  core::Status Stop();
  core::Status Start();
  bool running() const { return running_; }

  // CREATE DATABASE t_<16 hex> TEMPLATE chat_template; returns the database name.
  core::Result<std::string> CreateDatabase();
  // Runs SQL with psql as the superuser (ON_ERROR_STOP); returns psql's unaligned output.
  core::Result<std::string> RunSql(const std::string& dbname, const std::string& sql);

  // "host=127.0.0.1 port=N dbname=<db> user=postgres password=<superuser password>" (TCP).
  std::string Dsn(const std::string& dbname) const;
  // Same over the Unix socket in the temp dir.
  std::string SocketDsn(const std::string& dbname) const;
  // TCP DSN for another role; an empty password leaves `password=` out (to prove a refusal).
  std::string DsnAs(const std::string& dbname, const std::string& user,
                    const std::string& password) const;
  const std::string& superuser_password() const { return superuser_password_; }

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& socket_dir() const { return dir_; }
  const std::string& bin_dir() const { return bin_dir_; }
  static constexpr const char* kTemplate = "chat_template";
  static constexpr const char* kSuperuser = "postgres";

 private:
  PgCluster() = default;
  core::Status Init();
  core::Status StartServer();
  bool IsReady() const;
  // Runs a server binary (as the unprivileged user when we are root); output to a log file.
  // `env` (KEY=VALUE) is added to the child's environment.
  int Run(const std::vector<std::string>& argv, bool as_server_user, std::string* output,
          const std::vector<std::string>& env = {}) const;

  Options options_;
  std::string bin_dir_;
  std::string dir_;  // temp dir: socket dir, holds data/ and logs
  std::string data_dir_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  bool running_ = false;
  std::string run_as_;  // user for runuser, empty when not root
  std::string superuser_password_;
};

}  // namespace chat::testing
