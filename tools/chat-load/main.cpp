// chat-load: an open-loop load generator for the local stack. It logs in real seeded users
// (OIDC password grant + auth-service JWT, exactly like the browser), joins the public rooms
// load-1..R, sends at a fixed total rate spread over the sessions for a bounded time, and
// measures what came back: deliveries (room.notify notifications seen by the watchers), rows in
// Postgres (by a per-run nonce in the text) and latency percentiles. Loopback URLs only: this
// tool must never be pointed at a shared deployment.
//
// Measurement choices (also printed with --help):
// * delivered = the sender's own notification on room.notify.{room} (the browser's echo). By
//   default notifications are counted without msg.get (cheap at high rates); --fetch does the
//   browser's msg.get per notification as well.
// * persisted = rows in `messages` whose text carries this run's nonce; send→persisted latency is
//   created_at − the message timestamp (both wall clock on this machine; created_at is the
//   persist-worker's transaction start, so it is at batch resolution).
// * More sessions than seeded users with a role (11) reuse logins: session i logs in as role user
//   i mod 11 with its own nkey, JWT and connection; sessions of one user share a MessageClock so
//   their message keys (room, timestamp, user) never collide.
// * --compare-tracing runs one phase only; the `./nats-chat load` wrapper restarts the services
//   with tracing on and off and computes the ratio from two --json outputs.
#include "chat/core/main.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "apps_load.hpp"
#include "chat/client/session.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/core/env.hpp"
#include "chat/telemetry/sdk/sdk.hpp"
#include "stats.hpp"
#include "users.hpp"

