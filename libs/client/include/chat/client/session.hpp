// chat::client::Session: a command-line/test client that does what the browser does (system.md
// §7.3, decisions.md §4): OIDC password grant at the issuer, its own user nkey, a NATS user JWT
// from auth-service, then one natsx connection with the per-user inbox prefix (ADR 0001).
// Everything it sends uses the contracts structs and subject templates; its spans (send_message,
// edit_message, …, `POST {url.template}`) go to the Telemetry bundle it is given (service.name
// chat-cli / chat-load in the tools). Passwords, tokens, JWTs and seeds are never logged.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::client {

// Hands out message timestamps (ms) that never repeat for one user: messages are keyed by
// (room, timestamp, user) (system.md §3.1, the UNIQUE constraint of `messages`), so two sends in
// the same millisecond would overwrite each other. Share one instance between sessions of the
// same user (the load generator does). Thread-safe.
class MessageClock {
 public:
  explicit MessageClock(const core::Clock& clock) : clock_(clock) {}
  int64_t Next();

 private:
  const core::Clock& clock_;
  std::atomic<int64_t> last_{0};
};

struct LoginOptions {
  // OIDC issuer (the token endpoint comes from its discovery document).
  std::string idp_base = "http://127.0.0.1:8080/realms/nats-chat";
  std::string auth_url = "http://127.0.0.1:9430";  // auth-service credential API
  std::vector<std::string> nats_urls = {"nats://127.0.0.1:4222"};
  std::string user;
  std::string password;
  std::string client_name = "chat-cli";     // NATS connection name
  std::string client_id = "nats-chat-app";  // the issuer's public client
  std::chrono::milliseconds http_timeout{5000};
  std::chrono::milliseconds request_timeout{5000};  // NATS requests (history, room.list, msg.get)
  std::chrono::milliseconds connect_timeout{3000};
  // Optional: shared between sessions of the same user (see MessageClock). Null → a private one.
  std::shared_ptr<MessageClock> message_clock;
  // Presence (system.md §7.3): like a browser tab, every session is one presence connection —
  // presence.heartbeat.{user} {userId, connId} at once and every interval, and
  // presence.disconnect.{user} on Close. presence-service takes a user out of every room when
  // their last connection goes; a client that did not heartbeat was invisible to it, so closing
  // the same user's browser tab silently cut this client off (its sends refused as not_member).
  std::chrono::milliseconds presence_heartbeat_interval{10000};
};

// Defaults of the local stack (docs/ports.md): CHAT_IDP_URL, else
// http://127.0.0.1:${NATS_CHAT_IDP_PORT:-8080}/realms/nats-chat; CHAT_AUTH_URL, else
// http://127.0.0.1:${CHAT_AUTH_HTTP_PORT:-9430}; NATS_URL (comma list), else
// nats://127.0.0.1:${NATS_CHAT_NATS_PORT:-4222}; CHAT_USER / CHAT_PASSWORD.
LoginOptions LoginOptionsFromEnv(const core::Env& env);

// What Send/Edit/Delete/React return: the message key and the trace the action started.
struct SentMessage {
  std::string message_id;  // "{timestamp}-{user}"
  std::string trace_id;    // hex; the root span's trace (valid even when unsampled)
  int64_t timestamp = 0;   // ms, the message's key timestamp
  // …AndConfirm only: the sender's own echo arrived (true on every successful return of those),
  // and the time from the publish to the echo (notification received and, for send/edit, the
  // content fetched with msg.get).
  bool confirmed = false;
  std::chrono::microseconds echo_latency{0};
};

// How long a confirmed action waits for its echo: the browser's send_message timeout
// (observability.md §4.5).
inline constexpr std::chrono::milliseconds kEchoTimeout{10000};

// One message seen by a watcher.
struct Delivery {
  contracts::ChatMessage message;  // full message (msg.get / admin copy) or, without fetch, the
                                   // notification's fields (user, room, timestamp, action, …)
  bool fetched = false;            // message came from msg.get or a full admin copy
  std::string via;  // "room" (room.notify), "notify" (deliver.{user}.notify), "admin"
};

struct WatchOptions {
  // Fetch each notified message with msg.get (as the browser does). Off: deliver the
  // notification's own fields only (no text), which costs no request per message.
  bool fetch = true;
};

