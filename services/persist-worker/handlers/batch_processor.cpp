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
    case MessageAction::kEdit: return "edit";
    case MessageAction::kDelete: return "delete";
    case MessageAction::kReact: return "react";
    case MessageAction::kSend:
    case MessageAction::kSystem: break;
  }
  return "send";
}

// For an undecodable payload the label still has to be one of the four actions: the wire
// `action` when it is a known one, else send (what an absent action means).
std::string_view GuessAction(std::string_view payload) {
  for (std::string_view a : {"edit", "delete", "react"}) {
    std::string needle = R"("action":")";
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
    case core::ErrorCode::kDeadlineExceeded: return kReasonTimeout;
    default: return kReasonDbError;
  }
}

bool AdminSubject(const runtime::BatchItemContext& ctx) {
  // By value: the message points at the consumer's own copy of the template.
  return ctx.subject_template() == contracts::subjects::kAdminRoom;
}

// The room the subject addresses: chat.{room}[.thread.{thread_id}] → {room}; admin.{x}.{user} → the
// admin channel (system.md §3.2.4). The payload must agree: fanout validated membership against
// the subject, so persisting into another room would bypass it.
std::string_view SubjectRoom(const runtime::BatchItemContext& ctx) {
  return AdminSubject(ctx) ? contracts::kAdminRoom : ctx.Arg("room");
}

// The payload against its subject (README, Input: identity).
core::Status CheckAgainstSubject(const runtime::BatchItemContext& ctx,
                                 contracts::ChatMessage& msg) {
  const std::string_view subject_thread = ctx.Arg("thread_id");
  // Admin subjects carry no thread, so the room/thread check before the user check keeps the
  // order of the reasons.
  CHAT_RETURN_IF_ERROR(contracts::CheckMessageAgainstSubject(SubjectRoom(ctx), subject_thread, msg,
                                                             contracts::BodyThreadId::kOptional));
  // admin.{room}.{user}: the author is the subject's user (issue 11 item 3). Only that admin's
  // JWT may publish the subject; the body alone never names the stored author.
  if (AdminSubject(ctx) && msg.user != ctx.Arg("user")) {
    return core::InvalidArgument("payload user does not match the subject");
  }
  if (msg.thread_id.empty()) msg.thread_id = std::string(subject_thread);
  return core::Status::Ok();
}

}  // namespace

struct BatchProcessor::Work {
  BatchItem* item = nullptr;
  std::string_view action;  // metric label
  std::string message_id;
  Outcome outcome = Outcome::kPending;
  MessageRow row;  // for sends
  // The `INSERT messages` span that wrote (or found) the row, and how many rows it carried.
  telemetry::SpanContext insert_span;
  int64_t insert_rows = 0;

  const contracts::ChatMessage& msg() const { return item->value; }
  telemetry::Span& span() const { return item->context.span(); }
  bool send() const {
    return msg().action == MessageAction::kSend || msg().action == MessageAction::kSystem;
  }
  std::vector<telemetry::Attribute> LogFields() const {
    return {{attr::kMessageId, std::string_view(message_id)},
            {attr::kRoom, std::string_view(msg().room)}};
  }
};

runtime::BatchMetrics BatchProcessor::Metrics(const PersistMetrics& m) {
  runtime::BatchMetrics b;
  b.acked = {{"persisted", &m.persisted, true},
             {"duplicate", &m.duplicates, false},
             {"noop", &m.noop, false}};
  b.errors = &m.errors;
  b.redeliveries = &m.redeliveries;
  b.duration = &m.duration;
  b.lag = &m.lag;
  return b;
}

runtime::BatchOptions BatchProcessor::Options(const PersistConfig& config,
                                              const runtime::BatchMetrics& metrics) {
  runtime::BatchOptions o;
  o.workers = config.workers;
  o.batch_size = config.batch_size;
  o.fetch_timeout = config.fetch_timeout;
  o.metrics = &metrics;
  o.label_key = attr::kAction;
  o.undecodable_label = GuessAction;
  o.invalid_reason = kReasonInvalidPayload;
  o.failure_reason = kReasonDbError;
  o.failure_nak_delay = config.nak_delay_initial;
  o.ack_log = "message persisted";
  o.nak_log = "message persist failed";
  o.term_log = "message terminated: invalid payload";
  o.ack_failed_log = "ack after commit failed";
  o.fetch_failed_log = "persist-worker fetch failed";
  o.nak_exception_type = "db";
  o.nak_description = "persist failed";
  o.term_description = "invalid payload";
  return o;
}

