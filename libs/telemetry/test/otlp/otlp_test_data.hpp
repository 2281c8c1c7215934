// Shared data for the OTLP tests: a fixed set of spans and log records that exercises every field
// kind (all attribute types, events, links, error status, root and child, trace_state, dropped
// counts, escapes and non-ASCII text), comparison helpers, and small file/process utilities.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "chat/telemetry/sdk/otlp.hpp"

namespace chat::telemetry::sdk::testdata {

// CHAT_SOURCE_DIR is absolute (a compile definition of chat::testing); __FILE__ is not, once
// ccache rewrites paths relative to the checkout.
inline std::filesystem::path TestDir() {
  return std::filesystem::path(CHAT_SOURCE_DIR) / "libs/telemetry/test/otlp";
}
inline std::filesystem::path FixtureDir() { return TestDir() / "fixtures"; }
inline std::filesystem::path ProtoDir() { return TestDir() / "proto"; }

inline TraceId MakeTraceId(uint8_t first) {
  TraceId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(first + i);
  return id;
}
inline SpanId MakeSpanId(uint8_t first) {
  SpanId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(first + i);
  return id;
}

inline Resource FixtureResource() {
  Resource r;
  r.attributes.push_back({"service.name", std::string("fixture-service")});
  r.attributes.push_back({"service.version", std::string("1.3.0+3f2a9c1")});
  r.attributes.push_back({"process.pid", int64_t{1234}});
  r.attributes.push_back({"host.arch.is64", AttributeValue(true)});
  r.attributes.push_back({"sample.ratio", AttributeValue(0.25)});
  return r;
}

inline InstrumentationScope FixtureScope() { return {"chat.telemetry", "0.1.0"}; }

inline std::vector<std::unique_ptr<SpanData>> FixtureSpans() {
  std::vector<std::unique_ptr<SpanData>> spans;

  auto root = std::make_unique<SpanData>();
  root->trace_id = MakeTraceId(0x01);
  root->span_id = MakeSpanId(0xa1);
  root->trace_state = "vendor=abc,other=x";
  root->trace_flags = 1;
  root->name = "process chat.room.create";
  root->kind = SpanKind::kServer;
  root->start_unix_nano = 1700000000000000000;
  root->end_unix_nano = 1700000000001500000;
  root->attributes = {
      {"messaging.system", "nats"},
      {"chat.flag.true", AttributeValue(true)},
      {"chat.flag.false", AttributeValue(false)},
      {"chat.count", 42},
      {"chat.negative", -7},
      {"chat.zero", 0},
      {"chat.ratio", AttributeValue(3.25)},
      {"chat.negative_ratio", AttributeValue(-0.5)},
      {"chat.escapes", "quote\" back\\ nl\n tab\t ctrl\x01 caf\xc3\xa9 \xe2\x9c\x93 /"},
      {"chat.empty", ""},
      {"chat.int64.max", AttributeValue(std::numeric_limits<int64_t>::max())},
      {"chat.int64.min", AttributeValue(std::numeric_limits<int64_t>::min())},
  };
  SpanEvent exception;
  exception.name = "exception";
  exception.time_unix_nano = 1700000000001000000;
  exception.attributes = {{"exception.type", "chat::PgError"},
                          {"exception.message", "duplicate key"}};
  root->events.push_back(std::move(exception));
  SpanEvent bare;
  bare.name = "retry";
  bare.time_unix_nano = 1700000000001200000;
  root->events.push_back(std::move(bare));
  SpanLink link;
  link.context.trace_id = MakeTraceId(0x51);
  link.context.span_id = MakeSpanId(0x61);
  link.context.trace_flags = 1;
  link.context.trace_state = "k=v";
  link.attributes = {{"messaging.message.id", "17"}, {"chat.link.age_s", 45}};
  root->links.push_back(std::move(link));
  SpanLink plain_link;
  plain_link.context.trace_id = MakeTraceId(0x71);
  plain_link.context.span_id = MakeSpanId(0x81);
  root->links.push_back(std::move(plain_link));
  root->status_code = StatusCode::kError;
  root->status_message = "boom: \"unique\" violated";
  root->dropped_attributes = 1;
  root->dropped_events = 2;
  root->dropped_links = 3;
  spans.push_back(std::move(root));

  auto child = std::make_unique<SpanData>();
  child->trace_id = MakeTraceId(0x01);
  child->span_id = MakeSpanId(0xb1);
  child->parent_span_id = MakeSpanId(0xa1);
  child->trace_flags = 1;
  child->name = "INSERT chat.messages";
  child->kind = SpanKind::kClient;
  child->start_unix_nano = 1700000000000100000;
  child->end_unix_nano = 1700000000000900000;
  child->attributes = {{"db.system.name", "postgresql"}, {"db.response.returned_rows", 1}};
  child->status_code = StatusCode::kOk;
  spans.push_back(std::move(child));

  auto minimal = std::make_unique<SpanData>();
  minimal->trace_id = MakeTraceId(0x21);
  minimal->span_id = MakeSpanId(0x31);
  minimal->name = "";
  minimal->kind = SpanKind::kConsumer;
  minimal->start_unix_nano = 1;
  minimal->end_unix_nano = 2;
  spans.push_back(std::move(minimal));
  return spans;
}

inline std::vector<std::unique_ptr<LogRecordData>> FixtureLogs() {
  std::vector<std::unique_ptr<LogRecordData>> logs;
  auto a = std::make_unique<LogRecordData>();
  a->time_unix_nano = 1700000000002000000;
  a->level = LogLevel::kWarn;
  a->body = "message persisted";
  a->trace_id = MakeTraceId(0x01);
  a->span_id = MakeSpanId(0xa1);
  a->trace_flags = 1;
  a->attributes = {
      {"seq", 99}, {"room", "r-1"}, {"ok", AttributeValue(true)}, {"lag_s", AttributeValue(0.125)}};
  logs.push_back(std::move(a));
  auto b = std::make_unique<LogRecordData>();
  b->time_unix_nano = 1700000000003000000;
  b->level = LogLevel::kError;
  b->body = "telemetry configured \xe2\x9c\x93 \"quoted\"";
  logs.push_back(std::move(b));
  auto c = std::make_unique<LogRecordData>();
  c->time_unix_nano = 1700000000004000000;
  c->level = LogLevel::kDebug;
  c->body = "";
  logs.push_back(std::move(c));
  return logs;
}

// ---------- comparisons ----------

inline bool SameValue(const AttributeValue& a, const AttributeValue& b) { return a == b; }

template <typename Attrs>
void ExpectAttrsEq(const Attrs& want, const std::vector<DecodedAttribute>& got,
                   const std::string& where) {
  ASSERT_EQ(want.size(), got.size()) << where;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(std::string(want[i].key), got[i].key) << where << " #" << i;
    EXPECT_TRUE(SameValue(want[i].value, got[i].value)) << where << " key " << got[i].key;
  }
}

