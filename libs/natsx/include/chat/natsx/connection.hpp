// natsx::Connection: the one place that talks to libnats for core NATS (docs/style.md rule 6).
// It makes the messaging spans of docs/observability.md §4.1/§4.2 (attribute set M), injects and
// extracts W3C trace context in NATS headers (§3.1-§3.3), keeps the connection metrics of §6.2,
// and turns libnats callbacks (which run on nats.c threads) into typed handlers that can never
// crash the process. Services receive a Connection by reference from main.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/core/subject.hpp"
#include "chat/telemetry/telemetry.hpp"

// libnats types, declared exactly as nats.h does so this header does not pull nats.h in.
typedef struct __natsConnection natsConnection;      // NOLINT(modernize-use-using)
typedef struct __natsSubscription natsSubscription;  // NOLINT(modernize-use-using)
typedef struct __natsMsg natsMsg;                    // NOLINT(modernize-use-using)

namespace chat::natsx {

class Connection;
class Subscription;

using Args = std::initializer_list<std::string_view>;
// Extra headers for a publish/request. Keys are case-sensitive on the wire; natsx ignores any
// traceparent/tracestate given here (it alone writes them).
using Headers = std::vector<std::pair<std::string, std::string>>;

// How the connection authenticates. Secrets are never logged.
struct Credentials {
  enum class Kind { kNone, kCredsFile, kJwtAndSeed, kToken, kUserPassword };
  Kind kind = Kind::kNone;
  std::string creds_file{};  // kCredsFile: a .creds file (user JWT + nkey seed)
  std::string jwt{};         // kJwtAndSeed: user JWT held in memory
  std::string seed{};        // kJwtAndSeed: user nkey seed ("SU..."), signs the server nonce
  std::string token{};       // kToken
  std::string user{};        // kUserPassword
  std::string password{};    // kUserPassword

  static Credentials None() { return {}; }
  static Credentials FromCredsFile(std::string path);
  static Credentials FromJwtAndSeed(std::string jwt, std::string seed);
  static Credentials FromToken(std::string token);
  static Credentials FromUserPassword(std::string user, std::string password);
};

// TLS to the server. It is on when any URL is tls:// or any field below is set; the server's
// certificate is then verified (there is no "skip verification" setting on purpose).
struct TlsOptions {
  // PEM file of the CA(s) that signed the server certificate. Empty: libnats' default trust.
  std::string ca_file{};
  // Client certificate chain and its key (PEM) for servers that verify clients (mutual TLS);
  // both or neither.
  std::string cert_file{};
  std::string key_file{};
  // The name the server certificate must carry, when it differs from the URL's host (e.g. the
  // URL names an IP address or a load balancer). Empty: the URL's host.
  std::string expected_hostname{};

  bool configured() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() ||
           !expected_hostname.empty();
  }
};

struct ConnectionOptions {
  std::vector<std::string> urls = {"nats://127.0.0.1:4222"};
  std::string name{};  // NATS connection name; also messaging.client.id on every span
  Credentials credentials{};
  TlsOptions tls{};
  std::chrono::milliseconds connect_timeout{2000};
  bool allow_reconnect = true;
  int max_reconnect = -1;  // -1 = forever
  std::chrono::milliseconds reconnect_wait{250};
  // Retry the first connect in the background instead of failing Connect().
  bool retry_on_failed_connect = false;
  // Write each publish to the socket at once instead of letting the libnats flusher batch
  // writes (lower latency for request/reply-heavy clients, lower throughput for bulk).
  bool send_asap = false;
  // Reply inbox prefix for requests ("_INBOX.alice"); empty = libnats' "_INBOX". A user's JWT
  // may subscribe only to _INBOX.{user}.> (docs/adr/0001), so user clients must set it.
  std::string inbox_prefix{};
  // Inbound messages with a larger payload are rejected (counted, WARN) before any handler runs.
  size_t max_inbound_payload_bytes = size_t{1024} * 1024;
};

// Where a message came from when it was delivered by JetStream (zero/empty otherwise).
struct DeliveryInfo {
  bool jetstream = false;
  uint64_t stream_sequence = 0;
  uint64_t consumer_sequence = 0;
  uint64_t delivery_count = 0;      // 1 on first delivery
  int64_t timestamp_unix_nano = 0;  // when the stream stored it
  std::string stream{};
  std::string consumer{};
};