std::chrono::milliseconds BatchProcessor::NakDelay(uint64_t delivery_count) const {
  const uint64_t shift = std::min<uint64_t>(delivery_count > 0 ? delivery_count - 1 : 0, 16);
  auto delay = config_.nak_delay_initial * (int64_t{1} << shift);
  return std::min(delay, config_.nak_delay_max);
}

void BatchProcessor::Handle(std::vector<BatchItem>& items) {
  std::vector<Work> work;
  work.reserve(items.size());
  for (BatchItem& item : items) {
    core::Status invalid = CheckAgainstSubject(item.context, item.value);
    if (!invalid.ok()) {
      // Contradicts its subject forever: terminated, never redelivered.
      item.result = runtime::BatchResult::Term(GuessAction(item.context.payload()),
                                               kReasonInvalidPayload, std::move(invalid));
      continue;
    }
    Work w;
    w.item = &item;
    const contracts::ChatMessage& msg = item.value;
    w.action = ActionLabel(msg.action);
    // Reactions address the target message's author; everything else its own author.
    const std::string& author = msg.action == MessageAction::kReact ? msg.target_user : msg.user;
    w.message_id = contracts::MessageId(msg.timestamp, author);
    telemetry::Span& span = item.context.span();
    if (span.IsRecording()) {
      span.SetAttribute(attr::kMessageId, w.message_id)
          .SetAttribute(attr::kRoom, msg.room)
          .SetAttribute(attr::kUser, msg.user);
      if (!msg.thread_id.empty()) span.SetAttribute(attr::kThreadId, msg.thread_id);
      if (w.send()) {
        span.SetAttribute(attr::kMessageKind, msg.action == MessageAction::kSystem ? "system"
                                              : msg.sticker_url.empty()            ? "text"
                                                                                   : "sticker");
      }
      if (msg.action == MessageAction::kReact) {
        span.SetAttribute(attr::kTargetUser, msg.target_user);
      }
    }
    if (w.send()) {
      w.row = MessageRow{msg.room,      msg.user,       msg.text,
                         msg.timestamp, msg.thread_id,  msg.parent_timestamp,
                         msg.broadcast, msg.sticker_url};
    }
    work.push_back(std::move(w));
  }
  if (work.empty()) return;

  std::vector<Work*> all;
  all.reserve(work.size());
  for (auto& w : work) all.push_back(&w);
  core::Status st = Apply(all);
  if (st.ok()) {
    Succeed(all);
    return;
  }
  if (all.size() > 1 && ReasonFor(st) == kReasonDbError) {
    // A statement error (not an outage): find the culprit by applying messages one by one, so
    // a single bad row is NAK'd alone instead of holding back the whole batch.
    telemetry_.logger->Warn(
        "batch failed, retrying message by message",
        {{"batch_size", static_cast<int64_t>(all.size())},
         {semconv::kErrorType, std::string_view(core::ErrorCodeName(st.code()))}});
    for (Work* w : all) {
      std::vector<Work*> one{w};
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

core::Status BatchProcessor::Apply(std::vector<Work*>& items) {
  std::vector<Work*> sends;
  std::vector<Work*> others;
  for (Work* w : items) {
    w->outcome = Outcome::kPending;
    w->insert_span = {};
    w->insert_rows = 0;
    (w->send() ? sends : others).push_back(w);
  }
  CHAT_ASSIGN_OR_RETURN(std::unique_ptr<MessageSession> session, store_.Open());

  // The batch INSERT hangs under the first send's process span; every send's span links to the
  // INSERT itself once the rows are committed (Succeed), so each message's trace leads to the
  // statement that wrote it (one link per span, within the 8-link limit).
  telemetry::SpanContext insert_parent;
  if (!sends.empty()) insert_parent = sends.front()->span().Context();

  std::vector<const MessageRow*> rows;
  rows.reserve(sends.size());
  for (Work* w : sends) rows.push_back(&w->row);
  auto record_inserts = [&](const InsertedMessages& inserted) {
    for (size_t i = 0; i < sends.size(); ++i) {
      sends[i]->outcome = inserted.inserted[i] ? Outcome::kPersisted : Outcome::kDuplicate;
      sends[i]->insert_span = inserted.statement_span;
      sends[i]->insert_rows = static_cast<int64_t>(sends.size());
    }
  };

  if (others.empty()) {
    // One statement is atomic on its own: no BEGIN/COMMIT (trace shape §5.1).
    CHAT_ASSIGN_OR_RETURN(InsertedMessages inserted, session->InsertMessages(insert_parent, rows));
    record_inserts(inserted);
    return core::Status::Ok();
  }

  const telemetry::SpanContext& tx_parent = items.front()->span().Context();
  CHAT_RETURN_IF_ERROR(session->Begin(tx_parent));
  auto fail = [&](core::Status s) {
    (void)session->Rollback();
    return s;
  };
  if (!sends.empty()) {
    auto inserted = session->InsertMessages(insert_parent, rows);
    if (!inserted.ok()) return fail(inserted.status());
    record_inserts(*inserted);
  }
  const int64_t now_ms = clock_.NowUnixNanos() / 1'000'000;
  for (Work* w : others) {
    const auto& parent = w->span().Context();
    const auto& m = w->msg();
    switch (m.action) {
      case MessageAction::kEdit: {
        auto r = session->Edit(parent, m.room, m.timestamp, m.user, m.text, now_ms);
        if (!r.ok()) return fail(r.status());
        w->outcome = *r ? Outcome::kPersisted : Outcome::kNoop;
        break;
      }
      case MessageAction::kDelete: {
        auto r = session->Delete(parent, m.room, m.timestamp, m.user);
        if (!r.ok()) return fail(r.status());
        w->outcome = *r ? Outcome::kPersisted : Outcome::kNoop;
        break;
      }
      case MessageAction::kReact: {
        auto r = session->ToggleReaction(parent, m.room, m.timestamp, m.user, m.emoji);
        if (!r.ok()) return fail(r.status());
        w->outcome = Outcome::kPersisted;
        if (*r == ReactionToggle::kAdded) {
          w->span().AddEvent("reaction_added");
        } else {
          w->span().AddEvent("reaction_removed");
        }
        break;
      }
      case MessageAction::kSend:
      case MessageAction::kSystem: break;
    }
  }
  return session->Commit();
}

void BatchProcessor::Succeed(std::vector<Work*>& items) {
  for (Work* w : items) {
    telemetry::Span& span = w->span();
    if (w->insert_span.IsValid()) {
      // observability §5.1 "Batched rows": the row's statement, findable from the message.
      span.AddLink(w->insert_span, {{semconv::kChatLinkReason, "batch"}});
    }
    std::string_view result = "persisted";
    switch (w->outcome) {
      case Outcome::kDuplicate:
        span.AddEvent("duplicate_ignored");
        result = "duplicate";
        break;
      case Outcome::kNoop:
        span.AddEvent("no_matching_row");
        result = "noop";
        break;
      case Outcome::kPersisted:
      case Outcome::kPending:
        if (w->send()) {
          span.AddEvent("message_persisted", {{attr::kBatchSize, w->insert_rows},
                                              {semconv::kDbCollectionName, "messages"}});
        }
        break;
    }
    w->item->result = runtime::BatchResult::Ack(w->action, result, w->LogFields());
  }
}

void BatchProcessor::Fail(std::vector<Work*>& items, const core::Status& status) {
  const std::string_view reason = ReasonFor(status);
  for (Work* w : items) {
    w->item->result = runtime::BatchResult::Nak(
        w->action, reason, status, NakDelay(w->item->context.delivery().delivery_count),
        w->LogFields());
  }
}

}  // namespace chat::persist_worker
