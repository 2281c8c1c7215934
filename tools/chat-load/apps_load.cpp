#include "apps_load.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/polls.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/contracts/whiteboard.hpp"
#include "stats.hpp"

namespace chat::load {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using nlohmann::json;
namespace attr = contracts::attr;
namespace subjects = contracts::subjects;

constexpr int64_t kPollOptions = 4;
constexpr uint64_t kElementsPerSession = 4;
constexpr auto kRequestTimeout = 5s;
constexpr auto kMembershipWait = 15s;

double MsSince(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Each user always votes for the same option, so the expected counts do not depend on the order
// in which concurrent votes of one user were applied.
int64_t OptionOf(const std::string& user) {
  return static_cast<int64_t>(std::hash<std::string>{}(user) % kPollOptions);
}

// One app request as the web bridge makes it: an `app_request` root span (chat.app.id,
// chat.app.action, chat.room) whose CLIENT child carries traceparent into the service. The
// reply's payload, or the error reply's code and message as the status.
core::Result<std::string> AppRequest(client::Session& session, const telemetry::Telemetry& tel,
                                     std::string_view app, std::string_view room,
                                     std::string_view action, std::string_view body) {
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kAppId, std::string(app)},
                   {attr::kAppAction, std::string(action)},
                   {attr::kRoom, std::string(room)}};
  telemetry::Span span = tel.tracer.StartSpan("app_request", std::move(so));
  auto reply =
      session.connection().Request(subjects::kAppRequest, {app, room, action, session.user()}, body,
                                   kRequestTimeout, span.Context());
  core::Status status;
  std::string payload;
  if (!reply.ok()) {
    status = reply.status();
  } else {
    payload = std::string(reply->payload());
    if (contracts::IsErrorReply(payload)) {
      auto err = contracts::FromJson<contracts::ErrorReply>(payload);
      status = err.ok() ? contracts::ToStatus(*err) : err.status();
    }
  }
  if (!status.ok()) {
    span.RecordError(core::ErrorCodeName(status.code()), status.message(), "nats",
                     "app request failed");
    return status;
  }
  return payload;
}

template <typename T>
core::Result<T> AppCall(client::Session& session, const telemetry::Telemetry& tel,
                        std::string_view app, std::string_view room, std::string_view action,
                        std::string_view body) {
  CHAT_ASSIGN_OR_RETURN(std::string payload, AppRequest(session, tel, app, room, action, body));
  return contracts::FromJson<T>(payload);
}

// Installs the poll and whiteboard apps in `rooms` as `admin`, as a room manager would before
// anyone uses them: the app services refuse rooms without them (failed_precondition). The rooms
// are public (load-1..R), so only a platform admin may install, i.e. a member of the admin
// channel; `admin` joins it, and app-registry-service learns that from room.changed, so a
// permission_denied is retried until kMembershipWait. Re-installing is a no-op, so repeated runs
// (and rooms an earlier run set up) are fine; the installations are left in place.
core::Status InstallApps(client::Session& admin, const std::set<std::string>& rooms) {
  CHAT_RETURN_IF_ERROR(admin.Join(contracts::kAdminMembershipRoom));
  const auto deadline = Steady::now() + kMembershipWait;
  for (const auto& room : rooms) {
    for (const char* app : {"poll", "whiteboard"}) {
      contracts::AppInstallRequest req;
      req.app_id = app;
      req.user = admin.user();
      while (true) {
        // Set-up, not measured load: untraced.
        auto reply = admin.connection().Request(subjects::kAppsInstall, {room, admin.user()},
                                                contracts::ToJson(req), kRequestTimeout, {});
        core::Status status = reply.status();
        if (reply.ok()) {
          status = contracts::FromReply<contracts::OkReply>(reply->payload()).status();
        }
        if (status.ok()) break;
        if (status.code() != core::ErrorCode::kPermissionDenied || Steady::now() >= deadline) {
          return core::Status(status.code(), "installing " + std::string(app) + " in " + room +
                                                 " as " + admin.user() + ": " + status.message());
        }
        std::this_thread::sleep_for(100ms);  // polling a condition with a deadline
      }
    }
  }
  return core::Status();
}