// A received message (subscription delivery, JetStream fetch, or a request's reply). Owns the
// libnats message. Not thread-safe (libnats headers are not); handlers use it on their thread.
class Message {
 public:
  Message() = default;
  explicit Message(natsMsg* msg, const core::SubjectTemplate* tmpl = nullptr);
  ~Message();
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  std::string_view subject() const;
  // The template this message matched (nullptr for replies).
  const core::SubjectTemplate* subject_template() const { return template_; }
  std::string_view payload() const;
  std::string_view reply_to() const;  // empty when no reply is expected
  // First value of header `key` (exact, case-sensitive match), if present.
  std::optional<std::string_view> Header(std::string_view key) const;
  // The value of a template placeholder ("room" in chat.{room}); nullopt if no template/name.
  std::optional<std::string_view> Arg(std::string_view name) const;
  const DeliveryInfo& delivery() const { return delivery_; }

  natsMsg* native() const { return msg_; }
  DeliveryInfo& mutable_delivery() { return delivery_; }

 private:
  natsMsg* msg_ = nullptr;
  const core::SubjectTemplate* template_ = nullptr;
  DeliveryInfo delivery_;
};

// What a handler receives next to the message: the process span (CONSUMER, or SERVER for
// request/reply responders) so it can open children and add attributes, and the way to reply.
// Lives on the handler's stack for the duration of the call; never stored.
class MessageContext {
 public:
  MessageContext(Connection& conn, const Message& msg, telemetry::Span& span)
      : conn_(conn), msg_(msg), span_(span) {}
  MessageContext(const MessageContext&) = delete;
  MessageContext& operator=(const MessageContext&) = delete;
  ~MessageContext() = default;

  telemetry::Span& span() { return span_; }
  const telemetry::SpanContext& span_context() const { return span_.Context(); }
  // A child of the process span.
  telemetry::Span StartSpan(std::string_view name,
                            telemetry::SpanKind kind = telemetry::SpanKind::kInternal) const;
  const telemetry::Telemetry& telemetry() const;
  Connection& connection() { return conn_; }

  // Replies to the message's reply subject (no trace headers, §3.3). failed_precondition when the
  // message expects no reply.
  core::Status Respond(std::string_view payload, const Headers& headers = {});
  bool responded() const { return responded_; }

  // JetStream acknowledgements (failed_precondition for core NATS messages). Each is recorded on
  // the process span as an event: ack, nak{delay_ms}, term{reason}. The first one wins.
  core::Status Ack();
  core::Status Nak(std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  core::Status Term(std::string_view reason);
  bool acknowledged() const { return acked_; }

 private:
  Connection& conn_;
  const Message& msg_;
  telemetry::Span& span_;
  bool responded_ = false;
  bool acked_ = false;
};

// A handler returns OK when the message was handled (business rejections included: annotate the
// span and return OK); a non-OK status marks the process span ERROR with the code as error.type.
// Thrown exceptions are caught by natsx (span ERROR, error.type=internal, one ERROR log).
using Handler = std::function<core::Status(const Message&, MessageContext&)>;

enum class ProcessKind {
  kConsumer,  // fire-and-forget subscription: CONSUMER span
  kServer,    // request/reply responder: SERVER span (child of the requester's CLIENT span)
};

struct SubscribeOptions {
  // The templates this subscription serves; each message is matched to the most specific one.
  std::vector<core::SubjectTemplate> templates{};
  // Subscription subject. Empty: one native subscription per distinct template Pattern().
  std::string pattern{};
  std::string queue_group{};  // empty: no queue group
  ProcessKind kind = ProcessKind::kConsumer;
  // libnats pending limits per native subscription; beyond them messages are dropped and
  // nats_client_errors_total{type="slow_consumer"} counts it.
  // false: the handler gets a non-recording process span under a fresh *unsampled* context, and
  // the inbound context is ignored; children (KV, publishes) are then unsampled too instead of
  // becoming roots. For high-rate keep-alives the contract leaves untraced (presence heartbeats).
  bool traced = true;
  // true: the process span is a new root that *links* to the inbound context (reason
  // `recipient`) instead of being its child — for fan-out deliveries, where each recipient's
  // handling is its own trace (observability §3.4, §4.5, §5.2).
  bool link_inbound = false;
  int pending_msgs_limit = 65536;
  int pending_bytes_limit = 64 * 1024 * 1024;
  // Handler threads sharing this subscription (>= 1). With one, the libnats delivery thread runs
  // the handler. With more, it hands each message to the first free worker: one subscription per
  // process and a shared pool, because N queue-group subscriptions of one process let the server
  // pick a busy one at random while the others idle (a handler waiting on a commit held up the
  // messages behind it; `load --scenario apps` showed 38 ms of its slowest 1% there). At most
  // `workers` messages wait in the pool; beyond that they stay in libnats' pending queue, under
  // the limits above. Messages are no longer handled in arrival order.
  int workers = 1;
};

class Connection {
 public:
  // Connects (or, with retry_on_failed_connect, starts connecting). `telemetry` must outlive the
  // connection. Errors: unavailable (no server reachable, or the TLS handshake failed: server
  // certificate not trusted, server without TLS, TLS required by the server but not configured),
  // unauthenticated (credentials refused or unreadable), invalid_argument (bad options, a TLS
  // file that is missing, unreadable or not PEM).
  static core::Result<std::unique_ptr<Connection>> Connect(ConnectionOptions options,
                                                           const telemetry::Telemetry& telemetry);
  ~Connection();  // closes without draining; waits (bounded) for the closed callback
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // PRODUCER span "publish {template}" (child of `parent`, or a root when it is invalid), whose
  // own context is injected as traceparent/tracestate. Errors: invalid_argument (bad args),
  // unavailable (not connected / write failed; span ERROR error.type=publish_failed).
  core::Status Publish(const core::SubjectTemplate& tmpl, Args args, std::string_view payload,
                       const telemetry::SpanContext& parent, const Headers& headers = {});