namespace {

using namespace std::chrono_literals;
using chat::client::Session;
using chat::load::Fmt;
using chat::load::Percentiles;
using Steady = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kUsage =
    "usage: chat-load [--users N] [--rooms R] [--rate MSGS_PER_S] [--duration SECONDS]\n"
    "                 [--sampling RATIO] [--compare-tracing] [--phase NAME] [--json]\n"
    "                 [--fetch] [--drain SECONDS] [--db DSN|none] [--idp URL] [--auth URL]\n"
    "                 [--nats URL] [--scenario chat|apps] [--workers N]\n"
    "Logs in N sessions as the seeded users with a role (more than 11 reuse logins), joins the\n"
    "public rooms load-1..R (users spread over the rooms), sends RATE messages/s in total (open "
    "loop, round-robin over the\n"
    "sessions and rooms) for DURATION seconds, then waits up to --drain seconds for deliveries\n"
    "and rows. delivered = the sender's own room.notify notification (msg.get only with --fetch);\n"
    "persisted = rows in `messages` with this run's nonce (--db, default DATABASE_URL or\n"
    "postgresql://postgres@127.0.0.1:5433/chatdb; `none` skips it). --sampling sets chat-load's "
    "own\n"
    "trace sampling ratio. --compare-tracing runs one phase (the ./nats-chat load wrapper "
    "restarts\n"
    "the services with tracing on/off and computes the ratio). Loopback URLs only.\n"
    "--scenario apps: the sessions vote in one poll per room and send whiteboard deltas to one\n"
    "board per room instead (RATE app requests/s, half each, over --workers threads, default\n"
    "64); it reports latency from each request's due time, and lost votes, elements\n"
    "and sync broadcasts (see tools/chat-load/apps_load.hpp).\n";

int Usage(const std::string& problem) {
  if (!problem.empty()) std::fprintf(stderr, "chat-load: %s\n", problem.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

struct Config {
  int users = 4;
  int rooms = 2;
  double rate = 50;
  double duration_s = 10;
  double sampling = 1.0;
  bool compare_tracing = false;
  bool json = false;
  bool fetch = false;
  double drain_s = 10;
  std::string db;
  std::string phase;
  bool apps = false;  // --scenario apps
  int workers = 0;
  chat::client::LoginOptions login;
};

struct Tracked {
  size_t sender = 0;
  Steady::time_point sent_at;
  bool delivered_to_sender = false;
  uint32_t deliveries = 0;
};

struct Tracker {
  std::mutex mu;
  std::unordered_map<std::string, Tracked> by_id;
  std::vector<double> delivered_ms;  // send → sender's own notification
  uint64_t delivered_to_sender = 0;
  uint64_t deliveries = 0;
  uint64_t foreign = 0;  // notifications for messages this run did not send
  std::unordered_set<std::string> warmups_pending;  // warm-up messages not yet echoed
};

std::string Nonce() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kHex[gen() % 16];
  return out;
}

// Postgres side: counts, duplicates and created_at − timestamp of this run's rows.
struct DbFigures {
  bool available = false;
  std::string error;
  int64_t rows = 0;
  int64_t distinct = 0;
  int64_t duplicated = 0;
  std::vector<double> persisted_ms;
};

class Db {
 public:
  explicit Db(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {}
  ~Db() { PQfinish(conn_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // One row of integers for `sql` with $1 = pattern; empty on error.
  std::vector<int64_t> Row(const char* sql, const std::string& pattern) {
    const char* params[1] = {pattern.c_str()};
    PGresult* r = PQexecParams(conn_, sql, 1, nullptr, params, nullptr, nullptr, 0);
    std::vector<int64_t> out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      for (int c = 0; c < PQnfields(r); ++c) out.push_back(std::atoll(PQgetvalue(r, 0, c)));
    } else {
      last_error_ = PQresultErrorMessage(r);
    }
    PQclear(r);
    return out;
  }
  std::vector<double> Column(const char* sql, const std::string& pattern) {
    const char* params[1] = {pattern.c_str()};
    PGresult* r = PQexecParams(conn_, sql, 1, nullptr, params, nullptr, nullptr, 0);
    std::vector<double> out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.push_back(std::atof(PQgetvalue(r, i, 0)));
    } else {
      last_error_ = PQresultErrorMessage(r);
    }
    PQclear(r);
    return out;
  }
  const std::string& last_error() const { return last_error_; }

 private:
  PGconn* conn_;
  std::string last_error_;
};

bool ParseDouble(const char* s, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return end != s && *end == '\0' && std::isfinite(out);
}

}  // namespace

static int Run(int argc, char** argv) {
  static const chat::core::ProcessEnv kEnv;
  Config cfg;
  cfg.login = chat::client::LoginOptionsFromEnv(kEnv);
  cfg.login.client_name = "chat-load";
  cfg.db = kEnv.Get("DATABASE_URL").value_or("postgresql://postgres@127.0.0.1:5433/chatdb");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    double d = 0;
    auto number = [&](const char* name, double min, double max, double& out) -> bool {
      if ((v = value()) == nullptr || !ParseDouble(v, d) || d < min || d > max) {
        Usage(std::string(name) + " needs a number in [" + std::to_string(min) + ", " +
              std::to_string(max) + "]");
        return false;
      }
      out = d;
      return true;
    };
    double tmp = 0;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--users") {
      if (!number("--users", 1, 1000, tmp)) return 2;
      cfg.users = static_cast<int>(tmp);
    } else if (a == "--rooms") {
      if (!number("--rooms", 1, 100, tmp)) return 2;
      cfg.rooms = static_cast<int>(tmp);
    } else if (a == "--rate") {
      if (!number("--rate", 0.1, 100000, cfg.rate)) return 2;
    } else if (a == "--duration") {
      if (!number("--duration", 0.1, 3600, cfg.duration_s)) return 2;
    } else if (a == "--sampling") {
      if (!number("--sampling", 0, 1, cfg.sampling)) return 2;
    } else if (a == "--drain") {
      if (!number("--drain", 0, 600, cfg.drain_s)) return 2;
    } else if (a == "--compare-tracing") {
      cfg.compare_tracing = true;
    } else if (a == "--json") {
      cfg.json = true;
    } else if (a == "--fetch") {
      cfg.fetch = true;
    } else if (a == "--scenario") {
      if ((v = value()) == nullptr || (std::string(v) != "chat" && std::string(v) != "apps")) {
        return Usage("--scenario must be chat or apps");
      }
      cfg.apps = std::string(v) == "apps";
    } else if (a == "--workers") {
      if (!number("--workers", 1, 256, tmp)) return 2;
      cfg.workers = static_cast<int>(tmp);
    } else if (a == "--phase") {
      if ((v = value()) == nullptr) return Usage("--phase needs a value");
      cfg.phase = v;
    } else if (a == "--db") {
      if ((v = value()) == nullptr) return Usage("--db needs a value");
      cfg.db = v;
    } else if (a == "--idp") {
      if ((v = value()) == nullptr) return Usage("--idp needs a value");
      cfg.login.idp_base = v;
    } else if (a == "--auth") {
      if ((v = value()) == nullptr) return Usage("--auth needs a value");
      cfg.login.auth_url = v;
    } else if (a == "--nats") {
      if ((v = value()) == nullptr) return Usage("--nats needs a value");
      cfg.login.nats_urls = {v};
    } else {
      return Usage("unknown argument " + a);
    }
  }
  bool use_db = !cfg.db.empty() && cfg.db != "none";
  // Loopback only: refuse anything else before the first connection.
  std::vector<std::string> urls = {cfg.login.idp_base, cfg.login.auth_url};
  urls.insert(urls.end(), cfg.login.nats_urls.begin(), cfg.login.nats_urls.end());
  if (use_db) urls.push_back(cfg.db);
  for (const auto& u : urls) {
    if (!chat::client::IsLoopbackUrl(u)) {
      std::fprintf(stderr, "chat-load: refusing non-loopback URL %s (loopback only)\n", u.c_str());
      return 2;
    }
  }
  const auto total = static_cast<uint64_t>(std::llround(cfg.rate * cfg.duration_s));
  if (total == 0) return Usage("--rate × --duration is less than one message");

