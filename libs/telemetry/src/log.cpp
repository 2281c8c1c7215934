// Logger: one JSON line per record on stderr (docs/observability.md §7.1) plus an OTLP record for
// the processor. Repeat suppression is per (level, msg) in one-second windows (§7.2).
#include "chat/telemetry/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

#include "chat/core/clock.hpp"

namespace chat::telemetry {
namespace {

constexpr uint32_t kMaxPerSecond = 10;
constexpr int64_t kWindowNs = 1'000'000'000;
// (level, msg) pairs are constant sentences, so the map stays small; the bound only guards
// against a caller that interpolates values into msg.
constexpr size_t kMaxRateKeys = 4096;

size_t LevelIndex(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return 0;
    case LogLevel::kInfo: return 1;
    case LogLevel::kWarn: return 2;
    case LogLevel::kError: return 3;
  }
  return 1;
}

void WriteStderr(std::string_view line) {
  // One write(2) per line so concurrent lines never interleave (below PIPE_BUF they are atomic).
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report it
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out.append("\\u00");
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0x0f]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendValue(std::string& out, const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    AppendEscaped(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    out.append(std::to_string(*i));
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) {
      // JSON has no NaN/Inf; a string keeps the line parseable.
      AppendEscaped(out, std::isnan(*d) ? "NaN" : (*d > 0 ? "Infinity" : "-Infinity"));
    } else {
      char buf[32];
      auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
      out.append(buf, ec == std::errc() ? static_cast<size_t>(p - buf) : 0);
    }
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out.append(*b ? "true" : "false");
  }
}

void AppendTimestamp(std::string& out, int64_t unix_nano) {
  int64_t secs = unix_nano / 1'000'000'000;
  int64_t nanos = unix_nano % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, static_cast<long long>(nanos));
  out.push_back('"');
  if (n > 0) out.append(buf, static_cast<size_t>(n));
  out.push_back('"');
}

}  // namespace

std::string_view LogLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

std::optional<LogLevel> ParseLogLevel(std::string_view s) {
  std::string l;
  l.reserve(s.size());
  for (char c : s) l.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
  if (l == "debug") return LogLevel::kDebug;
  if (l == "info") return LogLevel::kInfo;
  if (l == "warn") return LogLevel::kWarn;
  if (l == "error") return LogLevel::kError;
  return std::nullopt;
}

Logger::Logger()
    : service_("unknown_service"), clock_(&core::SystemClock::Instance()), writer_(WriteStderr) {}

Logger::Logger(std::string service, LogLevel threshold, std::unique_ptr<LogProcessor> processor,
               const core::Clock& clock, LineWriter writer)
    : service_(std::move(service)),
      threshold_(threshold),
      processor_(std::move(processor)),
      clock_(&clock),
      writer_(writer ? std::move(writer) : LineWriter(WriteStderr)) {}

Logger::~Logger() = default;

void Logger::Log(LogLevel level, const SpanContext* ctx, std::string_view msg,
                 std::vector<Attribute> fields) {
  if (!Enabled(level)) return;
  const int64_t now = clock_->NowUnixNanos();

  uint64_t carried_suppressed = 0;
  {
    std::string key;
    key.reserve(msg.size() + 1);
    key.push_back(static_cast<char>(level));
    key.append(msg);
    std::lock_guard lock(mu_);
    if (rate_.size() >= kMaxRateKeys && rate_.find(key) == rate_.end()) rate_.clear();
    RateState& st = rate_[key];
    if (now - st.window_start_ns >= kWindowNs || now < st.window_start_ns) {
      st.window_start_ns = now;
      st.in_window = 0;
    }
    if (++st.in_window > kMaxPerSecond) {
      ++st.pending_suppressed;
      suppressed_[LevelIndex(level)].fetch_add(1, std::memory_order_relaxed);
      return;
    }
    carried_suppressed = std::exchange(st.pending_suppressed, 0);
  }

  const bool with_ctx = ctx != nullptr && ctx->IsValid();
  std::string line;
  line.reserve(160 + msg.size() + fields.size() * 32);
  line.append("{\"timestamp\":");
  AppendTimestamp(line, now);
  line.append(R"(,"level":")");
  line.append(LogLevelName(level));
  line.append(R"(","msg":)");
  AppendEscaped(line, msg);
  line.append(",\"service\":");
  AppendEscaped(line, service_);
  if (with_ctx) {
    line.append(R"(,"trace_id":")");
    line.append(ctx->trace_id.Hex());
    line.append(R"(","span_id":")");
    line.append(ctx->span_id.Hex());
    line.push_back('"');
  }
  if (carried_suppressed > 0) {
    line.append(",\"suppressed\":");
    line.append(std::to_string(carried_suppressed));
  }
  for (const Attribute& a : fields) {
    line.push_back(',');
    AppendEscaped(line, a.key);
    line.push_back(':');
    AppendValue(line, a.value);
  }
  line.push_back('}');
  writer_(line);

  if (processor_ != nullptr) {
    auto rec = std::make_unique<LogRecordData>();
    rec->time_unix_nano = now;
    rec->level = level;
    rec->body.assign(msg);
    if (with_ctx) {
      rec->trace_id = ctx->trace_id;
      rec->span_id = ctx->span_id;
      rec->trace_flags = ctx->trace_flags;
    }
    rec->attributes = std::move(fields);
    if (carried_suppressed > 0) {
      rec->attributes.push_back(
          {"suppressed", AttributeValue(static_cast<int64_t>(carried_suppressed))});
    }
    processor_->OnEmit(std::move(rec));
  }
}

bool Logger::ForceFlush(std::chrono::milliseconds timeout) {
  return processor_ == nullptr || processor_->ForceFlush(timeout);
}

bool Logger::Shutdown(std::chrono::milliseconds timeout) {
  return processor_ == nullptr || processor_->Shutdown(timeout);
}

uint64_t Logger::suppressed(LogLevel level) const {
  return suppressed_[LevelIndex(level)].load(std::memory_order_relaxed);
}

}  // namespace chat::telemetry
