// Structured logs (docs/observability.md §7): each record is written as one JSON line on stderr
// and handed to a LogProcessor for OTLP export. The trace context is passed explicitly, so a line
// written while handling a message carries that message's trace_id and span_id.
//
// `msg` is a constant sentence; variables go in fields. Identical (level, msg) pairs above
// 10 per second are suppressed and counted; the next line carries `suppressed=<n>`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/telemetry/attributes.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace chat::core {
class Clock;
}

namespace chat::telemetry {

// Values are OTLP severity numbers.
enum class LogLevel : uint8_t { kDebug = 5, kInfo = 9, kWarn = 13, kError = 17 };
std::string_view LogLevelName(LogLevel l);  // "DEBUG", "INFO", "WARN", "ERROR"
// "debug"/"info"/"warn"/"error", any case; nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view s);

struct LogRecordData {
  int64_t time_unix_nano = 0;
  LogLevel level = LogLevel::kInfo;
  std::string body;  // the constant msg
  TraceId trace_id;  // zero when there was no span
  SpanId span_id;
  uint8_t trace_flags = 0;
  std::vector<Attribute> attributes;
};

class LogProcessor {
 public:
  virtual ~LogProcessor() = default;
  virtual void OnEmit(std::unique_ptr<LogRecordData> record) = 0;  // never blocks
  virtual bool ForceFlush(std::chrono::milliseconds timeout) = 0;
  virtual bool Shutdown(std::chrono::milliseconds timeout) = 0;
};

class Logger {
 public:
  // Where JSON lines go; defaults to stderr (one write per line). Tests capture them.
  using LineWriter = std::function<void(std::string_view line)>;

  // `processor` may be null (no OTLP export). A default-constructed Logger writes INFO+ lines to
  // stderr with service "unknown_service" (libraries and tests work without set-up).
  Logger();
  Logger(std::string service, LogLevel threshold, std::unique_ptr<LogProcessor> processor,
         const core::Clock& clock, LineWriter writer = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool Enabled(LogLevel level) const { return level >= threshold_; }

  void Log(LogLevel level, const SpanContext* ctx, std::string_view msg,
           std::vector<Attribute> fields = {});

  void Debug(const SpanContext& ctx, std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kDebug, &ctx, msg, std::move(f));
  }
  void Info(const SpanContext& ctx, std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kInfo, &ctx, msg, std::move(f));
  }
  void Warn(const SpanContext& ctx, std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kWarn, &ctx, msg, std::move(f));
  }
  void Error(const SpanContext& ctx, std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kError, &ctx, msg, std::move(f));
  }
  // Without trace context (lifecycle lines).
  void Info(std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kInfo, nullptr, msg, std::move(f));
  }
  void Warn(std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kWarn, nullptr, msg, std::move(f));
  }
  void Error(std::string_view msg, std::vector<Attribute> f = {}) {
    Log(LogLevel::kError, nullptr, msg, std::move(f));
  }

  bool ForceFlush(std::chrono::milliseconds timeout);
  bool Shutdown(std::chrono::milliseconds timeout);

  // For log_records_suppressed_total{level}.
  uint64_t suppressed(LogLevel level) const;

 private:
  std::string service_;
  LogLevel threshold_ = LogLevel::kInfo;
  std::unique_ptr<LogProcessor> processor_;
  const core::Clock* clock_;
  LineWriter writer_;

  struct RateState {
    int64_t window_start_ns = 0;
    uint32_t in_window = 0;
    uint64_t pending_suppressed = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, RateState> rate_;  // key: level + msg
  std::atomic<uint64_t> suppressed_[4] = {};
};

}  // namespace chat::telemetry