  // One message of a stream that belongs to the caller's span (translation chunks,
  // observability §4.6: "chunks are published with this span's context, no span per chunk"):
  // `context` itself is injected as traceparent/tracestate and no PRODUCER span is made. Errors
  // as Publish.
  core::Status PublishInContext(const core::SubjectTemplate& tmpl, Args args,
                                std::string_view payload, const telemetry::SpanContext& context);

  // CLIENT span "request {template}". Errors: deadline_exceeded (timeout), unavailable
  // (no_responders or connection failure), invalid_argument (bad args).
  core::Result<Message> Request(const core::SubjectTemplate& tmpl, Args args,
                                std::string_view payload, std::chrono::milliseconds timeout,
                                const telemetry::SpanContext& parent, const Headers& headers = {});

  // Starts delivering to `handler` on libnats threads; the Subscription unsubscribes (and waits
  // for a running handler) when destroyed. The Connection must outlive it.
  core::Result<std::unique_ptr<Subscription>> Subscribe(SubscribeOptions options, Handler handler);

  // Sends `payload` to `request.reply_to()` without trace headers.
  core::Status Respond(const Message& request, std::string_view payload,
                       const Headers& headers = {});

  core::Status Flush(std::chrono::milliseconds timeout);
  // Drains subscriptions and publishes, then waits for the closed callback until `timeout`.
  // deadline_exceeded if it did not close in time.
  core::Status Drain(std::chrono::milliseconds timeout);
  bool IsConnected() const;

  // Reconnect listeners (docs/system.md §3.8/§6.5/§6.6): messages published while the client was
  // disconnected are lost to it, so services rebuild their in-memory views after a reconnect.
  // Listeners run on one worker thread owned by the Connection (never on a libnats thread), so
  // they may block and make NATS requests (KV reads, watches). Reconnects that happen while the
  // listeners are still running are coalesced into one more run. Exceptions are caught and
  // logged. Not called for the first connect (retry_on_failed_connect included), nor after
  // Drain/close. Thread-safe. Returns an id for RemoveReconnectListener (never 0).
  uint64_t AddReconnectListener(std::function<void()> listener);
  // Unregisters; when it returns the listener is not running and will not run again (unless
  // called from inside that very listener, which is allowed and does not wait). Unknown ids
  // are ignored.
  void RemoveReconnectListener(uint64_t id);

  const ConnectionOptions& options() const { return options_; }
  const telemetry::Telemetry& telemetry() const { return telemetry_; }
  natsConnection* native() const { return nc_; }