class Watch;

class Session {
 public:
  // Logs in and connects. Errors: unauthenticated (wrong user/password, token refused by
  // auth-service, NATS refused the JWT), unavailable (issuer, auth-service or NATS unreachable),
  // resource_exhausted (auth-service rate limit), invalid_argument (bad options).
  // `telemetry` and `clock` must outlive the session.
  static core::Result<std::unique_ptr<Session>> Login(
      LoginOptions options, const telemetry::Telemetry& telemetry,
      const core::Clock& clock = core::SystemClock::Instance());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& user() const { return user_; }
  const std::string& tier() const { return tier_; }  // "admin", "user", "none"
  // This session's presence connection id: 8 hex chars, fixed for the session (system.md §3.1).
  const std::string& conn_id() const { return conn_id_; }
  natsx::Connection& connection() { return *conn_; }

  // Publishes a new ChatMessage on deliver.{user}.send.{room}[.thread.{thread_id}] inside a root
  // INTERNAL span send_message. mentions = unique @name tokens of `text`. The span ends once the
  // publish is handed to the connection (call Flush to wait for the server).
  core::Result<SentMessage> Send(std::string_view room, std::string_view text,
                                 std::string_view thread_id = {});
  // Edit/delete/react on the message (room, timestamp[, thread]) — spans edit_message,
  // delete_message, react_message.
  core::Result<SentMessage> Edit(std::string_view room, int64_t timestamp, std::string_view text,
                                 std::string_view thread_id = {});
  core::Result<SentMessage> Delete(std::string_view room, int64_t timestamp,
                                   std::string_view thread_id = {});
  core::Result<SentMessage> React(std::string_view room, int64_t timestamp,
                                  std::string_view target_user, std::string_view emoji,
                                  std::string_view thread_id = {});

  // The same actions, confirmed the way the browser confirms them (observability.md §4.5): the
  // ingest path refuses silently (system.md §3.2.3 — not a member, rate limited, fanout down),
  // so the only truthful signal is the sender's own echo. These subscribe to the room's
  // notifications (room.notify.{room}, deliver.{user}.notify.{room}, deliver.{user}.admin.*)
  // BEFORE publishing, then wait for the notification of this very message — same user,
  // timestamp, action and thread, and for send/edit the msg.get content equal to what was
  // sent (emoji and target for react) — and end the action span there with event
  // `echo_rendered`. No echo within `timeout` → deadline_exceeded (the message names the
  // message id and trace id), span ERROR with error.type=delivery_timeout and an exception
  // event. A publish the server refuses for the JWT's permissions → permission_denied at once.
  // Costs three subscriptions, a flush and a msg.get per call: the load generator keeps the
  // fire-and-forget forms above.
  core::Result<SentMessage> SendAndConfirm(std::string_view room, std::string_view text,
                                           std::string_view thread_id = {},
                                           std::chrono::milliseconds timeout = kEchoTimeout);
  core::Result<SentMessage> EditAndConfirm(std::string_view room, int64_t timestamp,
                                           std::string_view text, std::string_view thread_id = {},
                                           std::chrono::milliseconds timeout = kEchoTimeout);
  core::Result<SentMessage> DeleteAndConfirm(std::string_view room, int64_t timestamp,
                                             std::string_view thread_id = {},
                                             std::chrono::milliseconds timeout = kEchoTimeout);
  core::Result<SentMessage> ReactAndConfirm(std::string_view room, int64_t timestamp,
                                            std::string_view target_user, std::string_view emoji,
                                            std::string_view thread_id = {},
                                            std::chrono::milliseconds timeout = kEchoTimeout);

  // chat.history.{room} ({"before": ms}, 0 = newest page), span load_history.
  core::Result<contracts::HistoryPage> History(std::string_view room, int64_t before = 0);
  // room.list.
  core::Result<contracts::RoomListReply> Rooms();
  // room.create.{user}.
  core::Result<contracts::RoomInfo> CreateRoom(std::string_view name,
                                               std::string_view display_name = {});
  // room.join.{room}.{user} / room.leave.{room}.{user} (fire and forget), spans join_room /
  // leave_room.
  core::Status Join(std::string_view room);
  core::Status Leave(std::string_view room);
  // Join, then wait (up to `timeout`) until the membership is live: presence.room.{room} lists
  // this user (presence-service learns it from the same room.changed delta fanout's ingest
  // check does). A session's live membership lasts as long as its presence connection — a
  // one-shot client (chat-cli send) joins the room it is about to use, as a browser tab does.
  // deadline_exceeded when the join did not take effect in time (e.g. a private room the user
  // may not enter).
  core::Status JoinAndWait(std::string_view room, std::chrono::milliseconds timeout);

