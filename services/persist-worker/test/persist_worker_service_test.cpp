// persist-worker against a real nats-server and a throwaway Postgres cluster: rows per action
// (system.md §6.3), idempotent redelivery, invalid payloads, a database outage and recovery, the
// trace shape of observability.md §5.1 and the metrics of §6.3.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/pg/migrate.hpp"
#include "chat/pg/pool.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/pg_cluster.hpp"
#include "chat/testing/pg_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "config.hpp"
#include "persist_worker.hpp"

namespace chat::persist_worker {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
using telemetry::SpanData;

class PersistWorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Migrated, with the service roles' passwords set: the worker connects as persist-worker.
    auto cluster = testing::CreateMigratedPgCluster();
    if (cluster.ok()) {
      cluster_ = std::move(cluster).value().release();
    } else {
      setup_error_ = cluster.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << setup_error_;
    if (!cluster_->running()) {
      ASSERT_TRUE(cluster_->Start().ok());
    }
    auto db = cluster_->CreateDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = *db;
    auto server = testing::NatsServer::Create();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    worker_conn_ = Connect("persist-worker");
    client_conn_ = Connect("test-publisher");
    ASSERT_NE(worker_conn_, nullptr);
    worker_bus_ = std::make_unique<runtime::NatsBus>(*worker_conn_);
    ASSERT_NE(client_conn_, nullptr);
    pg::PoolOptions po;
    po.dsn = cluster_->Dsn(db_);
    po.size = 1;
    po.reconnect_backoff_max = 200ms;
    auto pool = pg::Pool::Create(po, query_tel_.telemetry());
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    query_pool_ = std::move(*pool);
    StartWorker();
    auto js = natsx::JetStream::Create(*client_conn_);
    ASSERT_TRUE(js.ok());
    js_ = std::move(*js);
  }

  void TearDown() override {
    if (worker_) worker_->Drain(10s);
    worker_.reset();
    js_.reset();
  }

