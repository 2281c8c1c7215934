// The batch consumer's type-erased half: fetch loops, and the span, metric, ack and log work
// applied to every message of a batch.
#include "chat/runtime/batch_consumer.hpp"

#include <exception>

#include "chat/contracts/attributes.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::runtime {

namespace semconv = telemetry::semconv;

BatchConsumer::BatchConsumer(natsx::JetStream& js, const core::Clock& clock, BatchOptions options,
                             ErasedHandler handler)
    : js_(js), clock_(clock), options_(std::move(options)), handler_(std::move(handler)) {}

BatchConsumer::~BatchConsumer() { Drain(std::chrono::seconds(10)); }

core::Result<std::unique_ptr<BatchConsumer>> BatchConsumer::StartErased(
    natsx::JetStream& js, const core::Clock& clock, const std::string& stream,
    const std::string& durable, const std::vector<core::SubjectTemplate>& templates,
    BatchOptions options, ErasedHandler handler) {
  if (options.workers < 1) return core::InvalidArgument("batch consumer needs at least 1 worker");
  if (options.batch_size < 1) return core::InvalidArgument("batch size must be >= 1");
  std::unique_ptr<BatchConsumer> c(
      new BatchConsumer(js, clock, std::move(options), std::move(handler)));
  for (int i = 0; i < c->options_.workers; ++i) {
    CHAT_ASSIGN_OR_RETURN(auto consumer, js.BindPullConsumer(stream, durable, templates));
    c->consumers_.push_back(std::move(consumer));
  }
  for (auto& pc : c->consumers_) {
    natsx::PullConsumer* consumer = pc.get();
    BatchConsumer* self = c.get();
    c->threads_.emplace_back([self, consumer] { self->Loop(*consumer); });
  }
  return c;
}

void BatchConsumer::Loop(natsx::PullConsumer& consumer) {
  const telemetry::Telemetry& tel = js_.connection().telemetry();
  auto last_warn = std::chrono::steady_clock::time_point{};
  while (!stopping_.load()) {
    auto batch = consumer.FetchBatch(options_.batch_size, options_.fetch_timeout);
    if (!batch.ok()) {
      // NATS unreachable or the consumer is gone: the connection reconnects on its own.
      auto now = std::chrono::steady_clock::now();
      if (now - last_warn > std::chrono::seconds(10)) {
        last_warn = now;
        tel.logger->Warn(options_.fetch_failed_log,
                         {{"error", std::string_view(batch.status().message())}});
      }
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_.load(); });
      continue;
    }
    if (batch->empty()) continue;
    ProcessBatch(*batch);
    // Spans end, and messages left unacknowledged (none after ProcessBatch) are released, here.
  }
}

void BatchConsumer::ProcessBatch(std::vector<std::unique_ptr<natsx::ReceivedMessage>>& batch) {
  const auto received = clock_.SteadyNow();
  const auto batch_size = static_cast<int64_t>(batch.size());
  const BatchMetrics* m = options_.metrics;
  std::vector<natsx::ReceivedMessage*> messages;
  messages.reserve(batch.size());
  for (auto& rm : batch) {
    if (m != nullptr && m->redeliveries != nullptr && rm->delivery().delivery_count > 1) {
      m->redeliveries->Default().Add(1);
    }
    rm->span().SetAttribute(contracts::attr::kBatchSize, batch_size);
    messages.push_back(rm.get());
  }
  std::vector<BatchResult> results(batch.size());
  std::string exception_text;
  try {
    handler_(messages, results);
  } catch (const std::exception& e) {
    exception_text = e.what();
  } catch (...) {
    exception_text = "unknown exception";
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    BatchResult& r = results[i];
    if (r.kind == BatchResult::Kind::kPending) {
      // The handler threw or forgot this item: redeliver it later, and say so.
      r.kind = BatchResult::Kind::kNak;
      r.reason = options_.failure_reason;
      r.nak_delay = options_.failure_nak_delay;
      r.status = core::Internal(exception_text.empty() ? "the handler decided no outcome"
                                                       : "the handler threw an exception");
    }
    Apply(*messages[i], r, received);
  }
}