inline void ExpectResourceEq(const Resource& want, const DecodedResource& got) {
  ExpectAttrsEq(want.attributes, got.attributes, "resource");
  EXPECT_EQ(want.ServiceName(), got.service_name);
}

inline void ExpectSpanEq(const SpanData& want, const DecodedSpan& got) {
  const std::string where = "span " + want.name;
  EXPECT_EQ(want.trace_id, got.trace_id) << where;
  EXPECT_EQ(want.span_id, got.span_id) << where;
  EXPECT_EQ(want.parent_span_id, got.parent_span_id) << where;
  EXPECT_EQ(want.trace_state, got.trace_state) << where;
  EXPECT_EQ(want.trace_flags, got.flags) << where;
  EXPECT_EQ(want.name, got.name) << where;
  EXPECT_EQ(static_cast<int>(want.kind), got.kind) << where;
  EXPECT_EQ(want.start_unix_nano, got.start_unix_nano) << where;
  EXPECT_EQ(want.end_unix_nano, got.end_unix_nano) << where;
  ExpectAttrsEq(want.attributes, got.attributes, where);
  ASSERT_EQ(want.events.size(), got.events.size()) << where;
  for (size_t i = 0; i < want.events.size(); ++i) {
    EXPECT_EQ(std::string(want.events[i].name), got.events[i].name);
    EXPECT_EQ(want.events[i].time_unix_nano, got.events[i].time_unix_nano);
    ExpectAttrsEq(want.events[i].attributes, got.events[i].attributes, where + " event");
  }
  ASSERT_EQ(want.links.size(), got.links.size()) << where;
  for (size_t i = 0; i < want.links.size(); ++i) {
    EXPECT_EQ(want.links[i].context.trace_id, got.links[i].trace_id);
    EXPECT_EQ(want.links[i].context.span_id, got.links[i].span_id);
    EXPECT_EQ(want.links[i].context.trace_state, got.links[i].trace_state);
    ExpectAttrsEq(want.links[i].attributes, got.links[i].attributes, where + " link");
  }
  EXPECT_EQ(static_cast<int>(want.status_code), got.status_code) << where;
  EXPECT_EQ(want.status_message, got.status_message) << where;
  EXPECT_EQ(want.dropped_attributes, got.dropped_attributes) << where;
  EXPECT_EQ(want.dropped_events, got.dropped_events) << where;
  EXPECT_EQ(want.dropped_links, got.dropped_links) << where;
}

inline std::string SeverityText(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

inline void ExpectLogEq(const LogRecordData& want, const DecodedLogRecord& got) {
  EXPECT_EQ(want.time_unix_nano, got.time_unix_nano);
  EXPECT_EQ(want.time_unix_nano, got.observed_time_unix_nano);
  EXPECT_EQ(static_cast<int>(want.level), got.severity_number);
  EXPECT_EQ(SeverityText(want.level), got.severity_text);
  EXPECT_EQ(want.body, got.body);
  EXPECT_EQ(want.trace_id, got.trace_id);
  EXPECT_EQ(want.span_id, got.span_id);
  EXPECT_EQ(want.trace_flags, got.flags);
  ExpectAttrsEq(want.attributes, got.attributes, "log " + want.body);
}

// ---------- files and processes ----------

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct ProcessResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command and captures stdout (stderr goes to the test log).
inline ProcessResult RunCommand(const std::string& cmd) {
  ProcessResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "otlp_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace chat::telemetry::sdk::testdata