  std::unique_ptr<natsx::Connection> Connect(const std::string& name) {
    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = name;
    auto c = natsx::Connection::Connect(o, tel_.telemetry());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  PersistConfig Config() {
    PersistConfig c;
    c.database_url = cluster_->DsnAs(db_, "persist-worker",  // its own role, as deployed
                                     testing::ServiceRolePassword("persist-worker"));
    c.fetch_timeout = 100ms;
    c.nak_delay_initial = 200ms;
    c.nak_delay_max = 1000ms;
    c.statement_timeout = 5000ms;
    return c;
  }

  void StartWorker() {
    auto w = PersistWorker::Create(Config(), *worker_bus_, tel_.telemetry(),
                                   core::SystemClock::Instance());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    worker_ = std::move(*w);
    auto st = worker_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Publishes through natsx (PRODUCER span, traceparent stored with the message).
  void Publish(std::string_view room, const std::string& payload,
               const telemetry::SpanContext& parent = {}) {
    auto seq = js_->Publish(subjects::kChatRoom, {room}, payload, parent);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }
  void PublishThread(std::string_view room, std::string_view thread, const std::string& payload) {
    auto seq = js_->Publish(subjects::kChatThread, {room, thread}, payload, {});
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }

  // One SQL query's rows as "a|b|c" lines (NULL → "∅").
  std::vector<std::string> Query(const std::string& sql) {
    pg::Statement st{"", sql, "SELECT", "messages"};
    auto rows = query_pool_->Execute({}, st);
    if (!rows.ok()) return {"<error: " + rows.status().ToString() + ">"};
    std::vector<std::string> out;
    for (int r = 0; r < rows->RowCount(); ++r) {
      std::string line;
      for (int c = 0; c < rows->ColumnCount(); ++c) {
        if (c > 0) line += '|';
        line += rows->IsNull(r, c) ? std::string("∅") : std::string(rows->Text(r, c));
      }
      out.push_back(std::move(line));
    }
    return out;
  }
  int64_t Count(const std::string& table, const std::string& where = "true") {
    auto rows = Query("SELECT count(*) FROM " + table + " WHERE " + where);
    if (rows.size() != 1 || rows[0].rfind("<error", 0) == 0) return -1;
    return std::stoll(rows[0]);
  }
  bool WaitCount(const std::string& table, int64_t n, const std::string& where = "true") {
    return testing::WaitFor([&] { return Count(table, where) == n; }, 15s);
  }

  double Counter(const std::string& name, std::vector<std::string> label_names,
                 std::initializer_list<std::string_view> values) {
    return tel_.metrics().AddCounter(name, "", std::move(label_names)).With(values).Value();
  }
  double Persisted(std::string_view action) {
    return Counter("messages_persisted_total", {"action"}, {action});
  }
  double Errors(std::string_view action, std::string_view reason) {
    return Counter("messages_persist_errors_total", {"action", "reason"}, {action, reason});
  }

  // persist-worker's process spans (the publisher's connection makes none).
  std::vector<SpanData> ProcessSpans() {
    std::vector<SpanData> out;
    for (auto& s : tel_.Spans()) {
      if (s.name.rfind("process ", 0) == 0 &&
          sdk::StringAttribute(s,
                               chat::telemetry::semconv::kMessagingDestinationSubscriptionName) ==
              std::string("persist-worker")) {
        out.push_back(s);
      }
    }
    return out;
  }
  std::optional<SpanData> ProcessSpanFor(const std::string& message_id) {
    for (auto& s : ProcessSpans()) {
      if (sdk::StringAttribute(s, "chat.message_id") == message_id) return s;
    }
    return std::nullopt;
  }

  static std::string Msg(const std::string& user, int64_t ts, const std::string& room,
                         const std::string& extra = R"("text":"hi")") {
    return R"({"user":")" + user + R"(","timestamp":)" + std::to_string(ts) + R"(,"room":")" +
           room + "\"" + (extra.empty() ? "" : "," + extra) + "}";
  }

  static inline testing::PgCluster* cluster_ = nullptr;
  static inline std::string setup_error_;
  std::string db_;
  sdk::InMemoryTelemetry tel_;
  sdk::InMemoryTelemetry query_tel_;
  std::unique_ptr<testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> worker_conn_;
  std::unique_ptr<runtime::NatsBus> worker_bus_;  // over worker_conn_
  std::unique_ptr<natsx::Connection> client_conn_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<pg::Pool> query_pool_;
  std::unique_ptr<PersistWorker> worker_;
};

TEST_F(PersistWorkerTest, MetricsAreZeroInitialised) {
  const std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  for (std::string_view action : {"send", "edit", "delete", "react"}) {
    for (std::string_view reason : {"db_unavailable", "db_error", "invalid_payload", "timeout"}) {
      EXPECT_NE(text.find("messages_persist_errors_total{action=\"" + std::string(action) +
                          "\",reason=\"" + std::string(reason) + "\"} 0"),
                std::string::npos)
          << action << " " << reason;
    }
    for (std::string name : {"messages_persisted_total", "messages_persist_duplicates_total",
                             "messages_persist_noop_total"}) {
      EXPECT_NE(text.find(name + "{action=\"" + std::string(action) + "\"} 0"), std::string::npos)
          << name;
    }
    EXPECT_NE(text.find("messages_persist_duration_seconds_count{action=\"" + std::string(action) +
                        "\"} 0"),
              std::string::npos);
  }
  EXPECT_NE(text.find("messages_persist_redeliveries_total 0"), std::string::npos);
  EXPECT_NE(text.find("messages_persist_lag_seconds_bucket{le=\"900\"} 0"), std::string::npos);
}

TEST_F(PersistWorkerTest, RowsPerActionAsSpecified) {
  Publish("general", Msg("bob", 1000, "general", R"("text":"hello")"));
  PublishThread(
      "general", "general-1000",
      Msg("carol", 1001, "general",
          R"("text":"reply","threadId":"general-1000","parentTimestamp":1000,"broadcast":true)"));
  Publish("general", Msg("dave", 1002, "general", R"("stickerUrl":"https://x.test/s.svg")"));
  Publish("general",
          Msg("__system__", 1003, "general", R"("text":"bob joined","action":"system")"));
  Publish("general", Msg("bob", 1004, "general", R"("text":"to delete")"));
  ASSERT_TRUE(WaitCount("messages", 5));

  EXPECT_EQ(Query("SELECT username, text, thread_id, parent_timestamp, broadcast, sticker_url, "
                  "is_deleted, edited_at FROM messages ORDER BY \"timestamp\""),
            (std::vector<std::string>{
                "bob|hello|∅|∅|f|∅|f|∅",
                "carol|reply|general-1000|1000|t|∅|f|∅",
                "dave||∅|∅|f|https://x.test/s.svg|f|∅",
                "__system__|bob joined|∅|∅|f|∅|f|∅",
                "bob|to delete|∅|∅|f|∅|f|∅",
            }));

  // Edits (author only; 6 edits keep 5 versions), delete, reactions toggle.
  for (int i = 1; i <= 6; ++i) {
    Publish("general", Msg("bob", 1000, "general",
                           R"("text":"edit )" + std::to_string(i) + R"(","action":"edit")"));
  }
  Publish("general", Msg("mallory", 1000, "general", R"("text":"hijack","action":"edit")"));
  Publish("general", Msg("bob", 1004, "general", R"("action":"delete")"));
  Publish("general",
          Msg("alice", 1000, "general", R"("action":"react","emoji":"👍","targetUser":"bob")"));
  Publish("general",
          Msg("carol", 1000, "general", R"("action":"react","emoji":"🎉","targetUser":"bob")"));
  Publish("general",
          Msg("carol", 1000, "general", R"("action":"react","emoji":"🎉","targetUser":"bob")"));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Persisted("edit") + Counter("messages_persist_noop_total", {"action"}, {"edit"}) ==
                   7 &&
               Persisted("delete") == 1 && Persisted("react") == 3;
      },
      15s));

