// chat-cli: a terminal client that logs in exactly as the browser does (OIDC password grant,
// own nkey, JWT from auth-service, NATS with _INBOX.{user}) and sends, reads or watches messages.
// Its spans (service.name chat-cli) go to OTEL_EXPORTER_OTLP_ENDPOINT (the local sink by default)
// and are flushed before exit, so `send` prints a trace id that can be looked up in the sink.

#include "chat/core/main.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/client/session.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/env.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/sdk/sdk.hpp"

namespace {

using namespace std::chrono_literals;
using chat::client::LoginOptions;
using chat::client::Session;

constexpr const char* kUsage =
    "usage: chat-cli [--user U] [--password P] [--idp URL] [--auth URL] [--nats URL]\n"
    "                <command> [args]\n"
    "commands:\n"
    "  send ROOM TEXT [--thread ID] [--timeout S] [--no-wait]\n"
    "                                 publish a message and wait (default 10 s) for its own echo\n"
    "                                 (notification + msg.get, as the browser); prints its id,\n"
    "                                 trace id and echo_ms; no echo → exit 1. --no-wait: only\n"
    "                                 publish (the server's silence proves nothing)\n"
    "  history ROOM [--before MS]     print a page of history\n"
    "  rooms                          list the rooms visible to the user\n"
    "  join ROOM | leave ROOM         publish room.join / room.leave\n"
    "  create NAME [DISPLAY]          create a private room\n"
    "  watch ROOM... [--count N] [--timeout S] [--no-fetch]\n"
    "                                 print messages as they arrive until Ctrl-C, N messages\n"
    "                                 or S seconds\n"
    "  publish SUBJECT BODY           publish BODY on a raw SUBJECT with this user's own\n"
    "                                 credentials; prints \"allowed\" or the server's refusal\n"
    "                                 (exit 3) — for checking what a user's grants let through\n"
    "  subscribe SUBJECT              the same for a subscription (interest only, no messages)\n"
    "  request SUBJECT BODY [--join ROOM]\n"
    "                                 a raw request with this user's own credentials (reply\n"
    "                                 inbox _INBOX.USER.…), in ROOM first with --join; prints\n"
    "                                 the reply: exit 0, or 4 for an error reply, 3 when the\n"
    "                                 server refuses the publish\n"
    "defaults: CHAT_USER, CHAT_PASSWORD, CHAT_IDP_URL, CHAT_AUTH_URL, NATS_URL, else the local\n"
    "stack ports (docs/ports.md). Telemetry: OTEL_* (OTLP to http://localhost:4318).\n";

int Usage(const char* problem) {
  if (problem != nullptr) std::fprintf(stderr, "chat-cli: %s\n", problem);
  std::fputs(kUsage, stderr);
  return 2;
}

std::string TimeOf(int64_t ms) {
  auto t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// Prints one message line; text may be multi-line and is printed as is.
void PrintMessage(const chat::contracts::ChatMessage& m, std::string_view prefix = {}) {
  std::string action(chat::contracts::MessageActionName(m.action));
  std::printf("%s[%s] #%s %s", std::string(prefix).c_str(), TimeOf(m.timestamp).c_str(),
              m.room.c_str(), m.user.c_str());
  if (m.action != chat::contracts::MessageAction::kSend) std::printf(" (%s)", action.c_str());
  if (!m.thread_id.empty()) std::printf(" (thread %s)", m.thread_id.c_str());
  if (!m.emoji.empty()) std::printf(" %s", m.emoji.c_str());
  std::printf(": %s  id=%lld-%s\n", m.text.c_str(), static_cast<long long>(m.timestamp),
              m.user.c_str());
  std::fflush(stdout);
}

int Fail(const chat::core::Status& s, std::string_view what) {
  std::fprintf(stderr, "chat-cli: %s failed: %s (%s)\n", std::string(what).c_str(),
               s.message().c_str(), std::string(chat::core::ErrorCodeName(s.code())).c_str());
  return 1;
}

// A publish outside the JWT's permissions is refused asynchronously: the server's -ERR arrives
// before the PONG of the flush that follows, so after Flush() the last error is already set.
bool Refused(const Session& s) {
  return s.PermissionErrors() > 0 ||
         s.LastError().find("Permissions Violation") != std::string::npos;
}

// A subject natsx would take for a template (placeholders) or that no server accepts is the
// user's mistake: say so instead of aborting on the template's precondition.
bool UsableSubject(const std::string& subject, bool wildcards_ok) {
  bool valid = !subject.empty() && subject.front() != '.' && subject.back() != '.' &&
               subject.find("..") == std::string::npos;
  for (char c : subject) {
    if (c == '{' || c == '}' || c <= ' ' || (!wildcards_ok && (c == '*' || c == '>'))) {
      valid = false;
    }
  }
  if (!valid) {
    std::fprintf(stderr, "chat-cli: \"%s\" is not a subject %s can take\n", subject.c_str(),
                 wildcards_ok ? "a subscription" : "a publish (literal tokens, no wildcards)");
  }
  return valid;
}

// `publish` / `subscribe`: a raw subject with the user's own JWT, as an attacker holding only
// their credentials would try it. The server answers a refused publish or subscription with an
// asynchronous -ERR that the flush round trip brings back. Exit 0 allowed, 3 refused.
int Probe(Session& s, const std::string& cmd, const std::string& subject, const std::string& body) {
  if (!UsableSubject(subject, cmd == "subscribe")) return 2;
  std::unique_ptr<chat::natsx::Subscription> sub;
  if (cmd == "publish") {
    const chat::core::SubjectTemplate literal{subject};  // no placeholders: the subject itself
    if (auto st = s.connection().Publish(literal, {}, body, {}); !st.ok()) return Fail(st, cmd);
  } else {
    // The template only names the route for natsx's bookkeeping; the interest is `pattern`.
    static constexpr chat::core::SubjectTemplate kProbe{"chat-cli.probe"};
    chat::natsx::SubscribeOptions o;
    o.templates = {kProbe};
    o.pattern = subject;
    auto r = s.connection().Subscribe(
        std::move(o), [](const chat::natsx::Message&, chat::natsx::MessageContext&) {
          return chat::core::Status();
        });
    if (!r.ok()) return Fail(r.status(), cmd);
    sub = std::move(*r);
  }
  if (auto f = s.Flush(5s); !f.ok()) return Fail(f, cmd);
  if (Refused(s)) {
    std::printf("refused: %s\n", s.LastError().c_str());
    return 3;
  }
  std::printf("allowed\n");
  return 0;
}

// `request`: what a service answers this user on a raw subject (the attacker's view of the
// services' own checks, beyond the server's grants). Exit 0 reply, 4 error reply, 3 refused.
int RawRequest(Session& s, const std::string& subject, const std::string& body) {
  if (!UsableSubject(subject, false)) return 2;
  const chat::core::SubjectTemplate literal{subject};  // no placeholders: the subject itself
  auto reply = s.connection().Request(literal, {}, body, 5s, {});
  if (!reply.ok()) {
    (void)s.Flush(2s);
    if (Refused(s)) {
      std::printf("refused: %s\n", s.LastError().c_str());
      return 3;
    }
    return Fail(reply.status(), "request");
  }
  const std::string payload(reply->payload());
  std::printf("%s\n", payload.c_str());
  return chat::contracts::IsErrorReply(payload) ? 4 : 0;
}

// `send --no-wait`: the old fire-and-forget path. Only a permission refusal can be seen.
int SendNoWait(Session& s, const std::string& room, const std::string& text,
               const std::string& thread) {
  (void)s.JoinAndWait(room, std::chrono::milliseconds(5000));  // see SendConfirmed
  auto sent = s.Send(room, text, thread);
  if (!sent.ok()) return Fail(sent.status(), "send");
  if (auto f = s.Flush(5s); !f.ok()) return Fail(f, "send");
  std::printf("message_id=%s trace_id=%s\n", sent->message_id.c_str(), sent->trace_id.c_str());
  // The server refuses a publish outside the JWT's permissions asynchronously; the flush round
  // trip above has brought any refusal back by now.
  if (Refused(s)) {
    std::fprintf(stderr, "chat-cli: the server refused the message: %s\n", s.LastError().c_str());
    return 1;
  }
  return 0;
}

// `send`: waits for the sender's own echo, the only proof that fanout-service accepted the
// message (ingest rejections are silent, system.md §3.2.3).
int SendConfirmed(Session& s, const std::string& room, const std::string& text,
                  const std::string& thread, double timeout_s) {
  if (timeout_s < 0) timeout_s = 10;
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(timeout_s));
  // This process is one presence connection of the user (libs/client): its live membership
  // lasts as long as it does, so it enters the room first, as a browser tab does. A room it may
  // not enter (private, not invited) stays closed and the send below is refused.
  (void)s.JoinAndWait(room, std::min(timeout, std::chrono::milliseconds(5000)));
  auto sent = s.SendAndConfirm(room, text, thread, std::max(timeout, std::chrono::milliseconds(1)));
  if (sent.ok()) {
    std::printf("message_id=%s trace_id=%s echo_ms=%.1f\n", sent->message_id.c_str(),
                sent->trace_id.c_str(), static_cast<double>(sent->echo_latency.count()) / 1000.0);
    return 0;
  }
  const chat::core::Status& st = sent.status();
  if (st.code() == chat::core::ErrorCode::kPermissionDenied) {
    std::fprintf(stderr, "chat-cli: the server refused the message: %s\n", st.message().c_str());
    return 1;
  }
  if (st.code() != chat::core::ErrorCode::kDeadlineExceeded) return Fail(st, "send");
  std::fprintf(stderr,
               "chat-cli: send not confirmed: %s.\n"
               "chat-cli: fanout-service refuses messages silently; likely causes:\n"
               "  - %s is not a member of #%s and may not join it (a private room needs an "
               "invitation)\n"
               "  - %s is rate limited (too many messages per minute)\n"
               "  - fanout-service is down or not connected to NATS\n"
               "chat-cli: the trace id above shows fanout's verdict (chat.ingest.result) in the "
               "telemetry sink.\n",
               st.message().c_str(), s.user().c_str(), room.c_str(), s.user().c_str());
  return 1;
}

}  // namespace