  auto tconfig = chat::telemetry::sdk::TelemetryConfig::FromEnv(kEnv, "chat-load");
  tconfig.metrics_exporter = "none";
  tconfig.traces_sampler = "parentbased_traceidratio";
  tconfig.traces_sampler_arg = cfg.sampling;
  if (!kEnv.Get("LOG_LEVEL")) tconfig.log_level = chat::telemetry::LogLevel::kWarn;
  auto sdk =
      chat::telemetry::sdk::TelemetrySdk::Create(tconfig, chat::core::SystemClock::Instance());
  const auto& clock = chat::core::SystemClock::Instance();

  // 1. Logins.
  std::vector<chat::devidp::SeedUser> role_users;
  for (auto& u : chat::devidp::DefaultSeedUsers()) {
    if (!u.roles.empty()) role_users.push_back(std::move(u));
  }
  std::map<std::string, std::shared_ptr<chat::client::MessageClock>> clocks;
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < cfg.users; ++i) {
    const auto& u = role_users[static_cast<size_t>(i) % role_users.size()];
    auto& mc = clocks[u.username];
    if (!mc) mc = std::make_shared<chat::client::MessageClock>(clock);
    chat::client::LoginOptions o = cfg.login;
    o.user = u.username;
    o.password = u.password;
    o.message_clock = mc;
    chat::core::Result<std::unique_ptr<Session>> s = chat::core::Unavailable("not tried");
    for (int attempt = 0; attempt < 10; ++attempt) {
      s = Session::Login(o, sdk->telemetry(), clock);
      if (s.ok() || s.status().code() != chat::core::ErrorCode::kResourceExhausted) break;
      std::this_thread::sleep_for(1100ms);  // auth-service rate limit: Retry-After 1
    }
    if (!s.ok()) {
      std::fprintf(stderr, "chat-load: login of %s failed: %s\n", u.username.c_str(),
                   s.status().message().c_str());
      sdk->Shutdown(3000ms);
      return 1;
    }
    sessions.push_back(std::move(s).value());
  }
  const size_t distinct_logins = std::min(sessions.size(), role_users.size());

  // 2. Rooms and watchers. The users are spread over the rooms (session k is in room k mod R,
  // and in k+S, k+2S, … when there are more rooms than sessions), so each message reaches the
  // members of one room, as in a real team chat, rather than every session of the run.
  std::vector<std::string> rooms;
  for (int r = 1; r <= cfg.rooms; ++r) rooms.push_back("load-" + std::to_string(r));
  std::vector<std::vector<std::string>> rooms_of(sessions.size());
  for (size_t r = 0; r < rooms.size(); ++r) rooms_of[r % sessions.size()].push_back(rooms[r]);
  for (size_t k = rooms.size(); k < sessions.size(); ++k) {
    rooms_of[k].push_back(rooms[k % rooms.size()]);
  }
  if (cfg.apps) {
    chat::load::AppsLoadOptions apps;
    apps.rate = cfg.rate;
    apps.duration_s = cfg.duration_s;
    apps.drain_s = cfg.drain_s;
    if (cfg.workers > 0) apps.workers = cfg.workers;
    apps.phase = cfg.phase;
    apps.json = cfg.json;
    const int rc = chat::load::RunAppsLoad(apps, sessions, rooms_of, sdk->telemetry());
    for (auto& s : sessions) (void)s->Close(2s);
    sessions.clear();
    sdk->Shutdown(3000ms);
    return rc;
  }
  std::unordered_map<std::string, uint64_t> members_of;  // room → sessions watching it
  for (const auto& mine : rooms_of) {
    for (const auto& r : mine) ++members_of[r];
  }
  uint64_t deliveries_expected = 0;
  Tracker tracker;
  std::vector<std::unique_ptr<chat::client::Watch>> watches;
  for (size_t k = 0; k < sessions.size(); ++k) {
    for (const auto& r : rooms_of[k]) {
      if (auto st = sessions[k]->Join(r); !st.ok()) {
        std::fprintf(stderr, "chat-load: join failed: %s\n", st.message().c_str());
        sdk->Shutdown(3000ms);
        return 1;
      }
    }
    auto w = sessions[k]->WatchRooms(
        rooms_of[k],
        [&tracker, k](const chat::client::Delivery& d) {
          auto now = Steady::now();
          std::string id = chat::contracts::MessageId(d.message.timestamp, d.message.user);
          std::lock_guard lock(tracker.mu);
          auto it = tracker.by_id.find(id);
          if (it == tracker.by_id.end()) {
            if (tracker.warmups_pending.erase(id) == 0) ++tracker.foreign;
            return;
          }
          ++tracker.deliveries;
          ++it->second.deliveries;
          if (it->second.sender == k && !it->second.delivered_to_sender) {
            it->second.delivered_to_sender = true;
            ++tracker.delivered_to_sender;
            tracker.delivered_ms.push_back(
                std::chrono::duration<double, std::milli>(now - it->second.sent_at).count());
          }
        },
        {.fetch = cfg.fetch});
    if (!w.ok()) {
      std::fprintf(stderr, "chat-load: watch failed: %s\n", w.status().message().c_str());
      sdk->Shutdown(3000ms);
      return 1;
    }
    watches.push_back(std::move(w).value());
  }
  for (auto& s : sessions) (void)s->Flush(5s);
  // room.join is fire-and-forget (no reply). Membership is in effect once fanout accepts a
  // message from the member: each session sends one warm-up message to each of its rooms and
  // the run starts when every one has come back (bounded wait). Warm-ups carry no nonce, so
  // they are not counted below.
  {
    std::vector<std::string> ids;
    for (size_t k = 0; k < sessions.size(); ++k) {
      for (const auto& r : rooms_of[k]) {
        std::lock_guard lock(tracker.mu);
        auto sent_warmup = sessions[k]->Send(r, "chat-load warm-up");
        if (sent_warmup.ok()) tracker.warmups_pending.insert(sent_warmup->message_id);
      }
    }
    for (auto& s : sessions) (void)s->Flush(5s);
    // A warm-up sent before room-service applied the join is refused (silently, like any
    // non-member message): resend the missing ones every second until they come back.
    auto deadline = Steady::now() + 15s;
    auto resend_at = Steady::now() + 1s;
    bool ready = false;
    while (Steady::now() < deadline) {
      {
        std::lock_guard lock(tracker.mu);
        ready = tracker.warmups_pending.empty();
      }
      if (ready) break;
      if (Steady::now() >= resend_at) {
        resend_at = Steady::now() + 1s;
        std::lock_guard lock(tracker.mu);
        tracker.warmups_pending.clear();
        for (size_t k = 0; k < sessions.size(); ++k) {
          for (const auto& r : rooms_of[k]) {
            auto again = sessions[k]->Send(r, "chat-load warm-up");
            if (again.ok()) tracker.warmups_pending.insert(again->message_id);
          }
        }
      }
      std::this_thread::sleep_for(20ms);  // polling a condition with a deadline
    }
    if (!ready) {
      std::fprintf(stderr,
                   "chat-load: the warm-up messages did not come back within 15 s (joins not "
                   "applied, or fanout/room-service down)\n");
      sdk->Shutdown(3000ms);
      return 1;
    }
  }

  // 3. Open-loop sending: message i is due at start + i/rate whatever happened before.
  const std::string nonce = Nonce();
  uint64_t sent = 0;
  uint64_t send_errors = 0;
  double max_lag_ms = 0;
  // The `./nats-chat load --drill` wrapper times its fault from this line.
  std::fprintf(stderr, "chat-load: sending started\n");
  std::fflush(stderr);
  auto start = Steady::now();
  auto hard_stop = start + std::chrono::duration_cast<Steady::duration>(
                               std::chrono::duration<double>(cfg.duration_s * 2 + 5));
  for (uint64_t i = 0; i < total; ++i) {
    auto due = start + std::chrono::duration_cast<Steady::duration>(
                           std::chrono::duration<double>(static_cast<double>(i) / cfg.rate));
    std::this_thread::sleep_until(due);
    auto now = Steady::now();
    if (now > hard_stop) break;  // far behind schedule: stop rather than run unbounded
    max_lag_ms = std::max(max_lag_ms, std::chrono::duration<double, std::milli>(now - due).count());
    auto k = static_cast<size_t>(i % sessions.size());
    const auto& mine = rooms_of[k];
    const std::string& room = mine[static_cast<size_t>((i / sessions.size()) % mine.size())];
    std::string text = "load " + nonce + " " + std::to_string(i);
    // Held across the publish so a fast notification cannot arrive before it is tracked.
    std::lock_guard lock(tracker.mu);
    auto r = sessions[k]->Send(room, text);
    if (!r.ok()) {
      ++send_errors;
      continue;
    }
    tracker.by_id[r->message_id] = Tracked{k, Steady::now(), false, 0};
    ++sent;
    deliveries_expected += members_of[room];
  }
  auto send_end = Steady::now();
  for (auto& s : sessions) (void)s->Flush(5s);

  // 4. Drain: wait (bounded) for every sender's echo and every row.
  auto drain_deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                            std::chrono::duration<double>(cfg.drain_s));
  while (Steady::now() < drain_deadline) {
    {
      std::lock_guard lock(tracker.mu);
      if (tracker.delivered_to_sender >= sent) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  DbFigures dbf;
  const std::string pattern = "load " + nonce + " %";
  if (use_db) {
    Db db(cfg.db);
    if (!db.ok()) {
      dbf.error = db.error();
    } else {
      dbf.available = true;
      while (true) {
        auto row = db.Row(
            "SELECT count(*), count(DISTINCT (room, \"timestamp\", username)) "
            "FROM messages WHERE text LIKE $1",
            pattern);
        if (row.size() == 2) {
          dbf.rows = row[0];
          dbf.distinct = row[1];
        } else {
          dbf.error = db.last_error();
          break;
        }
        if (static_cast<uint64_t>(dbf.distinct) >= sent || Steady::now() >= drain_deadline) break;
        std::this_thread::sleep_for(200ms);
      }
      auto dup = db.Row(
          "SELECT count(*) FROM (SELECT 1 FROM messages WHERE text LIKE $1 "
          "GROUP BY room, \"timestamp\", username HAVING count(*) > 1) d",
          pattern);
      if (dup.size() == 1) dbf.duplicated = dup[0];
      dbf.persisted_ms = db.Column(
          "SELECT extract(epoch from created_at) * 1000 - \"timestamp\" FROM messages "
          "WHERE text LIKE $1",
          pattern);
    }
  }

  uint64_t fetch_failures = 0;
  for (const auto& w : watches) fetch_failures += w->fetch_failures();
  watches.clear();
  double permission_errors = sessions.empty() ? 0 : sessions[0]->PermissionErrors();
  for (auto& s : sessions) (void)s->Close(2s);
  sessions.clear();

  // 5. Report.
  std::vector<double> delivered_ms;
  uint64_t delivered = 0;
  uint64_t deliveries = 0;
  uint64_t foreign = 0;
  {
    std::lock_guard lock(tracker.mu);
    delivered_ms = tracker.delivered_ms;
    delivered = tracker.delivered_to_sender;
    deliveries = tracker.deliveries;
    foreign = tracker.foreign;
  }
  double send_seconds = std::chrono::duration<double>(send_end - start).count();
  json out = {
      {"phase", cfg.phase},
      {"compare_tracing", cfg.compare_tracing},
      {"nonce", nonce},
      {"users", cfg.users},
      {"distinct_logins", distinct_logins},
      {"rooms", cfg.rooms},
      {"rate_target", cfg.rate},
      {"duration_s", cfg.duration_s},
      {"sampling", cfg.sampling},
      {"delivery_method", cfg.fetch ? "notification+msg.get" : "notification"},
      {"sent", sent},
      {"send_errors", send_errors},
      {"rate_achieved", send_seconds > 0 ? static_cast<double>(sent) / send_seconds : 0.0},
      {"max_schedule_lag_ms", max_lag_ms},
      {"delivered_to_sender", delivered},
      {"deliveries_total", deliveries},
      {"deliveries_expected", deliveries_expected},
      {"foreign_notifications", foreign},
      {"lost_delivery", sent - std::min(sent, delivered)},
      {"permission_errors", permission_errors},
      {"fetch_failures", fetch_failures},
      {"delivered_ms", Percentiles(delivered_ms)},
  };
  if (use_db) {
    out["persisted"] = dbf.distinct;
    out["persisted_rows"] = dbf.rows;
    out["duplicated"] = dbf.duplicated;
    out["lost_persist"] = static_cast<int64_t>(sent) - dbf.distinct;
    out["persisted_ms"] = Percentiles(dbf.persisted_ms);
    if (!dbf.error.empty()) out["db_error"] = dbf.error;
  }
  if (cfg.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "chat-load %s(nonce %s): %d session(s) over %zu login(s), %d room(s), "
        "%.1f msg/s for %.1f s, delivery by %s\n",
        cfg.phase.empty() ? "" : ("phase " + cfg.phase + " ").c_str(), nonce.c_str(), cfg.users,
        distinct_logins, cfg.rooms, cfg.rate, cfg.duration_s,
        cfg.fetch ? "notification+msg.get" : "notification");
    std::printf("  %-28s %llu (errors %llu, achieved %.1f msg/s, max lag %.1f ms)\n", "sent",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(send_errors),
                out["rate_achieved"].get<double>(), max_lag_ms);
    std::printf("  %-28s %llu (lost %llu)\n", "delivered to sender",
                static_cast<unsigned long long>(delivered),
                static_cast<unsigned long long>(sent - std::min(sent, delivered)));
    std::printf("  %-28s %llu of %llu expected\n", "deliveries (all watchers)",
                static_cast<unsigned long long>(deliveries),
                static_cast<unsigned long long>(deliveries_expected));
    std::printf("  %-28s p50 %s  p95 %s  p99 %s ms\n", "send→delivered",
                Fmt(out["delivered_ms"]["p50"]).c_str(), Fmt(out["delivered_ms"]["p95"]).c_str(),
                Fmt(out["delivered_ms"]["p99"]).c_str());
    if (use_db) {
      if (!dbf.error.empty()) std::printf("  database error: %s\n", dbf.error.c_str());
      std::printf("  %-28s %lld (rows %lld, lost %lld, duplicated %lld)\n", "persisted",
                  static_cast<long long>(dbf.distinct), static_cast<long long>(dbf.rows),
                  static_cast<long long>(static_cast<int64_t>(sent) - dbf.distinct),
                  static_cast<long long>(dbf.duplicated));
      std::printf("  %-28s p50 %s  p95 %s  p99 %s ms\n", "send→persisted",
                  Fmt(out["persisted_ms"]["p50"]).c_str(), Fmt(out["persisted_ms"]["p95"]).c_str(),
                  Fmt(out["persisted_ms"]["p99"]).c_str());
    }
    if (permission_errors > 0) {
      std::printf("  permission errors: %.0f\n", permission_errors);
    }
  }
  sdk->Shutdown(3000ms);
  bool complete = delivered >= sent && (!use_db || static_cast<uint64_t>(dbf.distinct) >= sent);
  return complete ? 0 : 3;
}

int main(int argc, char** argv) {
  return chat::core::RunMain([&] { return Run(argc, argv); });
}
