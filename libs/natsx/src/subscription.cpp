// Subscriptions: Connection::Subscribe and the Subscription it returns. Opens one native
// subscription per distinct pattern, matches each delivery to its template, rejects oversized or
// unmatched messages, starts the process span (parent or link from the inbound context) and hands
// the message to the handler; also the bounded waits of Close and Drain.
#include <nats/nats.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <typeinfo>

#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::Span;
using telemetry::SpanContext;
using telemetry::SpanKind;

core::Result<std::unique_ptr<Subscription>> Connection::Subscribe(SubscribeOptions options,
                                                                  Handler handler) {
  if (options.templates.empty()) return core::InvalidArgument("subscription needs a template");
  if (!handler) return core::InvalidArgument("subscription needs a handler");
  if (options.workers < 1) return core::InvalidArgument("subscription needs at least one worker");
  std::unique_ptr<Subscription> sub(
      new Subscription(*this, std::move(options), std::move(handler)));
  sub->StartWorkers();  // before the first delivery can arrive
  std::vector<std::string> patterns;
  if (!sub->options_.pattern.empty()) {
    patterns.push_back(sub->options_.pattern);
  } else {
    for (const auto& t : sub->options_.templates) {
      auto p = t.Pattern();
      if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) patterns.push_back(p);
    }
  }
  for (const auto& p : patterns) {
    natsSubscription* ns = nullptr;
    natsStatus s;
    if (sub->options_.queue_group.empty()) {
      s = natsConnection_Subscribe(&ns, nc_, p.c_str(), &Subscription::OnMessage, sub.get());
    } else {
      s = natsConnection_QueueSubscribe(&ns, nc_, p.c_str(), sub->options_.queue_group.c_str(),
                                        &Subscription::OnMessage, sub.get());
    }
    if (s == NATS_OK) {
      s = natsSubscription_SetOnCompleteCB(ns, &Subscription::OnComplete, sub.get());
      if (s == NATS_OK) {
        s = natsSubscription_SetPendingLimits(ns, sub->options_.pending_msgs_limit,
                                              sub->options_.pending_bytes_limit);
      }
      sub->subs_.push_back(ns);
    }
    if (s != NATS_OK) return internal::ToStatus(s, "subscribe");  // ~Subscription cleans up
  }
  return sub;
}

// ---------------------------------------------------------------------------------------------
// Subscription

Subscription::Subscription(Connection& conn, SubscribeOptions options, Handler handler)
    : conn_(conn), options_(std::move(options)), handler_(std::move(handler)) {
  for (const auto& t : options_.templates) {
    std::string n = "process ";
    n += t.text();
    span_names_.push_back(std::move(n));
  }
}

Subscription::~Subscription() { Close(); }

void Subscription::Close() {
  for (auto* ns : subs_) natsSubscription_Unsubscribe(ns);
  // A delivery thread waiting for room in the pool must return before libnats can call
  // OnComplete: stopping the pool first lets it drop its message (nothing more is handled once
  // unsubscribed, like the messages libnats still held), so the wait below ends.
  StopWorkers();
  {
    // The on-complete callback fires once the delivery thread will call the handler no more,
    // so `this` stays valid for any handler still running.
    std::unique_lock lock(mu_);
    done_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return completed_ >= subs_.size(); });
  }
  // The pool's running handlers finish; what was still queued was dropped.
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  for (auto* ns : subs_) natsSubscription_Destroy(ns);
  subs_.clear();
}

core::Status Subscription::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto* ns : subs_) natsSubscription_Drain(ns);
  {
    std::unique_lock lock(mu_);
    if (!done_cv_.wait_until(lock, deadline, [&] { return completed_ >= subs_.size(); })) {
      return core::DeadlineExceeded("subscription did not drain in time");
    }
  }
  std::unique_lock lock(pool_mu_);
  if (!idle_cv_.wait_until(lock, deadline, [&] { return in_flight_ == 0; })) {
    return core::DeadlineExceeded("subscription did not drain in time");
  }
  return core::Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Worker pool (options_.workers > 1)