  EXPECT_EQ(Query("SELECT text, is_deleted, edited_at IS NOT NULL FROM messages "
                  "WHERE \"timestamp\" IN (1000, 1004) ORDER BY \"timestamp\""),
            (std::vector<std::string>{"edit 6|f|t", "to delete|t|f"}));
  // Stream order is kept within and across batches: versions are the texts before edits 2..6.
  EXPECT_EQ(Query("SELECT text FROM message_versions WHERE message_timestamp = 1000 "
                  "ORDER BY edited_at, id"),
            (std::vector<std::string>{"edit 1", "edit 2", "edit 3", "edit 4", "edit 5"}));
  EXPECT_EQ(Query("SELECT user_id, emoji FROM message_reactions ORDER BY id"),
            (std::vector<std::string>{"alice|👍"}));
  EXPECT_EQ(Counter("messages_persist_noop_total", {"action"}, {"edit"}), 1);
  EXPECT_EQ(Persisted("send"), 5);

  auto hijack = ProcessSpanFor("1000-mallory");
  ASSERT_TRUE(hijack.has_value());
  EXPECT_NE(sdk::FindEvent(*hijack, "no_matching_row"), nullptr);
  EXPECT_EQ(hijack->status_code, telemetry::StatusCode::kUnset);
  auto react = ProcessSpanFor("1000-bob");
  ASSERT_TRUE(react.has_value());
}