void BatchConsumer::Apply(natsx::ReceivedMessage& rm, BatchResult& r,
                          std::chrono::steady_clock::time_point received) {
  const telemetry::Telemetry& tel = js_.connection().telemetry();
  const BatchMetrics* m = options_.metrics;
  telemetry::Span& span = rm.span();
  const telemetry::SpanContext& ex = span.Context();
  if (r.label.empty()) {
    r.label = options_.undecodable_label ? options_.undecodable_label(rm.message().payload())
                                         : std::string_view("unknown");
  }
  span.SetAttribute(options_.label_key, r.label);
  std::vector<telemetry::Attribute> fields;
  fields.reserve(r.log_fields.size() + 5);

  switch (r.kind) {
    case BatchResult::Kind::kAck: {
      if (m != nullptr) {
        for (const auto& c : m->acked) {
          if (c.result == r.result && c.counter != nullptr) {
            c.counter->With({r.label}).Add(1, c.exemplar ? &ex : nullptr);
          }
        }
      }
      core::Status ack = rm.context().Ack();
      if (!ack.ok()) {
        // Done but not acked: JetStream redelivers, so the handler's work must be idempotent.
        std::vector<telemetry::Attribute> warn = r.log_fields;
        warn.push_back({semconv::kExceptionMessage, std::string_view(ack.message())});
        tel.logger->Warn(ex, options_.ack_failed_log, std::move(warn));
      }
      if (m != nullptr && m->duration != nullptr) {
        m->duration->With({r.label}).Record(
            std::chrono::duration<double>(clock_.SteadyNow() - received).count(), &ex);
      }
      const int64_t stored = rm.delivery().timestamp_unix_nano;
      if (m != nullptr && m->lag != nullptr && stored > 0) {
        m->lag->Default().Record(static_cast<double>(clock_.NowUnixNanos() - stored) / 1e9, &ex);
      }
      fields.push_back({options_.label_key, r.label});
      for (auto& f : r.log_fields) fields.push_back(std::move(f));
      fields.push_back({"result", r.result});
      tel.logger->Info(ex, options_.ack_log, std::move(fields));
      break;
    }
    case BatchResult::Kind::kNak: {
      span.RecordError(r.reason, r.status.message(), options_.nak_exception_type,
                       options_.nak_description);
      (void)rm.context().Nak(r.nak_delay);
      if (m != nullptr && m->errors != nullptr) m->errors->With({r.label, r.reason}).Add(1, &ex);
      fields.push_back({semconv::kErrorType, r.reason});
      fields.push_back({options_.label_key, r.label});
      for (auto& f : r.log_fields) fields.push_back(std::move(f));
      fields.push_back({"nak_delay_ms", static_cast<int64_t>(r.nak_delay.count())});
      fields.push_back({semconv::kExceptionMessage, std::string_view(r.status.message())});
      tel.logger->Error(ex, options_.nak_log, std::move(fields));
      break;
    }
    case BatchResult::Kind::kTerm:
    case BatchResult::Kind::kPending: {
      // Undecodable or refused for good (observability §4.4: ERROR + TERM), never redelivered.
      if (r.reason.empty()) r.reason = options_.invalid_reason;
      span.RecordError(r.reason, r.status.message(), r.reason, options_.term_description);
      (void)rm.context().Term(r.reason);
      if (m != nullptr && m->errors != nullptr) m->errors->With({r.label, r.reason}).Add(1, &ex);
      fields.push_back({semconv::kErrorType, r.reason});
      fields.push_back({options_.label_key, r.label});
      fields.push_back({semconv::kMessagingDestinationName, rm.message().subject()});
      for (auto& f : r.log_fields) fields.push_back(std::move(f));
      fields.push_back({semconv::kExceptionMessage, std::string_view(r.status.message())});
      tel.logger->Error(ex, options_.term_log, std::move(fields));
      break;
    }
  }
}

void BatchConsumer::Drain(std::chrono::milliseconds timeout) {
  if (threads_.empty() && consumers_.empty()) return;
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A loop finishes its in-flight batch, then sees stopping_ after at most one fetch timeout.
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (std::chrono::steady_clock::now() > deadline) {
    js_.connection().telemetry().logger->Warn("batch consumer drain took longer than its budget");
  }
  consumers_.clear();  // releases the pull subscriptions (the durable stays on the server)
}

}  // namespace chat::runtime