  // ---- used by natsx internals (JetStream, KV, Subscription) ----
  struct ServerAddress {
    std::string host{};
    int64_t port = 0;
  };
  ServerAddress server_address() const;
  struct Metrics;
  Metrics& metrics() const { return *metrics_; }
  // Extracts the inbound context of `msg` (§3.1/§3.2), counting invalid and fallback cases.
  telemetry::SpanContext ExtractContext(natsMsg* msg) const;
  // Writes traceparent (+ tracestate) of `ctx` and the caller's extra headers.
  core::Status InjectHeaders(natsMsg* msg, const telemetry::SpanContext& ctx,
                             const Headers& headers) const;
  // Sets attribute set M on a recording span.
  void SetMessagingAttributes(telemetry::Span& span, std::string_view operation_name,
                              std::string_view operation_type, std::string_view subject,
                              const core::SubjectTemplate& tmpl, size_t body_size,
                              bool with_server) const;

 private:
  Connection(ConnectionOptions options, const telemetry::Telemetry& telemetry);
  void RefreshServerAddress();

  static void OnConnected(natsConnection* nc, void* closure);
  static void OnDisconnected(natsConnection* nc, void* closure);
  static void OnReconnected(natsConnection* nc, void* closure);
  static void OnClosed(natsConnection* nc, void* closure);
  static void OnError(natsConnection* nc, natsSubscription* sub, int err, void* closure);
  void RunReconnectListeners();  // body of reconnect_worker_
  void StopReconnectWorker();

  ConnectionOptions options_;
  const telemetry::Telemetry& telemetry_;
  std::unique_ptr<Metrics> metrics_;
  natsConnection* nc_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
  std::atomic<bool> closing_{false};  // set by us: the next disconnect is not a fault
  ServerAddress server_{};

  // Reconnect listeners and their worker (started by the first AddReconnectListener).
  std::mutex listeners_mu_;
  std::condition_variable listeners_cv_;
  std::vector<std::pair<uint64_t, std::shared_ptr<std::function<void()>>>> listeners_{};
  uint64_t next_listener_id_ = 1;
  uint64_t running_listener_ = 0;  // id of the listener running now, 0 = none
  bool reconnect_pending_ = false;
  bool worker_stop_ = false;
  std::thread reconnect_worker_{};
};

// An active subscription (one or more native subscriptions sharing one handler, run on their
// delivery threads or on its worker pool).
class Subscription {
 public:
  // Unsubscribes and waits for in-flight handlers: bounded (10 s) for the delivery thread, and
  // the pool's running handlers are joined (they are bounded by their own deadlines).
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Stops receiving new messages and lets queued ones finish, within `timeout`.
  core::Status Drain(std::chrono::milliseconds timeout);
  const SubscribeOptions& options() const { return options_; }
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }

 private:
  friend class Connection;
  Subscription(Connection& conn, SubscribeOptions options, Handler handler);
  static void OnMessage(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void OnComplete(void* closure);
  void Deliver(natsMsg* raw) noexcept;  // Dispatch, with whatever it throws counted and logged
  void Dispatch(natsMsg* raw);
  void StartWorkers();
  void Enqueue(natsMsg* raw);
  void WorkerLoop();
  // Tells the pool to stop: workers drop what is still queued and exit once their running
  // handler returns, a delivery thread waiting for room drops its message. Close joins them.
  void StopWorkers();
  void Close();

  Connection& conn_;
  SubscribeOptions options_;
  Handler handler_;
  std::vector<std::string> span_names_{};  // "process {template}", per template
  std::vector<natsSubscription*> subs_{};
  std::mutex mu_;
  std::condition_variable done_cv_;
  size_t completed_ = 0;
  std::atomic<uint64_t> delivered_{0};
  // The worker pool (options_.workers > 1). pool_capacity_ and workers_ are set before the first
  // delivery and never change (0: no pool); the rest is guarded by pool_mu_.
  size_t pool_capacity_ = 0;
  std::mutex pool_mu_;
  std::condition_variable work_cv_;   // a message was queued, or stopping
  std::condition_variable space_cv_;  // a message left the queue, or stopping
  std::condition_variable idle_cv_;   // nothing queued or running any more (Drain)
  std::deque<natsMsg*> queue_{};
  size_t in_flight_ = 0;  // queued plus running
  bool stopping_ = false;
  std::vector<std::thread> workers_{};
};

}  // namespace chat::natsx
