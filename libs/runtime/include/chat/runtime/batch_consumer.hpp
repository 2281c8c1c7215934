// runtime::BatchConsumer: the one owner of the JetStream batch path, as the Dispatcher is for
// request and event routes (docs/style.md rule 1). It runs the fetch loops of a durable pull
// consumer and, for every fetched batch:
//
//   - counts redeliveries and sets chat.batch.size on each message's CONSUMER span (natsx has
//     already started it with the parent-or-link rule of docs/observability.md §3.4);
//   - decodes each payload into T; an undecodable one is terminated (span ERROR, TERM, the
//     errors counter, one ERROR log) and never reaches the handler;
//   - calls the handler once with the decoded items; the handler does the business work and
//     sets each item's BatchResult (ack with a result label, nak with its delay, or term);
//   - applies every result: ack/nak/term, the label attribute, the RED metrics with the span as
//     exemplar, and exactly one log line per message.
//
//   auto consumer = runtime::BatchConsumer::Start<contracts::ChatMessage>(
//       js, clock, "CHAT_MESSAGES", "persist-worker", {subjects::kChatRoom}, options,
//       [&](std::vector<runtime::BatchItem<contracts::ChatMessage>>& items) { ... });
//
// The handler runs on one of the consumer's own threads (one per worker), never on two at once
// for the same batch; with several workers it must keep no unguarded state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/core/subject.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/attributes.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::runtime {

// What happens to one message of a batch. Labels, results and reasons name members of closed
// sets (metric label values) and must point to static storage.
struct BatchResult {
  enum class Kind { kPending, kAck, kNak, kTerm };

  Kind kind = Kind::kPending;
  std::string_view label{};   // the item's metric label (persist-worker: chat.action)
  std::string_view result{};  // kAck: which success counter, and the log's `result` field
  std::string_view reason{};  // kNak/kTerm: errors{label, reason} and error.type
  core::Status status{};      // kNak/kTerm: the failure, for exception.message
  std::chrono::milliseconds nak_delay{0};
  std::vector<telemetry::Attribute> log_fields{};  // extra fields of the one log line

  static BatchResult Ack(std::string_view label, std::string_view result,
                         std::vector<telemetry::Attribute> log_fields = {}) {
    BatchResult r;
    r.kind = Kind::kAck;
    r.label = label;
    r.result = result;
    r.log_fields = std::move(log_fields);
    return r;
  }
  static BatchResult Nak(std::string_view label, std::string_view reason, core::Status status,
                         std::chrono::milliseconds delay,
                         std::vector<telemetry::Attribute> log_fields = {}) {
    BatchResult r = Failure(Kind::kNak, label, reason, std::move(status), std::move(log_fields));
    r.nak_delay = delay;
    return r;
  }
  // Never redelivered: for messages that can never succeed (invalid for the business rules).
  static BatchResult Term(std::string_view label, std::string_view reason, core::Status status,
                          std::vector<telemetry::Attribute> log_fields = {}) {
    return Failure(Kind::kTerm, label, reason, std::move(status), std::move(log_fields));
  }

 private:
  static BatchResult Failure(Kind kind, std::string_view label, std::string_view reason,
                             core::Status status, std::vector<telemetry::Attribute> log_fields) {
    BatchResult r;
    r.kind = kind;
    r.label = label;
    r.reason = reason;
    r.status = std::move(status);
    r.log_fields = std::move(log_fields);
    return r;
  }
};

// One fetched message as the handler sees it: the subject, its template arguments and the
// process span. Valid during the handler call only; use on the handler's thread.
class BatchItemContext {
 public:
  explicit BatchItemContext(natsx::ReceivedMessage& rm) : rm_(&rm) {}

  // A placeholder of the matched template ("room" in chat.{room}); "" if absent.
  std::string_view Arg(std::string_view name) const {
    auto v = rm_->message().Arg(name);
    return v ? *v : std::string_view();
  }
  std::string_view subject() const { return rm_->message().subject(); }
  // The template the message matched (never null for a fetched message).
  const core::SubjectTemplate& subject_template() const {
    return *rm_->message().subject_template();
  }
  std::string_view payload() const { return rm_->message().payload(); }
  const natsx::DeliveryInfo& delivery() const { return rm_->delivery(); }

  // The CONSUMER span "process {template}": add attributes, events and links; its context is
  // the parent for the handler's own child spans (SQL).
  telemetry::Span& span() { return rm_->span(); }
  const telemetry::SpanContext& span_context() const { return rm_->span().Context(); }

 private:
  natsx::ReceivedMessage* rm_;
};

// A decoded message plus the outcome the handler chose for it.
// Always aggregate-initialised with its message: BatchItemContext has no default state.
template <typename T>
struct BatchItem {  // NOLINT(cppcoreguidelines-pro-type-member-init)
  T value;
  BatchItemContext context;
  BatchResult result{};
};

// The service's instruments (docs/style.md rule 8), each optional. The service creates them and
// zero-initialises their series; they must outlive the consumer.
struct BatchMetrics {
  struct AckCounter {
    std::string_view result;                      // BatchResult::result this counter counts
    const telemetry::Counter* counter = nullptr;  // labels {label}
    bool exemplar = false;
  };
  std::vector<AckCounter> acked{};
  const telemetry::Counter* errors = nullptr;        // {label, reason}; nak and term, exemplar
  const telemetry::Counter* redeliveries = nullptr;  // no labels; delivery count > 1
  const telemetry::Histogram* duration = nullptr;    // {label}; batch receipt → ack, exemplar
  const telemetry::Histogram* lag = nullptr;  // no labels; ack time − stored time, exemplar
};