TEST_F(PersistWorkerTest, SingleSendTraceShape) {
  telemetry::Span root = tel_.tracer().StartSpan("send_message", telemetry::SpanKind::kInternal,
                                                 telemetry::SpanContext{});
  Publish("general", Msg("alice", 2000, "general"), root.Context());
  root.End();
  ASSERT_TRUE(WaitCount("messages", 1));
  ASSERT_TRUE(testing::WaitFor([&] { return ProcessSpanFor("2000-alice").has_value(); }, 10s));
  auto process = *ProcessSpanFor("2000-alice");
  auto publish = tel_.FindSpan("publish chat.{room}");
  ASSERT_TRUE(publish.has_value());

  EXPECT_EQ(process.name, "process chat.{room}");
  EXPECT_EQ(process.kind, telemetry::SpanKind::kConsumer);
  EXPECT_EQ(process.trace_id, publish->trace_id);
  EXPECT_EQ(process.parent_span_id, publish->span_id);
  EXPECT_EQ(process.status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(sdk::StringAttribute(process, "chat.action"), "send");
  EXPECT_EQ(sdk::StringAttribute(process, "chat.room"), "general");
  EXPECT_EQ(sdk::StringAttribute(process, chat::telemetry::semconv::kMessagingMessageId), "1");
  EXPECT_EQ(sdk::IntAttribute(process, "chat.jetstream.delivery_count"), 1);
  EXPECT_EQ(sdk::IntAttribute(process, "chat.batch.size"), 1);
  EXPECT_NE(sdk::FindEvent(process, "ack"), nullptr);

  std::vector<SpanData> children;
  for (auto& s : tel_.Spans()) {
    if (s.parent_span_id == process.span_id) children.push_back(s);
  }
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].name, "INSERT messages");
  EXPECT_EQ(children[0].kind, telemetry::SpanKind::kClient);
  EXPECT_EQ(sdk::StringAttribute(children[0], chat::telemetry::semconv::kDbSystemName),
            "postgresql");
  EXPECT_EQ(sdk::IntAttribute(children[0], "chat.db.rows_affected"), 1);

  // One INFO line per persisted message, findable by trace id.
  const std::string trace_hex = process.trace_id.Hex();
  // Waited for: the line is written after the span it belongs to has ended.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& line : tel_.LogLines()) {
          if (line.find("\"message persisted\"") != std::string::npos &&
              line.find(trace_hex) != std::string::npos &&
              line.find("2000-alice") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      5s));
  EXPECT_GT(tel_.metrics()
                .AddHistogram("messages_persist_lag_seconds", "", telemetry::kBucketsLag)
                .Default()
                .Count(),
            0u);
}

TEST_F(PersistWorkerTest, RedeliveredPayloadIsStoredOnce) {
  const std::string payload = Msg("bob", 3000, "general");
  Publish("general", payload);
  Publish("general", payload);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Counter("messages_persist_duplicates_total", {"action"}, {"send"}) == 1; },
      15s));
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Persisted("send"), 1);
  int duplicates = 0;
  for (auto& s : ProcessSpans()) {
    if (sdk::FindEvent(s, "duplicate_ignored") != nullptr) ++duplicates;
    EXPECT_EQ(s.status_code, telemetry::StatusCode::kUnset);
  }
  EXPECT_EQ(duplicates, 1);
}

TEST_F(PersistWorkerTest, AdminChannelMessagesArePersistedUnderTheAdminRoom) {
  auto seq =
      js_->Publish(subjects::kAdminRoom, {"chat", "alice"}, Msg("alice", 3500, "__admin__"), {});
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  ASSERT_TRUE(WaitCount("messages", 1));
  EXPECT_EQ(Count("messages", "room = '__admin__' AND username = 'alice' AND \"timestamp\" = 3500"),
            1);
  EXPECT_EQ(Errors("send", "invalid_payload"), 0);
}

// Issue 11 item 3: the admin channel's author is the subject's user. A body naming another user
// (alice posting as bob) is terminated as invalid, never stored under bob's name.
TEST_F(PersistWorkerTest, AdminMessageWhoseBodyNamesAnotherAuthorIsNotStored) {
  auto forged =
      js_->Publish(subjects::kAdminRoom, {"chat", "alice"}, Msg("bob", 3600, "__admin__"), {});
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  ASSERT_TRUE(testing::WaitFor([&] { return Errors("send", "invalid_payload") == 1; }, 10s));
  auto own =
      js_->Publish(subjects::kAdminRoom, {"chat", "alice"}, Msg("alice", 3601, "__admin__"), {});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  ASSERT_TRUE(WaitCount("messages", 1));
  EXPECT_EQ(Count("messages", "username = 'bob'"), 0);
  EXPECT_EQ(Count("messages", "room = '__admin__' AND username = 'alice'"), 1);
}

