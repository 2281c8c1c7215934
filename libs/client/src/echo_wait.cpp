// The echo wait: publishes one chat action (send, edit, delete, react) inside its action span and,
// for the …AndConfirm calls, waits until the sender's own echo arrives the way the browser would
// render it — the watch is opened before the publish so the echo cannot slip past, a refused
// publish is caught at the flush, and the span ends at the echo.
#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "chat/client/session.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::client {
namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;

std::string_view MessageKind(const contracts::ChatMessage& m) {
  if (m.action == contracts::MessageAction::kSystem) return "system";
  if (!m.sticker_url.empty()) return "sticker";
  return "text";
}

// The waiting caller and the echo watch's callbacks (libnats threads) meet here.
struct EchoWait {
  std::mutex mu;
  std::condition_variable cv;
  bool echoed = false;
  bool notified_unfetched = false;  // our notification came, but msg.get did not return it
  std::chrono::steady_clock::time_point at;
};

enum class EchoMatch {
  kNo,       // someone else's message, or another version of ours
  kYes,      // our own copy, as the browser would render it
  kKeyOnly,  // our notification, but without the content to compare (msg.get failed)
};

// Is `d` the echo of `sent`? The key (user, room, timestamp, action, thread) comes with every
// notification; send and edit are compared on the fetched text too (another process of the same
// user could have used the same millisecond; an older edit's echo could still be in flight),
// react on its emoji and target.
EchoMatch MatchEcho(const contracts::ChatMessage& sent, const Delivery& d) {
  const contracts::ChatMessage& m = d.message;
  if (m.user != sent.user || m.room != sent.room || m.timestamp != sent.timestamp ||
      m.action != sent.action || m.thread_id != sent.thread_id) {
    return EchoMatch::kNo;
  }
  switch (sent.action) {
    case contracts::MessageAction::kSend:
    case contracts::MessageAction::kEdit:
      if (!d.fetched) return EchoMatch::kKeyOnly;
      return m.text == sent.text ? EchoMatch::kYes : EchoMatch::kNo;
    case contracts::MessageAction::kReact:
      return m.emoji == sent.emoji && m.target_user == sent.target_user ? EchoMatch::kYes
                                                                        : EchoMatch::kNo;
    default: return EchoMatch::kYes;
  }
}

}  // namespace

core::Result<SentMessage> Session::PublishAction(
    std::string_view span_name, contracts::ChatMessage msg,
    std::optional<std::chrono::milliseconds> confirm_timeout) {
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, msg.room},
                   {attr::kAction, contracts::MessageActionName(msg.action)},
                   {attr::kMessageId, contracts::MessageId(msg.timestamp, msg.user)},
                   {attr::kMessageKind, MessageKind(msg)}};
  if (!msg.thread_id.empty()) so.attributes.push_back({attr::kThreadId, msg.thread_id});
  telemetry::Span span = telemetry_.tracer.StartSpan(span_name, std::move(so));
  // The browser's timeout runs from the user's action, so the subscriptions count against it.
  const auto deadline =
      std::chrono::steady_clock::now() + confirm_timeout.value_or(std::chrono::milliseconds(0));
  SentMessage sent{contracts::MessageId(msg.timestamp, msg.user), span.Context().trace_id.Hex(),
                   msg.timestamp};

  // Confirmation: listen for our own echo BEFORE publishing, so it cannot slip past. (Nothing
  // of this runs on the fire-and-forget path the load generator uses.)
  std::shared_ptr<EchoWait> echo;
  std::unique_ptr<Watch> watch;
  std::string subject;
  std::string error_before;
  if (confirm_timeout) {
    echo = std::make_shared<EchoWait>();
    auto w = WatchRooms({msg.room},
                        [echo, expected = msg, &clock = clock_](const Delivery& d) {
                          EchoMatch match = MatchEcho(expected, d);
                          if (match == EchoMatch::kNo) return;
                          std::lock_guard lock(echo->mu);
                          if (match == EchoMatch::kKeyOnly) {
                            echo->notified_unfetched = true;
                            return;
                          }
                          if (!echo->echoed) {
                            echo->echoed = true;
                            echo->at = clock.SteadyNow();
                            echo->cv.notify_all();
                          }
                        },
                        {.fetch = true});
    if (!w.ok()) {
      span.RecordError(std::string(core::ErrorCodeName(w.status().code())), w.status().message(),
                       "nats", "echo subscription failed");
      return w.status();
    }
    watch = std::move(w).value();
    auto formatted = msg.thread_id.empty()
                         ? subjects::kDeliverSend.Format({user_, msg.room})
                         : subjects::kDeliverSendThread.Format({user_, msg.room, msg.thread_id});
    if (formatted.ok()) subject = std::move(formatted).value();
    error_before = LastError();
  }

  const auto published_at = clock_.SteadyNow();
  core::Status s;
  if (msg.thread_id.empty()) {
    s = conn_->Publish(subjects::kDeliverSend, {user_, msg.room}, contracts::ToJson(msg),
                       span.Context());
  } else {
    s = conn_->Publish(subjects::kDeliverSendThread, {user_, msg.room, msg.thread_id},
                       contracts::ToJson(msg), span.Context());
  }
  if (!s.ok()) {
    span.RecordError(std::string(core::ErrorCodeName(s.code())), s.message(), "nats",
                     "publish failed");
    return s;
  }
  if (!confirm_timeout) return sent;

  // A publish outside the JWT's permissions is refused asynchronously; its -ERR arrives before
  // the PONG of this flush, so a refusal is known here and need not wait for the timeout.
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  core::Status flushed = conn_->Flush(std::max(remaining, std::chrono::milliseconds(1)));
  std::string error_after = LastError();
  if (error_after != error_before &&
      error_after.find("Permissions Violation") != std::string::npos && !subject.empty() &&
      error_after.find(subject) != std::string::npos) {
    span.RecordError("permission_denied", "the server refused the publish", "nats",
                     "publish refused");
    return core::PermissionDenied("the server refused the publish: " + error_after);
  }
  if (!flushed.ok() && flushed.code() != core::ErrorCode::kDeadlineExceeded) {
    span.RecordError(std::string(core::ErrorCodeName(flushed.code())), flushed.message(), "nats",
                     "flush failed");
    return flushed;
  }

  bool echoed = false;
  bool notified_unfetched = false;
  std::chrono::steady_clock::time_point echoed_at;
  {
    std::unique_lock lock(echo->mu);
    echo->cv.wait_until(lock, deadline, [&] { return echo->echoed; });
    echoed = echo->echoed;
    notified_unfetched = echo->notified_unfetched;
    echoed_at = echo->at;
  }
  if (echoed) {
    span.AddEvent("echo_rendered");
    span.End();  // the echo is the end of the user's action; unsubscribing is not part of it
    sent.confirmed = true;
    sent.echo_latency =
        std::chrono::duration_cast<std::chrono::microseconds>(echoed_at - published_at);
    return sent;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(*confirm_timeout);
  std::string what =
      "no echo of message " + sent.message_id + " within " + std::to_string(waited.count()) + " ms";
  if (notified_unfetched) what += " (its notification arrived but msg.get failed)";
  span.RecordError("delivery_timeout", what, "delivery_timeout", "delivery timeout");
  return core::DeadlineExceeded(what + " (trace_id=" + sent.trace_id + ")");
}

}  // namespace chat::client
