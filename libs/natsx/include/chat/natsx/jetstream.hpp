// JetStream through natsx: traced publishes (PRODUCER spans carrying the creation context in the
// stored headers) and durable pull consumers whose per-message CONSUMER spans follow the
// parent-or-link table of docs/observability.md §3.4 (child on a fresh first delivery, new root
// plus a link for redeliveries and backlog). Set-up helpers create streams and consumers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"

typedef struct __jsCtx jsCtx;  // NOLINT(modernize-use-using)

namespace chat::natsx {

class KeyValue;
struct KeyValueConfig;

struct StreamConfig {
  std::string name{};
  std::vector<std::string> subjects{};  // wildcard patterns ("chat.>")
  bool memory_storage = false;
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  int32_t max_msg_size = -1;        // payload + headers of one message; -1 = server's max_payload
  std::chrono::seconds max_age{0};  // 0 = unlimited
  int replicas = 1;
  std::chrono::seconds duplicate_window{0};  // 0 = server default
};

struct ConsumerConfig {
  std::string stream{};
  std::string durable{};
  std::string filter_subject{};  // empty = all subjects of the stream
  std::chrono::milliseconds ack_wait{30000};
  int64_t max_deliver = -1;
  int64_t max_ack_pending = 1000;
  bool deliver_new_only = false;  // false: deliver all stored messages
};

struct JetStreamOptions {
  std::chrono::milliseconds api_timeout{5000};
  // Bound on in-flight PublishAsync acks; further PublishAsync calls wait (stall) for room.
  int64_t max_pending_async = 4000;
  // CHAT_TRACE_LINK_AGE_SECONDS: a first delivery older than this becomes a linked root (backlog).
  std::chrono::seconds trace_link_age{30};
  const core::Clock* clock = nullptr;  // nullptr → SystemClock
};

class PullConsumer;

class JetStream {
 public:
  // `conn` must outlive the JetStream object.
  static core::Result<std::unique_ptr<JetStream>> Create(Connection& conn,
                                                         JetStreamOptions options = {});
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Idempotent set-up helpers (create, or update when it exists).
  core::Status AddOrUpdateStream(const StreamConfig& config);
  core::Status AddOrUpdateConsumer(const ConsumerConfig& config);
  core::Status DeleteStream(const std::string& name);

  // PRODUCER span "publish {template}"; returns the stream sequence (also messaging.message.id).
  // `msg_id` (optional) sets Nats-Msg-Id for server-side de-duplication.
  // Errors: invalid_argument, deadline_exceeded (no ack in time), unavailable, internal.
  core::Result<uint64_t> Publish(const core::SubjectTemplate& tmpl, Args args,
                                 std::string_view payload, const telemetry::SpanContext& parent,
                                 const Headers& headers = {}, std::string_view msg_id = {});

  // Same span, but does not wait for the ack; at most JetStreamOptions::max_pending_async are in
  // flight. Failed acks are counted (natsx_jetstream_async_publish_failed_total) and logged WARN.
  core::Status PublishAsync(const core::SubjectTemplate& tmpl, Args args, std::string_view payload,
                            const telemetry::SpanContext& parent, const Headers& headers = {});
  // Waits until every async publish is acknowledged; deadline_exceeded otherwise.
  core::Status PublishAsyncComplete(std::chrono::milliseconds timeout);
  uint64_t async_failures() const { return async_failures_.load(); }

  // Binds to an existing durable pull consumer (see AddOrUpdateConsumer) whose messages match
  // `templates`.
  core::Result<std::unique_ptr<PullConsumer>> BindPullConsumer(
      const std::string& stream, const std::string& durable,
      std::vector<core::SubjectTemplate> templates);

  // KV buckets (see kv.hpp). CreateKeyValue binds to a bucket that exists with another
  // configuration, and then still applies config's bounds and discard policy to it.
  core::Result<std::unique_ptr<KeyValue>> CreateKeyValue(const KeyValueConfig& config);
  core::Result<std::unique_ptr<KeyValue>> BindKeyValue(const std::string& bucket);

  Connection& connection() { return conn_; }
  const JetStreamOptions& options() const { return options_; }
  jsCtx* native() const { return js_; }
  // Called from the libnats async-ack error callback (internal).
  void RecordAsyncFailure(int nats_status, int js_error_code);

 private:
  JetStream(Connection& conn, JetStreamOptions options);
  core::Status ApplyBucketLimits(const KeyValueConfig& config);