TEST_F(PersistWorkerTest, InvalidPayloadIsTerminatedAndCounted) {
  Publish("general", "not json");
  Publish("general", Msg("bob", 4000, "random"));  // room differs from the subject
  Publish("general", Msg("bob", 4001, "general", R"("action":"edit")"));  // edit without text
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Errors("send", "invalid_payload") == 2 && Errors("edit", "invalid_payload") == 1;
      },
      10s));
  Publish("general", Msg("bob", 4002, "general"));
  ASSERT_TRUE(WaitCount("messages", 1));
  EXPECT_EQ(Count("messages", "\"timestamp\" = 4002"), 1);
  int terminated = 0;
  for (auto& s : ProcessSpans()) {
    if (sdk::FindEvent(s, "term") == nullptr) continue;
    ++terminated;
    EXPECT_EQ(s.status_code, telemetry::StatusCode::kError);
    EXPECT_EQ(sdk::StringAttribute(s, "error.type"), "invalid_payload");
  }
  EXPECT_EQ(terminated, 3);
  auto error_logs = [&] {
    int n = 0;
    for (const auto& line : tel_.LogLines()) {
      if (line.find("\"ERROR\"") != std::string::npos &&
          line.find("invalid payload") != std::string::npos) {
        ++n;
      }
    }
    return n;
  };
  testing::WaitFor([&] { return error_logs() >= 3; }, 5s);
  EXPECT_EQ(error_logs(), 3);
}

TEST_F(PersistWorkerTest, DatabaseOutageNaksThenPersistsExactlyOnce) {
  ASSERT_TRUE(cluster_->Stop().ok());
  for (int i = 0; i < 3; ++i) Publish("general", Msg("bob", 5000 + i, "general"));
  ASSERT_TRUE(testing::WaitFor([&] { return Errors("send", "db_unavailable") >= 3; }, 15s));

  bool error_span = false;
  for (auto& s : ProcessSpans()) {
    if (s.status_code == telemetry::StatusCode::kError && sdk::FindEvent(s, "nak") != nullptr &&
        sdk::FindEvent(s, "exception") != nullptr &&
        sdk::StringAttribute(s, "error.type") == std::string("db_unavailable")) {
      error_span = true;
      // The ERROR log of this failure carries the span's trace id.
      const std::string trace_hex = s.trace_id.Hex();
      EXPECT_TRUE(testing::WaitFor(
          [&] {
            for (const auto& line : tel_.LogLines()) {
              if (line.find("message persist failed") != std::string::npos &&
                  line.find(trace_hex) != std::string::npos) {
                return true;
              }
            }
            return false;
          },
          5s));
      break;
    }
  }
  EXPECT_TRUE(error_span);

  ASSERT_TRUE(cluster_->Start().ok());
  ASSERT_TRUE(WaitCount("messages", 3));
  ASSERT_TRUE(testing::WaitFor([&] { return Persisted("send") == 3; }, 10s));
  EXPECT_EQ(Count("messages", "\"timestamp\" BETWEEN 5000 AND 5002"), 3);
  EXPECT_GE(Counter("messages_persist_redeliveries_total", {}, {}), 3);
}

TEST_F(PersistWorkerTest, BacklogIsWrittenInBatches) {
  // Stop consuming, queue a backlog, then start a fresh worker: its first fetch takes a batch.
  worker_->Drain(10s);
  worker_.reset();
  constexpr int kMessages = 300;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(
        js_->PublishAsync(subjects::kChatRoom, {"general"}, Msg("bob", 10000 + i, "general"), {})
            .ok());
  }
  ASSERT_TRUE(js_->PublishAsyncComplete(10s).ok());
  StartWorker();
  ASSERT_TRUE(WaitCount("messages", kMessages));
  ASSERT_TRUE(testing::WaitFor([&] { return Persisted("send") == kMessages; }, 10s));
  const size_t inserts = tel_.FindSpans("INSERT messages").size();
  EXPECT_LT(inserts, static_cast<size_t>(kMessages));
  // Process spans end when their batch is released (after the counters move), so wait for them.
  bool linked = false;
  int64_t max_batch = 0;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        for (auto& s : ProcessSpans()) {
          max_batch = std::max(max_batch, sdk::IntAttribute(s, "chat.batch.size").value_or(0));
          if (!s.links.empty()) linked = true;
        }
        return linked && max_batch > 1;
      },
      10s));
  EXPECT_GT(max_batch, 1);
  EXPECT_TRUE(linked);
}

