#include "handlers/batch_processor.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/semconv.hpp"
#include "repository/message_repository.hpp"

namespace chat::persist_worker {

namespace attr = contracts::attr;
namespace semconv = telemetry::semconv;
using contracts::MessageAction;

namespace {

enum class Outcome { kPending, kPersisted, kDuplicate, kNoop };

// The chat.action / metric label of a decoded message (system messages are sends).
std::string_view ActionLabel(MessageAction a) {
  switch (a) {
    case MessageAction::kEdit:
      return "edit";
    case MessageAction::kDelete:
      return "delete";
    case MessageAction::kReact:
      return "react";
    case MessageAction::kSend:
    case MessageAction::kSystem:
      break;
  }
  return "send";
}

// For an undecodable payload the label still has to be one of the four actions: the wire
// `action` when it is a known one, else send (what an absent action means).
std::string_view GuessAction(std::string_view payload) {
  for (std::string_view a : {"edit", "delete", "react"}) {
    std::string needle = "\"action\":\"";
    needle += a;
    needle += '"';
    if (payload.find(needle) != std::string_view::npos) return a;
  }
  return "send";
}

std::string_view ReasonFor(const core::Status& st) {
  switch (st.code()) {
    case core::ErrorCode::kUnavailable:
    case core::ErrorCode::kResourceExhausted:  // pool exhausted: the database is not keeping up
      return kReasonDbUnavailable;
    case core::ErrorCode::kDeadlineExceeded:
      return kReasonTimeout;
    default:
      return kReasonDbError;
  }
}

// The room the subject addresses: chat.{room}[.thread.{thread_id}] → {room}; admin.{x}.{user} → the
// admin channel (system.md §3.2.4). The payload must agree: fanout validated membership against
// the subject, so persisting into another room would bypass it.
std::string_view SubjectRoom(const natsx::Message& m) {
  // By value: the message points at the consumer's own copy of the template.
  if (m.subject_template() != nullptr && *m.subject_template() == contracts::subjects::kAdminRoom) {
    return contracts::kAdminRoom;
  }
  return m.Arg("room").value_or(std::string_view());
}

}  // namespace

struct BatchProcessor::Item {
  natsx::ReceivedMessage* rm = nullptr;
  contracts::ChatMessage msg;
  std::string_view action;  // metric label
  std::string message_id;
  std::chrono::steady_clock::time_point received;
  Outcome outcome = Outcome::kPending;
  MessageRow row;  // for sends
};

std::chrono::milliseconds BatchProcessor::NakDelay(uint64_t delivery_count) const {
  const uint64_t shift = std::min<uint64_t>(delivery_count > 0 ? delivery_count - 1 : 0, 16);
  auto delay = config_.nak_delay_initial * (int64_t{1} << shift);
  return std::min(delay, config_.nak_delay_max);
}

void BatchProcessor::Process(std::vector<std::unique_ptr<natsx::ReceivedMessage>>& batch) {
  const auto received = clock_.SteadyNow();
  std::vector<Item> items;
  items.reserve(batch.size());
  const auto batch_size = static_cast<int64_t>(batch.size());
  for (auto& rm : batch) {
    telemetry::Span& span = rm->span();
    if (rm->delivery().delivery_count > 1) metrics_.redeliveries.Default().Add(1);
    span.SetAttribute(attr::kBatchSize, batch_size);
    const natsx::Message& m = rm->message();
    auto decoded = contracts::FromJson<contracts::ChatMessage>(m.payload());
    core::Status invalid = decoded.status();
    if (decoded.ok()) {
      const std::string_view room = SubjectRoom(m);
      const std::string_view subject_thread = m.Arg("thread_id").value_or(std::string_view());
      // admin.{room}.{user}: the author is the subject's user (issue 11 item 3). Only that
      // admin's JWT may publish the subject; the body alone never names the stored author.
      const std::string_view subject_user = m.Arg("user").value_or(std::string_view());
      const bool admin_subject = m.subject_template() != nullptr &&
                                 *m.subject_template() == contracts::subjects::kAdminRoom;
      // Admin subjects carry no thread, so the room/thread check before the user check keeps
      // the order of the reasons.
      invalid = contracts::CheckMessageAgainstSubject(room, subject_thread, *decoded,
                                                      contracts::BodyThreadId::kOptional);
      if (invalid.ok() && admin_subject && decoded->user != subject_user) {
        invalid = core::InvalidArgument("payload user does not match the subject");
      } else if (invalid.ok() && decoded->thread_id.empty()) {
        decoded->thread_id = std::string(subject_thread);
      }
    }
    if (!invalid.ok()) {
      // Undecodable forever: terminate (observability §4.4: ERROR + TERM), never redeliver.
      const std::string_view action = GuessAction(m.payload());
      span.SetAttribute(attr::kAction, action);
      span.RecordError(kReasonInvalidPayload, invalid.message(), "invalid_payload",
                       "invalid payload");
      (void)rm->context().Term(kReasonInvalidPayload);
      metrics_.errors.With({action, kReasonInvalidPayload}).Add(1, &span.Context());
      telemetry_.logger->Error(span.Context(), "message terminated: invalid payload",
                               {{semconv::kErrorType, kReasonInvalidPayload},
                                {attr::kAction, action},
                                {semconv::kMessagingDestinationName, m.subject()},
                                {semconv::kExceptionMessage, std::string_view(invalid.message())}});
      continue;
    }
    Item item;
    item.rm = rm.get();
    item.msg = std::move(*decoded);
    item.action = ActionLabel(item.msg.action);
    // Reactions address the target message's author; everything else its own author.
    const std::string& author =
        item.msg.action == MessageAction::kReact ? item.msg.target_user : item.msg.user;
    item.message_id = contracts::MessageId(item.msg.timestamp, author);
    item.received = received;
    if (span.IsRecording()) {
      span.SetAttribute(attr::kAction, item.action)
          .SetAttribute(attr::kMessageId, item.message_id)
          .SetAttribute(attr::kRoom, item.msg.room)
          .SetAttribute(attr::kUser, item.msg.user);
      if (!item.msg.thread_id.empty()) span.SetAttribute(attr::kThreadId, item.msg.thread_id);
      if (item.msg.action == MessageAction::kSend || item.msg.action == MessageAction::kSystem) {
        span.SetAttribute(attr::kMessageKind, item.msg.action == MessageAction::kSystem ? "system"
                                              : item.msg.sticker_url.empty()           ? "text"
                                                                                       : "sticker");
      }
      if (item.msg.action == MessageAction::kReact) {
        span.SetAttribute(attr::kTargetUser, item.msg.target_user);
      }
    }
    if (item.msg.action == MessageAction::kSend || item.msg.action == MessageAction::kSystem) {
      item.row = MessageRow{item.msg.room,      item.msg.user,
                            item.msg.text,      item.msg.timestamp,
                            item.msg.thread_id, item.msg.parent_timestamp,
                            item.msg.broadcast, item.msg.sticker_url};
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) return;

  std::vector<Item*> all;
  all.reserve(items.size());
  for (auto& it : items) all.push_back(&it);
  core::Status st = Apply(all);
  if (st.ok()) {
    Succeed(all);
    return;
  }
  if (all.size() > 1 && ReasonFor(st) == kReasonDbError) {
    // A statement error (not an outage): find the culprit by applying messages one by one, so
    // a single bad row is NAK'd alone instead of holding back the whole batch.
    telemetry_.logger->Warn("batch failed, retrying message by message",
                            {{"batch_size", static_cast<int64_t>(all.size())},
                             {semconv::kErrorType, std::string_view(core::ErrorCodeName(st.code()))}});
    for (Item* it : all) {
      it->outcome = Outcome::kPending;
      std::vector<Item*> one{it};
      core::Status s1 = Apply(one);
      if (s1.ok()) {
        Succeed(one);
      } else {
        Fail(one, s1);
      }
    }
    return;
  }
  Fail(all, st);
}

core::Status BatchProcessor::Apply(std::vector<Item*>& items) {
  std::vector<Item*> sends;
  std::vector<Item*> others;
  for (Item* it : items) {
    it->outcome = Outcome::kPending;
    const bool send =
        it->msg.action == MessageAction::kSend || it->msg.action == MessageAction::kSystem;
    (send ? sends : others).push_back(it);
  }
  CHAT_ASSIGN_OR_RETURN(pg::Lease lease, pool_.Acquire());

  // The batch INSERT hangs under the first send's process span; the other sends' spans link to
  // that span so their traces lead to the statement that wrote them (bounded: one link per span).
  telemetry::SpanContext insert_parent;
  if (!sends.empty()) insert_parent = sends.front()->rm->span().Context();
  for (size_t i = 1; i < sends.size(); ++i) sends[i]->rm->span().AddLink(insert_parent);

  std::vector<const MessageRow*> rows;
  rows.reserve(sends.size());
  for (Item* it : sends) rows.push_back(&it->row);

  if (others.empty()) {
    // One statement is atomic on its own: no BEGIN/COMMIT (trace shape §5.1).
    CHAT_ASSIGN_OR_RETURN(std::vector<bool> inserted,
                          MessageRepository::InsertMessages(lease, insert_parent, rows));
    for (size_t i = 0; i < sends.size(); ++i) {
      sends[i]->outcome = inserted[i] ? Outcome::kPersisted : Outcome::kDuplicate;
    }
    return core::Status::Ok();
  }

  const telemetry::SpanContext& tx_parent = items.front()->rm->span().Context();
  CHAT_ASSIGN_OR_RETURN(pg::Transaction tx, lease.Begin(tx_parent));
  auto fail = [&](core::Status s) {
    (void)tx.Rollback();
    return s;
  };
  if (!sends.empty()) {
    auto inserted = MessageRepository::InsertMessages(lease, insert_parent, rows);
    if (!inserted.ok()) return fail(inserted.status());
    for (size_t i = 0; i < sends.size(); ++i) {
      sends[i]->outcome = (*inserted)[i] ? Outcome::kPersisted : Outcome::kDuplicate;
    }
  }
  const int64_t now_ms = clock_.NowUnixNanos() / 1'000'000;
  for (Item* it : others) {
    const auto& parent = it->rm->span().Context();
    const auto& m = it->msg;
    switch (m.action) {
      case MessageAction::kEdit: {
        auto r = MessageRepository::Edit(lease, parent, m.room, m.timestamp, m.user, m.text, now_ms);
        if (!r.ok()) return fail(r.status());
        it->outcome = *r ? Outcome::kPersisted : Outcome::kNoop;
        break;
      }
      case MessageAction::kDelete: {
        auto r = MessageRepository::Delete(lease, parent, m.room, m.timestamp, m.user);
        if (!r.ok()) return fail(r.status());
        it->outcome = *r ? Outcome::kPersisted : Outcome::kNoop;
        break;
      }
      case MessageAction::kReact: {
        auto r = MessageRepository::ToggleReaction(lease, parent, m.room, m.timestamp, m.user,
                                                   m.emoji);
        if (!r.ok()) return fail(r.status());
        it->outcome = Outcome::kPersisted;
        if (*r == ReactionToggle::kAdded) {
          it->rm->span().AddEvent("reaction_added");
        } else {
          it->rm->span().AddEvent("reaction_removed");
        }
        break;
      }
      case MessageAction::kSend:
      case MessageAction::kSystem:
        break;
    }
  }
  return tx.Commit();
}

void BatchProcessor::Succeed(std::vector<Item*>& items) {
  const int64_t commit_ns = clock_.NowUnixNanos();
  const auto now = clock_.SteadyNow();
  for (Item* it : items) {
    telemetry::Span& span = it->rm->span();
    const telemetry::SpanContext* ex = &span.Context();
    std::string_view result = "persisted";
    switch (it->outcome) {
      case Outcome::kDuplicate:
        span.AddEvent("duplicate_ignored");
        metrics_.duplicates.With({it->action}).Add(1);
        result = "duplicate";
        break;
      case Outcome::kNoop:
        span.AddEvent("no_matching_row");
        metrics_.noop.With({it->action}).Add(1);
        result = "noop";
        break;
      case Outcome::kPersisted:
      case Outcome::kPending:
        metrics_.persisted.With({it->action}).Add(1, ex);
        break;
    }
    core::Status ack = it->rm->context().Ack();
    if (!ack.ok()) {
      // Committed but not acked: JetStream redelivers and the idempotent insert absorbs it.
      telemetry_.logger->Warn(span.Context(), "ack after commit failed",
                              {{attr::kMessageId, std::string_view(it->message_id)},
                               {semconv::kExceptionMessage, std::string_view(ack.message())}});
    }
    metrics_.duration.With({it->action})
        .Record(std::chrono::duration<double>(now - it->received).count(), ex);
    const int64_t stored = it->rm->delivery().timestamp_unix_nano;
    if (stored > 0) {
      metrics_.lag.Default().Record(static_cast<double>(commit_ns - stored) / 1e9, ex);
    }
    telemetry_.logger->Info(span.Context(), "message persisted",
                            {{attr::kAction, it->action},
                             {attr::kMessageId, std::string_view(it->message_id)},
                             {attr::kRoom, std::string_view(it->msg.room)},
                             {"result", result}});
  }
}

void BatchProcessor::Fail(std::vector<Item*>& items, const core::Status& status) {
  const std::string_view reason = ReasonFor(status);
  for (Item* it : items) {
    telemetry::Span& span = it->rm->span();
    const auto delay = NakDelay(it->rm->delivery().delivery_count);
    span.RecordError(reason, status.message(), "db", "persist failed");
    (void)it->rm->context().Nak(delay);
    metrics_.errors.With({it->action, reason}).Add(1, &span.Context());
    telemetry_.logger->Error(span.Context(), "message persist failed",
                             {{semconv::kErrorType, reason},
                              {attr::kAction, it->action},
                              {attr::kMessageId, std::string_view(it->message_id)},
                              {attr::kRoom, std::string_view(it->msg.room)},
                              {"nak_delay_ms", static_cast<int64_t>(delay.count())},
                              {semconv::kExceptionMessage, std::string_view(status.message())}});
  }
}

}  // namespace chat::persist_worker