static int Run(int argc, char** argv) {
  // SIGINT/SIGTERM are taken synchronously (TerminationSignals::WaitFor) by `watch`; block them
  // before any library thread starts so they are never delivered elsewhere.
  const chat::runtime::TerminationSignals signals;

  static const chat::core::ProcessEnv kEnv;
  LoginOptions options = chat::client::LoginOptionsFromEnv(kEnv);
  options.client_name = "chat-cli";
  std::vector<std::string> args;
  std::string thread;
  std::string join_first;  // request --join ROOM
  int64_t before = 0;
  long count = 0;
  double timeout_s = -1;  // -1: the command's default (send: 10 s, watch: none)
  bool fetch = true;
  bool wait_echo = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--user") {
      if ((v = value()) == nullptr) return Usage("--user needs a value");
      options.user = v;
    } else if (a == "--password") {
      if ((v = value()) == nullptr) return Usage("--password needs a value");
      options.password = v;
    } else if (a == "--idp") {
      if ((v = value()) == nullptr) return Usage("--idp needs a value");
      options.idp_base = v;
    } else if (a == "--auth") {
      if ((v = value()) == nullptr) return Usage("--auth needs a value");
      options.auth_url = v;
    } else if (a == "--nats") {
      if ((v = value()) == nullptr) return Usage("--nats needs a value");
      options.nats_urls = {v};
    } else if (a == "--thread") {
      if ((v = value()) == nullptr) return Usage("--thread needs a value");
      thread = v;
    } else if (a == "--before") {
      if ((v = value()) == nullptr) return Usage("--before needs a value");
      before = std::atoll(v);
    } else if (a == "--count") {
      if ((v = value()) == nullptr) return Usage("--count needs a value");
      count = std::atol(v);
    } else if (a == "--timeout") {
      if ((v = value()) == nullptr) return Usage("--timeout needs a value");
      char* end = nullptr;
      timeout_s = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(timeout_s > 0)) {
        return Usage("--timeout needs a positive number of seconds");
      }
    } else if (a == "--join") {
      if ((v = value()) == nullptr) return Usage("--join needs a room");
      join_first = v;
    } else if (a == "--no-fetch") {
      fetch = false;
    } else if (a == "--no-wait") {
      wait_echo = false;
    } else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
      return Usage(("unknown option " + a).c_str());
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) return Usage("no command given");
  if (options.user.empty() || options.password.empty()) {
    return Usage("--user and --password (or CHAT_USER / CHAT_PASSWORD) are required");
  }
  const std::string& cmd = args[0];
  auto need = [&](size_t n) { return args.size() >= n + 1; };

  // Telemetry: chat-cli's own resource; only WARN and above on stderr unless LOG_LEVEL says so.
  auto config = chat::telemetry::sdk::TelemetryConfig::FromEnv(kEnv, "chat-cli");
  config.metrics_exporter = "none";
  if (!kEnv.Get("LOG_LEVEL")) config.log_level = chat::telemetry::LogLevel::kWarn;
  auto sdk =
      chat::telemetry::sdk::TelemetrySdk::Create(config, chat::core::SystemClock::Instance());
  auto finish = [&](int code) {
    sdk->Shutdown(3000ms);
    return code;
  };

  auto session = Session::Login(options, sdk->telemetry());
  if (!session.ok()) {
    std::fprintf(stderr, "chat-cli: login as \"%s\" failed: %s\n", options.user.c_str(),
                 session.status().message().c_str());
    return finish(1);
  }
  Session& s = **session;

  int rc = 0;
  if (cmd == "send") {
    if (!need(2)) return finish(Usage("send needs ROOM and TEXT"));
    rc = wait_echo ? SendConfirmed(s, args[1], args[2], thread, timeout_s)
                   : SendNoWait(s, args[1], args[2], thread);
  } else if (cmd == "history") {
    if (!need(1)) return finish(Usage("history needs ROOM"));
    auto page = s.History(args[1], before);
    if (!page.ok()) {
      rc = Fail(page.status(), "history");
    } else {
      for (const auto& m : page->messages) {
        std::printf(
            "[%s] %s%s: %s%s  id=%lld-%s\n", TimeOf(m.timestamp).c_str(), m.user.c_str(),
            m.edited_at > 0 ? " (edited)" : "", m.is_deleted ? "<deleted>" : m.text.c_str(),
            m.reply_count > 0 ? (" [" + std::to_string(m.reply_count) + " replies]").c_str() : "",
            static_cast<long long>(m.timestamp), m.user.c_str());
      }
      if (page->has_more) {
        std::printf("(more: --before %lld)\n",
                    static_cast<long long>(page->messages.front().timestamp));
      }
    }
  } else if (cmd == "rooms") {
    auto rooms = s.Rooms();
    if (!rooms.ok()) {
      rc = Fail(rooms.status(), "rooms");
    } else {
      for (const auto& r : rooms->rooms) {
        std::printf("%-24s %-8s %3lld members  %s\n", r.name.c_str(),
                    std::string(chat::contracts::RoomTypeName(r.type)).c_str(),
                    static_cast<long long>(r.member_count), r.display_name.c_str());
      }
    }
  } else if (cmd == "join" || cmd == "leave") {
    if (!need(1)) return finish(Usage("join/leave needs ROOM"));
    chat::core::Status st = cmd == "join" ? s.Join(args[1]) : s.Leave(args[1]);
    if (st.ok()) st = s.Flush(5s);
    if (!st.ok()) {
      rc = Fail(st, cmd);
    } else if (Refused(s)) {
      std::fprintf(stderr, "chat-cli: the server refused it: %s\n", s.LastError().c_str());
      rc = 1;
    } else {
      std::printf("%s %s\n", cmd == "join" ? "joined" : "left", args[1].c_str());
    }
  } else if (cmd == "create") {
    if (!need(1)) return finish(Usage("create needs NAME"));
    auto info = s.CreateRoom(args[1], need(2) ? args[2] : std::string());
    if (!info.ok()) {
      rc = Fail(info.status(), "create");
    } else {
      std::printf("created %s (%s)\n", info->name.c_str(), info->display_name.c_str());
    }
  } else if (cmd == "watch") {
    if (!need(1)) return finish(Usage("watch needs at least one ROOM"));
    std::vector<std::string> rooms(args.begin() + 1, args.end());
    for (const auto& r : rooms) {
      if (auto st = s.Join(r); !st.ok()) return finish(Fail(st, "join"));
    }
    std::mutex mu;
    long seen = 0;
    auto watch = s.WatchRooms(rooms,
                              [&](const chat::client::Delivery& d) {
                                std::lock_guard lock(mu);
                                ++seen;
                                PrintMessage(d.message);
                              },
                              {.fetch = fetch});
    if (!watch.ok()) return finish(Fail(watch.status(), "watch"));
    std::fprintf(stderr, "chat-cli: watching %zu room(s) as %s; Ctrl-C to stop\n", rooms.size(),
                 s.user().c_str());
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(timeout_s));
    while (true) {
      {
        std::lock_guard lock(mu);
        if (count > 0 && seen >= count) break;
      }
      if (timeout_s > 0 && std::chrono::steady_clock::now() >= deadline) break;
      if (signals.WaitFor(std::chrono::milliseconds(100)) != 0) break;
    }
    watch->reset();
    std::lock_guard lock(mu);
    if (count > 0 && seen < count) {
      std::fprintf(stderr, "chat-cli: timed out after %ld of %ld messages\n", seen, count);
      rc = 1;
    }
  } else if (cmd == "publish" || cmd == "subscribe") {
    if (!need(cmd == "publish" ? 2 : 1)) {
      return finish(Usage("publish needs SUBJECT and BODY, subscribe needs SUBJECT"));
    }
    rc = Probe(s, cmd, args[1], cmd == "publish" ? args[2] : std::string());
  } else if (cmd == "request") {
    if (!need(2)) return finish(Usage("request needs SUBJECT and BODY"));
    // Live membership lasts as long as a connection that joined (libs/client): a one-shot
    // client enters the room first, as a browser tab does.
    if (!join_first.empty()) (void)s.JoinAndWait(join_first, 5000ms);
    rc = RawRequest(s, args[1], args[2]);
  } else {
    rc = Usage(("unknown command " + cmd).c_str());
  }
  (void)s.Close(2s);
  session->reset();
  return finish(rc);
}

int main(int argc, char** argv) {
  return chat::core::RunMain([&] { return Run(argc, argv); });
}