// Issue 12: every message of a batched INSERT records that its row was written — event
// message_persisted and a link (chat.link.reason=batch) to the INSERT span — not only the one
// message the INSERT hangs under.
TEST_F(PersistWorkerTest, EveryBatchedSendLinksToItsInsertAndRecordsThePersist) {
  // A backlog of three, then a fresh worker: its first fetch takes all three in one INSERT.
  worker_->Drain(10s);
  worker_.reset();
  for (int i = 0; i < 3; ++i) Publish("general", Msg("carol", 20000 + i, "general"));
  StartWorker();
  ASSERT_TRUE(WaitCount("messages", 3));
  std::vector<SpanData> process;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        process.clear();
        for (int i = 0; i < 3; ++i) {
          auto s = ProcessSpanFor(std::to_string(20000 + i) + "-carol");
          if (s) process.push_back(*s);
        }
        return process.size() == 3;
      },
      10s));
  const auto inserts = tel_.FindSpans("INSERT messages");
  ASSERT_EQ(inserts.size(), 1u) << "the three sends were not written by one statement";
  const SpanData& insert = inserts[0];
  for (const SpanData& p : process) {
    SCOPED_TRACE(*sdk::StringAttribute(p, "chat.message_id"));
    EXPECT_EQ(sdk::IntAttribute(p, "chat.batch.size"), 3);
    const telemetry::SpanEvent* ev = sdk::FindEvent(p, "message_persisted");
    ASSERT_NE(ev, nullptr);
    bool linked = false;
    for (const auto& link : p.links) {
      if (link.context.span_id == insert.span_id && link.context.trace_id == insert.trace_id) {
        linked = true;
        ASSERT_EQ(link.attributes.size(), 1u);
        EXPECT_EQ(link.attributes[0].key, chat::telemetry::semconv::kChatLinkReason);
        EXPECT_EQ(std::get<std::string>(link.attributes[0].value), "batch");
      }
    }
    EXPECT_TRUE(linked) << "no link to the INSERT span";
    EXPECT_NE(sdk::FindEvent(p, "ack"), nullptr);
  }
  // The INSERT still hangs under one of the three messages (trace shape §5.1).
  EXPECT_TRUE(std::any_of(process.begin(), process.end(),
                          [&](const SpanData& p) { return insert.parent_span_id == p.span_id; }));
}

// Not a unit test (no timing assertions on a shared machine): a quick throughput reading,
// run with --gtest_also_run_disabled_tests. 100% sampling, in-memory exporter, PgCluster with
// fsync off.
// Issue 11 item 6: CHAT_MESSAGES is bounded in bytes and per message. A message over
// CHAT_PERSIST_STREAM_MAX_MSG_SIZE (128 KiB) is refused by the stream; one of the largest
// legitimate user payload (64 KiB) is stored and persisted.
TEST_F(PersistWorkerTest, StreamRefusesMessagesOverItsSizeBound) {
  const std::string big = Msg("alice", 1700000000001, "general",
                              R"("text":")" + std::string(size_t{200} * 1024, 'x') + "\"");
  auto refused = js_->Publish(subjects::kChatRoom, {"general"}, big, {});
  EXPECT_FALSE(refused.ok()) << "a 200 KiB message was stored";
  const std::string fits = Msg("alice", 1700000000002, "general",
                               R"("text":")" + std::string(size_t{60} * 1024, 'y') + "\"");
  auto stored = js_->Publish(subjects::kChatRoom, {"general"}, fits, {});
  EXPECT_TRUE(stored.ok()) << stored.status().ToString();
}

TEST_F(PersistWorkerTest, DISABLED_ThroughputReading) {
  worker_->Drain(10s);
  worker_.reset();
  constexpr int kMessages = 20000;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(
        js_->PublishAsync(subjects::kChatRoom, {"general"}, Msg("bob", 100000 + i, "general"), {})
            .ok());
  }
  ASSERT_TRUE(js_->PublishAsyncComplete(30s).ok());
  const auto start = std::chrono::steady_clock::now();
  StartWorker();
  ASSERT_TRUE(testing::WaitFor([&] { return Persisted("send") == kMessages; }, 120s));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("persisted %d messages in %.2f s = %.0f msg/s\n", kMessages, seconds,
              kMessages / seconds);
  EXPECT_EQ(Count("messages"), kMessages);
}

}  // namespace
}  // namespace chat::persist_worker