struct BatchOptions {
  int workers = 1;  // fetch loops, each with its own pull subscription on the durable
  int batch_size = 100;
  std::chrono::milliseconds fetch_timeout{500};  // also bounds how long Drain waits for a loop
  const BatchMetrics* metrics = nullptr;         // must outlive the consumer

  // Span attribute and log field that carry an item's label.
  telemetry::AttrKey label_key{"chat.label"};
  // The label of a payload that did not decode (default: "unknown").
  std::function<std::string_view(std::string_view payload)> undecodable_label{};
  // error.type of a payload that did not decode.
  std::string_view invalid_reason = "invalid_payload";
  // Reason and delay for items the handler left pending or abandoned by throwing.
  std::string_view failure_reason = "internal";
  std::chrono::milliseconds failure_nak_delay{1000};

  // The service's constant log sentences (its README lists them).
  std::string_view ack_log = "message handled";
  std::string_view nak_log = "message failed";
  std::string_view term_log = "message terminated";
  std::string_view ack_failed_log = "ack failed";
  std::string_view fetch_failed_log = "fetch failed";  // WARN, at most every 10 s per loop
  // RecordError's exception.type and status description on a NAK'd span, and the description
  // on a terminated span (whose exception.type is the reason).
  std::string_view nak_exception_type;
  std::string_view nak_description = "processing failed";
  std::string_view term_description = "invalid payload";
};

class BatchConsumer {
 public:
  // The type-erased middle: decodes the messages, calls the handler, and writes each message's
  // result into `results` (same order; a decode failure is a kTerm with an empty label).
  using ErasedHandler = std::function<void(std::vector<natsx::ReceivedMessage*>& messages,
                                           std::vector<BatchResult>& results)>;

  // Binds `options.workers` pull subscriptions to the existing durable `durable` of `stream`
  // (natsx::JetStream::AddOrUpdateConsumer) and starts the fetch loops. `handler(items)` with
  // `std::vector<BatchItem<T>>& items` sets every item's result. `js`, `clock` and the metrics
  // must outlive the consumer.
  template <typename T, typename F>
  static core::Result<std::unique_ptr<BatchConsumer>> Start(
      natsx::JetStream& js, const core::Clock& clock, const std::string& stream,
      const std::string& durable, const std::vector<core::SubjectTemplate>& templates,
      BatchOptions options, F handler) {
    ErasedHandler erased = [h = std::move(handler)](std::vector<natsx::ReceivedMessage*>& ms,
                                                    std::vector<BatchResult>& results) mutable {
      std::vector<BatchItem<T>> items;
      std::vector<size_t> index;
      items.reserve(ms.size());
      for (size_t i = 0; i < ms.size(); ++i) {
        auto decoded = contracts::FromJson<T>(ms[i]->message().payload());
        if (!decoded.ok()) {
          results[i] = BatchResult::Term({}, {}, decoded.status());
          continue;
        }
        items.push_back(BatchItem<T>{std::move(*decoded), BatchItemContext(*ms[i])});
        index.push_back(i);
      }
      if (items.empty()) return;
      // Results are copied back even when the handler throws, so what it decided stands.
      auto copy_back = [&] {
        for (size_t k = 0; k < items.size(); ++k) results[index[k]] = std::move(items[k].result);
      };
      try {
        h(items);
      } catch (...) {
        copy_back();
        throw;
      }
      copy_back();
    };
    return StartErased(js, clock, stream, durable, templates, std::move(options),
                       std::move(erased));
  }

  // The same over the JetStream a runtime::Bus opened (a NatsJetStream).
  template <typename T, typename F>
  static core::Result<std::unique_ptr<BatchConsumer>> Start(
      runtime::JetStream& js, const core::Clock& clock, const std::string& stream,
      const std::string& durable, std::vector<core::SubjectTemplate> templates,
      BatchOptions options, F handler) {
    return Start<T>(NativeJetStream(js), clock, stream, durable, std::move(templates),
                    std::move(options), std::move(handler));
  }

  ~BatchConsumer();  // Drain()s if still running
  BatchConsumer(const BatchConsumer&) = delete;
  BatchConsumer& operator=(const BatchConsumer&) = delete;

  // Stops fetching, lets each loop finish its in-flight batch (waiting up to `timeout`; a loop
  // notices within one fetch timeout), and releases the pull subscriptions. Idempotent.
  void Drain(std::chrono::milliseconds timeout);

  // Applies one fetched batch (what each loop does after FetchBatch). Public for tests that
  // drive a batch by hand.
  void ProcessBatch(std::vector<std::unique_ptr<natsx::ReceivedMessage>>& batch);

 private:
  BatchConsumer(natsx::JetStream& js, const core::Clock& clock, BatchOptions options,
                ErasedHandler handler);
  static core::Result<std::unique_ptr<BatchConsumer>> StartErased(
      natsx::JetStream& js, const core::Clock& clock, const std::string& stream,
      const std::string& durable, const std::vector<core::SubjectTemplate>& templates,
      BatchOptions options, ErasedHandler handler);
  void Loop(natsx::PullConsumer& consumer);
  void Apply(natsx::ReceivedMessage& rm, BatchResult& result,
             std::chrono::steady_clock::time_point received);

  natsx::JetStream& js_;
  const core::Clock& clock_;
  BatchOptions options_;
  ErasedHandler handler_;
  std::vector<std::unique_ptr<natsx::PullConsumer>> consumers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  // Back-off waits (fetch failures) wait on this, so Drain — run the moment SIGTERM arrives —
  // ends them at once instead of after a sleep.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
};

}  // namespace chat::runtime