struct RoomState {
  std::string room;
  client::Session* owner = nullptr;  // creates, checks and cleans up the poll and the board
  std::string poll_id;
  std::string board_id;
};

// One request's outcome, kept per worker and merged after the run.
struct Outcome {
  bool vote = false;
  std::string error;  // empty when ok
  double latency_ms = 0;
};

// What the run wrote and saw, shared by the workers and the sync subscriptions.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::set<std::string>> voters;  // room → users with an ok vote
  // room → element → highest version acknowledged (ok delta reply).
  std::map<std::string, std::map<std::string, int64_t>> acked_version;
  // (room, element, version) → when the delta was due; erased when its sync reaches the sender.
  std::map<std::tuple<std::string, std::string, int64_t>, Steady::time_point> awaiting_sync;
  // (room, element) → highest version its sender saw in a sync.
  std::map<std::pair<std::string, std::string>, int64_t> synced_version;
  std::vector<double> sync_ms;  // due → the sender's own sync
  uint64_t syncs_received = 0;
};

std::string ElementId(size_t session, uint64_t j) {
  return "s" + std::to_string(session) + "-e" + std::to_string(j);
}

std::string ElementJson(const std::string& id, int64_t version, uint64_t i) {
  json e = {{"id", id},     {"version", version},       {"type", "rectangle"},
            {"x", i % 800}, {"y", (i / 800) % 600},     {"width", 40},
            {"height", 30}, {"strokeColor", "#1e1e1e"}, {"isDeleted", false}};
  return e.dump();
}

}  // namespace