  // Subscribes room.notify.{room} for each room and deliver.{user}.> (notify and admin copies
  // of these rooms) and calls `callback` for each message, on libnats threads. The Watch stops
  // when destroyed.
  using Callback = std::function<void(const Delivery&)>;
  core::Result<std::unique_ptr<Watch>> WatchRooms(std::vector<std::string> rooms, Callback callback,
                                                  WatchOptions options = {});
  core::Result<std::unique_ptr<Watch>> WatchRoom(std::string_view room, Callback callback,
                                                 WatchOptions options = {}) {
    return WatchRooms({std::string(room)}, std::move(callback), options);
  }

  // Publishes are asynchronous: permission violations come back from the server later. These
  // report what the connection has seen so far (nats_client_errors_total{type="permission"} and
  // the server's last error text, e.g. "Permissions Violation for Publish to ...").
  double PermissionErrors() const;
  std::string LastError() const;

  core::Status Flush(std::chrono::milliseconds timeout);
  // Stops the heartbeats, publishes presence.disconnect, then drains and closes the connection.
  // The destructor does the same (with a short flush) when Close was not called.
  core::Status Close(std::chrono::milliseconds timeout);

 private:
  Session(LoginOptions options, const telemetry::Telemetry& telemetry, const core::Clock& clock);
  // Builds the ChatMessage of each action (validation included).
  core::Result<contracts::ChatMessage> MakeSend(std::string_view room, std::string_view text,
                                                std::string_view thread_id);
  core::Result<contracts::ChatMessage> MakeEdit(std::string_view room, int64_t timestamp,
                                                std::string_view text, std::string_view thread_id);
  core::Result<contracts::ChatMessage> MakeDelete(std::string_view room, int64_t timestamp,
                                                  std::string_view thread_id);
  core::Result<contracts::ChatMessage> MakeReact(std::string_view room, int64_t timestamp,
                                                 std::string_view target_user,
                                                 std::string_view emoji,
                                                 std::string_view thread_id);
  // Publishes `msg` inside the action span; with `confirm_timeout` set, waits for its echo.
  core::Result<SentMessage> PublishAction(
      std::string_view span_name, contracts::ChatMessage msg,
      std::optional<std::chrono::milliseconds> confirm_timeout = std::nullopt);

  // Presence: one heartbeat now and a thread for the next ones; StopPresence ends the thread
  // and, the first time, publishes presence.disconnect. Untraced (observability §4.5).
  void StartPresence();
  void StopPresence();
  core::Status PublishPresence(const core::SubjectTemplate& tmpl);

  LoginOptions options_;
  const telemetry::Telemetry& telemetry_;
  const core::Clock& clock_;
  std::shared_ptr<MessageClock> message_clock_;
  std::string user_;
  std::string tier_;
  std::string conn_id_;
  std::unique_ptr<natsx::Connection> conn_;
  std::mutex presence_mu_;
  std::condition_variable presence_cv_;
  bool presence_stop_ = false;
  bool presence_started_ = false;
  std::thread presence_thread_;
};

// Active subscriptions of WatchRooms. Destroying it unsubscribes (waiting for running callbacks).
class Watch {
 public:
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  uint64_t notifications() const { return notifications_.load(); }
  uint64_t fetch_failures() const { return fetch_failures_.load(); }

 private:
  friend class Session;
  Watch() = default;
  std::vector<std::unique_ptr<natsx::Subscription>> subs_;
  std::atomic<uint64_t> notifications_{0};
  std::atomic<uint64_t> fetch_failures_{0};
};

// Unique "@name" tokens of `text` in order of appearance (the composer's mentions, §7.7).
std::vector<std::string> ExtractMentions(std::string_view text);

// True when the host of an http(s)/nats/postgresql URL is a loopback address (127.0.0.0/8,
// ::1, localhost).
bool IsLoopbackUrl(std::string_view url);

}  // namespace chat::client