  Connection& conn_;
  JetStreamOptions options_;
  jsCtx* js_ = nullptr;
  std::atomic<uint64_t> async_failures_{0};
};

// One message of PullConsumer::FetchBatch with its started CONSUMER span "process {template}"
// (same parent-or-link decision and attributes as Fetch). It lets a consumer hold several
// messages and their spans until a shared outcome is known (persist-worker acks a whole batch
// only after one database commit). Acknowledge through context() (events ack/nak/term on the
// span); a message destroyed unacknowledged is NAK'd (no delay) so it is not stuck until the
// ack wait expires. The span ends when the object is destroyed. Not movable: context() refers
// to the message and span inside it. Use on one thread at a time.
class ReceivedMessage {
 public:
  ~ReceivedMessage();
  ReceivedMessage(const ReceivedMessage&) = delete;
  ReceivedMessage& operator=(const ReceivedMessage&) = delete;

  const Message& message() const { return msg_; }
  const DeliveryInfo& delivery() const { return msg_.delivery(); }
  telemetry::Span& span() { return span_; }
  MessageContext& context() { return ctx_; }

 private:
  friend class PullConsumer;
  ReceivedMessage(Connection& conn, Message msg, telemetry::Span span)
      : msg_(std::move(msg)), span_(std::move(span)), ctx_(conn, msg_, span_) {}

  Message msg_;
  telemetry::Span span_;
  MessageContext ctx_;
};

// A bound durable pull consumer. Fetch is meant to be called from one worker thread at a time
// (calls are serialised). Pulling is done by natsx on a plain core-NATS inbox subscription
// (pull requests to $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>, acks published to the
// $JS.ACK reply subject), not by natsSubscription_Fetch: libnats 3.4.1 overflows its message
// array there when deliveries of an expired pull request are still queued. Deliveries that
// arrive after a Fetch gave up are kept and returned first by the next Fetch.
class PullConsumer {
 public:
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // Fetches up to `batch` messages (waiting at most `timeout` in all) and runs `handler`
  // on each inside a CONSUMER span "process {template}". The handler acknowledges through
  // MessageContext (Ack/Nak/Term); if it does not, natsx acks on OK and naks on error.
  // Returns the number of messages handled (0 on timeout, which is not an error).
  core::Result<int> Fetch(int batch, std::chrono::milliseconds timeout, const Handler& handler);

  // Like Fetch, but hands the messages back (in stream order) with their CONSUMER spans started
  // instead of running a handler, so the caller decides when and how each is acknowledged.
  // Messages natsx terminates itself (oversized, no matching template) are not returned.
  // An empty vector on timeout (not an error).
  core::Result<std::vector<std::unique_ptr<ReceivedMessage>>> FetchBatch(
      int batch, std::chrono::milliseconds timeout);

  const std::string& durable() const { return durable_; }

 private:
  friend class JetStream;
  PullConsumer(JetStream& js, natsSubscription* sub, std::string inbox, std::string next_subject,
               std::string stream, std::string durable,
               std::vector<core::SubjectTemplate> templates);
  // Collects up to `batch` JetStream deliveries into `out` (ownership passes to the caller):
  // first those already queued on the inbox, then from pull requests until the deadline or a
  // terminating status (404/408/409). An error only when nothing was collected.
  core::Status Pull(int batch, std::chrono::milliseconds timeout, std::vector<natsMsg*>& out);
  core::Status SendPullRequest(const std::string& reply, size_t batch,
                               std::chrono::nanoseconds expires, bool no_wait);
  void Process(natsMsg* raw, const Handler& handler);
  // Takes ownership of `raw`: reads the delivery metadata, terminates undeliverable messages
  // (returns nullptr) and otherwise starts the process span (parent or link, §3.4).
  std::unique_ptr<ReceivedMessage> Receive(natsMsg* raw);

  JetStream& js_;
  natsSubscription* sub_;  // "<inbox>.*": every pull request replies to "<inbox>.<n>"
  std::string inbox_{};
  std::string next_subject_{};  // $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::mutex pull_mu_;
  uint64_t request_seq_ = 0;     // guarded by pull_mu_
  bool warned_refused_ = false;  // guarded by pull_mu_: one WARN per consumer for 409s
  std::string stream_{};
  std::string durable_{};
  std::vector<core::SubjectTemplate> templates_{};
  std::vector<std::string> span_names_{};
};

}  // namespace chat::natsx