int RunAppsLoad(const AppsLoadOptions& options,
                const std::vector<std::unique_ptr<client::Session>>& sessions,
                const std::vector<std::vector<std::string>>& rooms_of,
                const telemetry::Telemetry& telemetry) {
  const size_t n_sessions = sessions.size();
  const auto total = static_cast<uint64_t>(std::llround(options.rate * options.duration_s));

  // 1. Membership: join, then wait until the poll service answers the member (room.join is
  // fire-and-forget; the app services learn members from room.changed).
  std::map<std::string, RoomState> rooms;
  for (size_t k = 0; k < n_sessions; ++k) {
    for (const auto& r : rooms_of[k]) {
      if (auto st = sessions[k]->Join(r); !st.ok()) {
        std::fprintf(stderr, "chat-load: join %s failed: %s\n", r.c_str(), st.message().c_str());
        return 1;
      }
      auto& state = rooms[r];
      if (state.owner == nullptr) state = RoomState{r, sessions[k].get(), "", ""};
    }
  }
  // The first admin-tier session installs the apps (the seeded users start with alice, an admin).
  client::Session* admin = nullptr;
  for (const auto& s : sessions) {
    if (admin == nullptr && s->tier() == "admin") admin = s.get();
  }
  std::set<std::string> room_names;
  for (const auto& [room, state] : rooms) room_names.insert(room);
  const core::Status installed = admin == nullptr
                                     ? core::FailedPrecondition("no session holds the admin role")
                                     : InstallApps(*admin, room_names);
  if (!installed.ok()) {
    std::fprintf(stderr, "chat-load: cannot install the poll and whiteboard apps: %s\n",
                 installed.message().c_str());
    return 1;
  }
  for (size_t k = 0; k < n_sessions; ++k) {
    for (const auto& r : rooms_of[k]) {
      const auto deadline = Steady::now() + kMembershipWait;
      while (true) {
        auto listed = AppRequest(*sessions[k], telemetry, "poll", r, "list", "{}");
        if (listed.ok()) break;
        if (listed.status().code() != core::ErrorCode::kPermissionDenied ||
            Steady::now() >= deadline) {
          std::fprintf(stderr, "chat-load: %s cannot use the apps in %s: %s\n",
                       sessions[k]->user().c_str(), r.c_str(), listed.status().message().c_str());
          return 1;
        }
        std::this_thread::sleep_for(100ms);  // polling a condition with a deadline
      }
    }
  }

  // 2. One poll and one board per room, created by the room's first session.
  const std::string run_name =
      "chat-load " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  for (auto& [room, state] : rooms) {
    contracts::PollRequest create;
    create.question = run_name;
    for (int64_t o = 0; o < kPollOptions; ++o) {
      create.options.push_back("option " + std::to_string(o));
    }
    auto poll = AppCall<contracts::PollRef>(*state.owner, telemetry, "poll", room, "create",
                                            contracts::ToJson(create));
    auto board = AppCall<contracts::WhiteboardCreateReply>(
        *state.owner, telemetry, "whiteboard", room, "create",
        contracts::ToJson(contracts::WhiteboardCreateRequest{run_name, ""}));
    if (!poll.ok() || !board.ok()) {
      std::fprintf(stderr, "chat-load: setting up %s failed: %s\n", room.c_str(),
                   (!poll.ok() ? poll.status() : board.status()).message().c_str());
      return 1;
    }
    state.poll_id = poll->poll_id;
    state.board_id = board->id;
  }

  // 3. Each session hears the sync broadcasts of the boards it draws on.
  Ledger ledger;
  std::vector<std::unique_ptr<natsx::Subscription>> subs;
  for (size_t k = 0; k < n_sessions; ++k) {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverApp};
    so.pattern = "deliver." + sessions[k]->user() + ".app.whiteboard.*.sync";
    so.link_inbound = true;
    const std::string prefix = "s" + std::to_string(k) + "-";
    auto sub = sessions[k]->connection().Subscribe(
        so, [&ledger, prefix](const natsx::Message& msg, natsx::MessageContext&) {
          const auto now = Steady::now();
          auto sync = contracts::FromJson<contracts::WhiteboardSync>(msg.payload());
          if (!sync.ok()) return sync.status();
          const std::string room(msg.Arg("room").value_or(""));
          std::lock_guard lock(ledger.mu);
          ++ledger.syncs_received;
          for (const auto& e : sync->elements) {
            if (e.id.rfind(prefix, 0) != 0) continue;  // another session's element
            auto& seen = ledger.synced_version[{room, e.id}];
            seen = std::max(seen, e.version);
            auto it = ledger.awaiting_sync.find({room, e.id, e.version});
            if (it != ledger.awaiting_sync.end()) {
              ledger.sync_ms.push_back(MsSince(it->second, now));
              ledger.awaiting_sync.erase(it);
            }
          }
          return core::Status();
        });
    if (!sub.ok()) {
      std::fprintf(stderr, "chat-load: subscribing to syncs failed: %s\n",
                   sub.status().message().c_str());
      return 1;
    }
    subs.push_back(std::move(sub).value());
  }
  for (const auto& s : sessions) (void)s->Flush(5s);

  // 4. Open loop: request i is due at start + i/rate on worker i mod W, whatever came before;
  // its latency runs from that due time.
  const auto n_workers = static_cast<size_t>(std::max(1, options.workers));
  std::vector<std::vector<Outcome>> outcomes(n_workers);
  std::vector<double> worker_lag(n_workers, 0);
  std::fprintf(stderr, "chat-load: sending started\n");
  std::fflush(stderr);
  const auto start = Steady::now() + 20ms;
  const auto hard_stop = start + std::chrono::duration_cast<Steady::duration>(
                                     std::chrono::duration<double>(options.duration_s * 2 + 5));
  std::vector<std::thread> workers;
  for (size_t w = 0; w < n_workers; ++w) {
    workers.emplace_back([&, w] {
      for (uint64_t i = w; i < total; i += n_workers) {
        const auto due =
            start + std::chrono::duration_cast<Steady::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / options.rate));
        std::this_thread::sleep_until(due);
        if (Steady::now() > hard_stop) break;  // far behind: stop rather than run unbounded
        worker_lag[w] = std::max(worker_lag[w], MsSince(due, Steady::now()));
        const size_t k = i % n_sessions;
        const uint64_t round = i / n_sessions;
        const auto& mine = rooms_of[k];
        const std::string& room = mine[(round / 2) % mine.size()];
        const RoomState& state = rooms.at(room);
        client::Session& s = *sessions[k];
        Outcome out;
        out.vote = round % 2 == 0;
        core::Status status;
        std::string id;  // the delta's element
        int64_t version = 0;
        if (out.vote) {
          contracts::PollRequest vote;
          vote.poll_id = state.poll_id;
          vote.option_idx = OptionOf(s.user());
          status = AppRequest(s, telemetry, "poll", room, "vote", contracts::ToJson(vote)).status();
        } else {
          id = ElementId(k, (round / 2) % kElementsPerSession);
          version = static_cast<int64_t>(i) + 1;  // later requests win (last writer by version)
          {
            std::lock_guard lock(ledger.mu);
            ledger.awaiting_sync[{room, id, version}] = due;
          }
          contracts::WhiteboardDeltaRequest delta;
          delta.board_id = state.board_id;
          delta.elements.push_back({id, version, ElementJson(id, version, i)});
          status = AppRequest(s, telemetry, "whiteboard", room, "delta", contracts::ToJson(delta))
                       .status();
        }
        out.latency_ms = MsSince(due, Steady::now());
        {
          std::lock_guard lock(ledger.mu);
          if (!status.ok()) {
            out.error = core::ErrorCodeName(status.code());
            if (!out.vote) ledger.awaiting_sync.erase({room, id, version});
          } else if (out.vote) {
            ledger.voters[room].insert(s.user());
          } else {
            auto& acked = ledger.acked_version[room][id];
            acked = std::max(acked, version);
          }
        }
        outcomes[w].push_back(std::move(out));
      }
    });
  }
  for (auto& t : workers) t.join();
  const auto send_end = Steady::now();

  // 5. Drain: wait (bounded) until every acknowledged delta's sync reached its sender, or a
  // later version of the same element did (the service broadcasts only what changed).
  auto pending_syncs = [&ledger] {
    uint64_t pending = 0;
    for (const auto& [key, due] : ledger.awaiting_sync) {
      const auto& [room, id, version] = key;
      auto seen = ledger.synced_version.find({room, id});
      if (seen == ledger.synced_version.end() || seen->second < version) ++pending;
    }
    return pending;
  };
  const auto drain_deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                                  std::chrono::duration<double>(options.drain_s));
  uint64_t lost_syncs = 0;
  while (true) {
    {
      std::lock_guard lock(ledger.mu);
      lost_syncs = pending_syncs();
    }
    if (lost_syncs == 0 || Steady::now() >= drain_deadline) break;
    std::this_thread::sleep_for(50ms);  // polling a condition with a deadline
  }
  subs.clear();

  // 6. Nothing lost: every board holds each element at its highest acknowledged version; each
  // poll counts one vote per user who voted, for that user's option.
  uint64_t lost_elements = 0;
  uint64_t lost_votes = 0;
  std::vector<std::string> problems;
  for (auto& [room, state] : rooms) {
    auto board = AppCall<contracts::WhiteboardBoard>(
        *state.owner, telemetry, "whiteboard", room, "load",
        contracts::ToJson(contracts::WhiteboardBoardRequest{state.board_id, ""}));
    std::lock_guard lock(ledger.mu);
    if (!board.ok()) {
      problems.push_back(room + ": board load failed: " + board.status().message());
    } else {
      std::map<std::string, int64_t> stored;
      for (const auto& e : board->elements) stored[e.id] = e.version;
      for (const auto& [id, version] : ledger.acked_version[room]) {
        auto it = stored.find(id);
        if (it == stored.end() || it->second != version) ++lost_elements;
      }
    }
    contracts::PollRequest ask;
    ask.poll_id = state.poll_id;
    auto results = AppCall<contracts::PollResults>(*state.owner, telemetry, "poll", room, "results",
                                                   contracts::ToJson(ask));
    if (!results.ok()) {
      problems.push_back(room + ": poll results failed: " + results.status().message());
      continue;
    }
    std::map<int64_t, int64_t> expected;
    for (const auto& user : ledger.voters[room]) ++expected[OptionOf(user)];
    std::map<int64_t, int64_t> counted;
    for (const auto& v : results->votes) counted[v.option_idx] += v.count;
    for (int64_t o = 0; o < kPollOptions; ++o) {
      lost_votes += static_cast<uint64_t>(std::llabs(counted[o] - expected[o]));
    }
  }
  // Clean up so repeated runs stay within the per-room limits (boards per room).
  for (auto& [room, state] : rooms) {
    contracts::PollRequest close;
    close.poll_id = state.poll_id;
    (void)AppRequest(*state.owner, telemetry, "poll", room, "close", contracts::ToJson(close));
    (void)AppRequest(*state.owner, telemetry, "whiteboard", room, "delete",
                     contracts::ToJson(contracts::WhiteboardBoardRequest{state.board_id, ""}));
  }

  // 7. Report.
  std::vector<double> all_ms;
  std::vector<double> vote_ms;
  std::vector<double> delta_ms;
  std::map<std::string, uint64_t> errors;
  uint64_t n_sent = 0;
  uint64_t ok = 0;
  uint64_t votes = 0;
  for (const auto& per_worker : outcomes) {
    n_sent += per_worker.size();
    for (const auto& o : per_worker) {
      votes += o.vote ? 1 : 0;
      if (!o.error.empty()) {
        ++errors[o.error];
        continue;
      }
      ++ok;
      all_ms.push_back(o.latency_ms);
      (o.vote ? vote_ms : delta_ms).push_back(o.latency_ms);
    }
  }
  const double send_s = std::chrono::duration<double>(send_end - start).count();
  json out = {{"scenario", "apps"},
              {"phase", options.phase},
              {"sessions", n_sessions},
              {"rooms", rooms.size()},
              {"workers", n_workers},
              {"rate_target", options.rate},
              {"duration_s", options.duration_s},
              {"sent", n_sent},
              {"ok", ok},
              {"errors", errors},
              {"ok_per_s", send_s > 0 ? static_cast<double>(ok) / send_s : 0.0},
              {"max_schedule_lag_ms", *std::max_element(worker_lag.begin(), worker_lag.end())},
              {"latency_ms", Percentiles(all_ms)},
              {"vote", {{"sent", votes}, {"latency_ms", Percentiles(vote_ms)}}},
              {"delta", {{"sent", n_sent - votes}, {"latency_ms", Percentiles(delta_ms)}}},
              {"lost_votes", lost_votes},
              {"lost_elements", lost_elements},
              {"lost_syncs", lost_syncs},
              {"sync_ms", Percentiles(ledger.sync_ms)},
              {"syncs_received", ledger.syncs_received},
              {"problems", problems}};
  if (options.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "chat-load apps %s: %zu session(s), %zu room(s), %zu worker(s), %.0f req/s for %.1f s\n",
        options.phase.c_str(), n_sessions, rooms.size(), n_workers, options.rate,
        options.duration_s);
    std::printf("  %-22s %llu (ok %llu, %.1f ok/s, errors %zu kinds, max lag %.1f ms)\n",
                "requests", static_cast<unsigned long long>(n_sent),
                static_cast<unsigned long long>(ok), out["ok_per_s"].get<double>(), errors.size(),
                out["max_schedule_lag_ms"].get<double>());
    for (const auto& [code, n] : errors) {
      std::printf("  %-22s %s × %llu\n", "error", code.c_str(), static_cast<unsigned long long>(n));
    }
    for (const char* key : {"latency_ms", "sync_ms"}) {
      std::printf("  %-22s p50 %s  p95 %s  p99 %s ms\n",
                  std::string(key) == "sync_ms" ? "due→own sync" : "due→reply",
                  Fmt(out[key]["p50"]).c_str(), Fmt(out[key]["p95"]).c_str(),
                  Fmt(out[key]["p99"]).c_str());
    }
    std::printf("  %-22s votes %llu, elements %llu, syncs %llu\n", "lost",
                static_cast<unsigned long long>(lost_votes),
                static_cast<unsigned long long>(lost_elements),
                static_cast<unsigned long long>(lost_syncs));
    for (const auto& p : problems) std::printf("  problem: %s\n", p.c_str());
  }
  const bool complete = errors.empty() && problems.empty() && lost_votes == 0 &&
                        lost_elements == 0 && lost_syncs == 0 && n_sent == total;
  return complete ? 0 : 3;
}

}  // namespace chat::load