void Subscription::StartWorkers() {
  if (options_.workers <= 1) return;
  pool_capacity_ = static_cast<size_t>(options_.workers);  // fixed before the first delivery
  workers_.reserve(pool_capacity_);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void Subscription::Enqueue(natsMsg* raw) {
  std::unique_lock lock(pool_mu_);
  // Blocking the delivery thread while every worker has a message waiting leaves the rest in
  // libnats' pending queue, whose limits count a slow consumer: the pool adds no unbounded buffer.
  space_cv_.wait(lock, [&] { return queue_.size() < pool_capacity_ || stopping_; });
  if (stopping_) {
    lock.unlock();
    natsMsg_Destroy(raw);
    return;
  }
  try {
    queue_.push_back(raw);
  } catch (...) {
    // No memory for one more queue node: handle it on the delivery thread instead of losing it.
    lock.unlock();
    Deliver(raw);
    return;
  }
  ++in_flight_;
  lock.unlock();
  work_cv_.notify_one();  // one worker per message: waking them all cost fanout a third more CPU
}

void Subscription::WorkerLoop() {
  std::unique_lock lock(pool_mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, nothing left
    natsMsg* raw = queue_.front();
    queue_.pop_front();
    const bool discard = stopping_;
    lock.unlock();
    space_cv_.notify_one();  // the delivery thread may be waiting for room
    if (discard) {
      natsMsg_Destroy(raw);
    } else {
      Deliver(raw);
    }
    lock.lock();
    if (--in_flight_ == 0) idle_cv_.notify_all();
  }
}

void Subscription::StopWorkers() {
  {
    std::lock_guard lock(pool_mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
}

void Subscription::OnComplete(void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  std::lock_guard lock(self->mu_);
  ++self->completed_;
  self->done_cv_.notify_all();
}

void Subscription::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  if (self->pool_capacity_ == 0) {
    self->Deliver(msg);
  } else {
    self->Enqueue(msg);
  }
}

void Subscription::Deliver(natsMsg* raw) noexcept {
  // noexcept boundary: nats.c threads (and the pool's) must never see an exception. The
  // handler's own exceptions are contained by RunHandler; what arrives here came from the
  // delivery code around it (span set-up, a log write that failed, an allocation): counted and
  // logged, never silent.
  std::string what;
  std::string type;
  try {
    Dispatch(raw);
    return;
  } catch (const std::exception& e) {
    what = e.what();
    type = typeid(e).name();
  } catch (...) {
    what = "unknown exception";
    type = "unknown";
  }
  try {
    conn_.metrics().dispatch_exceptions->Add(1);
    conn_.telemetry().logger->Error(
        "nats message delivery threw; message dropped",
        {{semconv::kMessagingDestinationTemplate,
          std::string_view(options_.pattern.empty() ? options_.templates.front().text()
                                                    : options_.pattern)},
         {semconv::kExceptionType, std::string_view(type)},
         {semconv::kExceptionMessage, std::string_view(what)}});
  } catch (...) {
    // The logger itself is what failed (the counter above is already incremented when it can
    // be); there is nowhere left to report to.
  }
}

void Subscription::Dispatch(natsMsg* raw) {
  delivered_.fetch_add(1, std::memory_order_relaxed);
  const char* raw_subject = natsMsg_GetSubject(raw);
  const core::SubjectTemplate* tmpl = core::MatchTemplate(
      options_.templates, raw_subject == nullptr ? std::string_view() : raw_subject);
  Message typed(raw, tmpl);  // owns (and destroys) the message from here on
  const auto& tel = conn_.telemetry();
  auto& metrics = conn_.metrics();
  size_t size = typed.payload().size();
  if (size > conn_.options().max_inbound_payload_bytes) {
    metrics.rejected_oversized->Add(1);
    tel.logger->Warn("inbound message rejected: payload too large",
                     {{"bytes", static_cast<int64_t>(size)},
                      {"limit", static_cast<int64_t>(conn_.options().max_inbound_payload_bytes)}});
    return;
  }
  if (tmpl == nullptr) {
    metrics.rejected_no_template->Add(1);
    tel.logger->Warn("inbound message rejected: subject matches no template",
                     {{"subscription",
                       std::string_view(options_.pattern.empty() ? options_.templates.front().text()
                                                                 : options_.pattern)}});
    return;
  }
  SpanContext parent;
  if (options_.traced) {
    parent = conn_.ExtractContext(typed.native());
  } else {
    // A valid, unsampled parent: the parent-based sampler drops this span and its children.
    parent.trace_id = telemetry::NewTraceId();
    parent.span_id = telemetry::NewSpanId();
    parent.trace_flags = 0;
    parent.is_remote = true;
  }
  auto index = static_cast<size_t>(tmpl - options_.templates.data());
  bool server = options_.kind == ProcessKind::kServer;
  telemetry::SpanStartOptions start;
  start.kind = server ? SpanKind::kServer : SpanKind::kConsumer;
  if (options_.link_inbound && options_.traced) {
    if (parent.IsValid()) {
      start.links.push_back({parent, {{semconv::kChatLinkReason, "recipient"}}});
    }
  } else {
    start.parent = parent;
  }
  Span span = tel.tracer.StartSpan(span_names_[index], std::move(start));
  conn_.SetMessagingAttributes(span, "process", "process", typed.subject(), *tmpl, size, false);
  if (span.IsRecording() && !options_.queue_group.empty()) {
    span.SetAttribute(telemetry::semconv::kMessagingConsumerGroupName, options_.queue_group);
  }
  MessageContext ctx(conn_, typed, span);
  (void)internal::RunHandler(conn_, typed, ctx, span, handler_);
}

}  // namespace chat::natsx
