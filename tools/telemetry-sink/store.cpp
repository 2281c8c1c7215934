#include "store.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <variant>

namespace chat::sink {
namespace {

using telemetry::AttributeValue;
using telemetry::sdk::DecodedAttribute;

constexpr size_t kMaxServices = 1000;  // service names are low cardinality; cap anyway
constexpr size_t kMaxLimit = 5000;

bool ParseInt64(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "5m", "1h30m", "500ms"; false on anything else.
bool ParseDuration(std::string_view s, int64_t& nanos) {
  if (s.empty()) return false;
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    int64_t n = 0;
    if (!ParseInt64(s.substr(start, i - start), n)) return false;
    size_t unit_start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    int64_t mult = 0;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us") {
      mult = 1000;
    } else if (unit == "ms") {
      mult = 1'000'000;
    } else if (unit == "s") {
      mult = 1'000'000'000;
    } else if (unit == "m") {
      mult = 60'000'000'000;
    } else if (unit == "h") {
      mult = 3'600'000'000'000;
    } else if (unit == "d") {
      mult = 86'400'000'000'000;
    } else {
      return false;
    }
    if (n > INT64_MAX / mult) return false;
    total += n * mult;
  }
  nanos = total;
  return true;
}

bool ParseRfc3339(std::string_view s, int64_t& unix_nano) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return false;
  auto num = [&](size_t pos, size_t len, int& out) {
    int64_t v = 0;
    if (!AllDigits(s.substr(pos, len)) || !ParseInt64(s.substr(pos, len), v)) return false;
    out = static_cast<int>(v);
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!num(0, 4, year) || s[4] != '-' || !num(5, 2, month) || s[7] != '-' || !num(8, 2, day) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, hour) || s[13] != ':' ||
      !num(14, 2, minute) || s[16] != ':' || !num(17, 2, second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) frac = frac * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return false;
    for (size_t d = digits; d < 9; ++d) frac *= 10;
  }
  int64_t offset_seconds = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!num(i + 1, 2, oh) || !num(i + 4, 2, om)) return false;
    offset_seconds = int64_t{s[i] == '-' ? -1 : 1} * (int64_t{oh} * 3600 + int64_t{om} * 60);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_seconds;
  unix_nano = secs * 1'000'000'000 + frac;
  return true;
}

core::Result<size_t> ParseLimit(const QueryParams& params, size_t def) {
  auto it = params.find("limit");
  if (it == params.end() || it->second.empty()) return def;
  int64_t v = 0;
  if (!ParseInt64(it->second, v) || v < 1) {
    return core::InvalidArgument("limit must be a positive integer");
  }
  return std::min(static_cast<size_t>(v), kMaxLimit);
}

const AttributeValue* FindAttr(const std::vector<DecodedAttribute>& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

nlohmann::json AttributesJson(const std::vector<DecodedAttribute>& attrs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& a : attrs) out[a.key] = AttributeJson(a.value);
  return out;
}

const std::string& ServiceOf(const DecodedSpan& s) {
  static const std::string kUnknown = "unknown_service";
  return s.resource ? s.resource->service_name : kUnknown;
}

const std::string& ServiceOf(const DecodedLogRecord& r) {
  static const std::string kUnknown = "unknown_service";
  return r.resource ? r.resource->service_name : kUnknown;
}

bool SpanMatches(const DecodedSpan& s, const TraceQuery& q) {
  if (!q.service.empty() && ServiceOf(s) != q.service) return false;
  if (!q.name.empty() && s.name != q.name) return false;
  if (q.status_code && s.status_code != *q.status_code) return false;
  if (q.since_unix_nano > 0 && s.start_unix_nano < q.since_unix_nano) return false;
  for (const auto& [key, value] : q.attributes) {
    const AttributeValue* v = FindAttr(s.attributes, key);
    if (v == nullptr && s.resource) v = FindAttr(s.resource->attributes, key);
    if (v == nullptr || AttributeText(*v) != value) return false;
  }
  return true;
}

std::string LevelOf(const DecodedLogRecord& r) {
  if (!r.severity_text.empty()) return r.severity_text;
  // OTLP severity ranges: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
  if (r.severity_number >= 21) return "FATAL";
  if (r.severity_number >= 17) return "ERROR";
  if (r.severity_number >= 13) return "WARN";
  if (r.severity_number >= 9) return "INFO";
  if (r.severity_number >= 5) return "DEBUG";
  if (r.severity_number >= 1) return "TRACE";
  return "";
}

int64_t LogTime(const DecodedLogRecord& r) {
  return r.time_unix_nano != 0 ? r.time_unix_nano : r.observed_time_unix_nano;
}

}  // namespace

core::Result<int64_t> ParseSince(std::string_view text, int64_t now_unix_nano) {
  int64_t v = 0;
  if (AllDigits(text)) {
    if (!ParseInt64(text, v)) return core::InvalidArgument("since: number out of range");
    return v;
  }
  if (ParseRfc3339(text, v)) return v;
  if (ParseDuration(text, v)) return now_unix_nano - v;
  return core::InvalidArgument(
      "since must be unix nanoseconds, an RFC 3339 time or a duration like 5m");
}

core::Result<TraceQuery> ParseTraceQuery(const QueryParams& params, int64_t now_unix_nano) {
  TraceQuery q;
  for (const auto& [key, value] : params) {
    if (key == "service") {
      q.service = value;
    } else if (key == "name") {
      q.name = value;
    } else if (key == "status") {
      std::string s = Lower(value);
      if (s == "unset") {
        q.status_code = 0;
      } else if (s == "ok") {
        q.status_code = 1;
      } else if (s == "error") {
        q.status_code = 2;
      } else if (!s.empty()) {
        return core::InvalidArgument("status must be unset, ok or error");
      }
    } else if (key.rfind("attr.", 0) == 0 && key.size() > 5) {
      q.attributes.emplace_back(key.substr(5), value);
    } else if (key == "since" && !value.empty()) {
      CHAT_ASSIGN_OR_RETURN(q.since_unix_nano, ParseSince(value, now_unix_nano));
    }
  }
  CHAT_ASSIGN_OR_RETURN(q.limit, ParseLimit(params, 20));
  return q;
}

core::Result<LogQuery> ParseLogQuery(const QueryParams& params, int64_t now_unix_nano) {
  LogQuery q;
  for (const auto& [key, value] : params) {
    if (key == "trace_id" && !value.empty()) {
      auto id = telemetry::TraceId::FromHex(Lower(value));
      if (!id) return core::InvalidArgument("trace_id must be 32 hex characters");
      q.trace_id = id->Hex();
    } else if (key == "service") {
      q.service = value;
    } else if (key == "level") {
      q.level = value;
    } else if (key == "since" && !value.empty()) {
      CHAT_ASSIGN_OR_RETURN(q.since_unix_nano, ParseSince(value, now_unix_nano));
    } else if (key == "direction") {
      if (value == "forward") {
        q.forward = true;
      } else if (value == "backward" || value.empty()) {
        q.forward = false;
      } else {
        return core::InvalidArgument("direction must be forward or backward");
      }
    }
  }
  CHAT_ASSIGN_OR_RETURN(q.limit, ParseLimit(params, 100));
  return q;
}

std::string FormatRfc3339Nanos(int64_t unix_nano) {
  int64_t secs = unix_nano / 1'000'000'000;
  int64_t frac = unix_nano % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

std::string SpanKindLabel(int kind) {
  switch (kind) {
    case 1: return "SPAN_KIND_INTERNAL";
    case 2: return "SPAN_KIND_SERVER";
    case 3: return "SPAN_KIND_CLIENT";
    case 4: return "SPAN_KIND_PRODUCER";
    case 5: return "SPAN_KIND_CONSUMER";
    default: return "SPAN_KIND_UNSPECIFIED";
  }
}

std::string StatusCodeLabel(int code) {
  switch (code) {
    case 1: return "STATUS_CODE_OK";
    case 2: return "STATUS_CODE_ERROR";
    default: return "STATUS_CODE_UNSET";
  }
}

std::string AttributeText(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  double d = std::get<double>(v);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

nlohmann::json AttributeJson(const AttributeValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json SpanJson(const DecodedSpan& s) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : s.events) {
    events.push_back({{"name", e.name},
                      {"time_unix_nano", e.time_unix_nano},
                      {"attributes", AttributesJson(e.attributes)}});
  }
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : s.links) {
    links.push_back({{"trace_id", l.trace_id.Hex()},
                     {"span_id", l.span_id.Hex()},
                     {"attributes", AttributesJson(l.attributes)}});
  }
  return {
      {"trace_id", s.trace_id.Hex()},
      {"span_id", s.span_id.Hex()},
      {"parent_span_id", s.parent_span_id.IsValid() ? s.parent_span_id.Hex() : std::string()},
      {"name", s.name},
      {"kind", SpanKindLabel(s.kind)},
      {"service_name", ServiceOf(s)},
      {"scope_name", s.scope_name},
      {"start_unix_nano", s.start_unix_nano},
      {"end_unix_nano", s.end_unix_nano},
      {"duration_ns", s.end_unix_nano - s.start_unix_nano},
      {"status", {{"code", StatusCodeLabel(s.status_code)}, {"message", s.status_message}}},
      {"attributes", AttributesJson(s.attributes)},
      {"resource", s.resource ? AttributesJson(s.resource->attributes) : nlohmann::json::object()},
      {"events", std::move(events)},
      {"links", std::move(links)},
  };
}

nlohmann::json LogJson(const DecodedLogRecord& r) {
  nlohmann::json j = {
      {"timestamp", FormatRfc3339Nanos(LogTime(r))},
      {"time_unix_nano", LogTime(r)},
      {"level", LevelOf(r)},
      {"severity_number", r.severity_number},
      {"msg", r.body},
      {"service", ServiceOf(r)},
      {"attributes", AttributesJson(r.attributes)},
      {"resource", r.resource ? AttributesJson(r.resource->attributes) : nlohmann::json::object()},
  };
  // Omitted without a span, like the JSON lines of §7.1.
  if (r.trace_id.IsValid()) j["trace_id"] = r.trace_id.Hex();
  if (r.span_id.IsValid()) j["span_id"] = r.span_id.Hex();
  return j;
}

TelemetryStore::TelemetryStore(StoreLimits limits, const core::Clock& clock,
                               EvictionListener on_evict)
    : limits_(limits), clock_(clock), on_evict_(std::move(on_evict)) {}

namespace {

// Per-object overhead of a heap allocation plus a shared_ptr control block, roughly.
constexpr size_t kNodeOverhead = 64;

size_t StringBytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond the small-string buffer
}

size_t AttributesBytes(const std::vector<DecodedAttribute>& attrs) {
  size_t n = attrs.capacity() * sizeof(DecodedAttribute);
  for (const auto& a : attrs) {
    n += StringBytes(a.key);
    if (const auto* s = std::get_if<std::string>(&a.value)) n += StringBytes(*s);
  }
  return n;
}

}  // namespace

size_t ApproxBytes(const DecodedSpan& span) {
  size_t n = sizeof(DecodedSpan) + kNodeOverhead + StringBytes(span.scope_name) +
             StringBytes(span.trace_state) + StringBytes(span.name) +
             StringBytes(span.status_message) + AttributesBytes(span.attributes) +
             span.events.capacity() * sizeof(telemetry::sdk::DecodedEvent) +
             span.links.capacity() * sizeof(telemetry::sdk::DecodedLink);
  for (const auto& e : span.events) n += StringBytes(e.name) + AttributesBytes(e.attributes);
  for (const auto& l : span.links) n += StringBytes(l.trace_state) + AttributesBytes(l.attributes);
  return n;
}

size_t ApproxBytes(const DecodedLogRecord& record) {
  return sizeof(DecodedLogRecord) + kNodeOverhead + StringBytes(record.scope_name) +
         StringBytes(record.severity_text) + StringBytes(record.body) +
         AttributesBytes(record.attributes);
}

size_t ApproxBytes(const telemetry::sdk::DecodedResource& resource) {
  return sizeof(telemetry::sdk::DecodedResource) + kNodeOverhead +
         StringBytes(resource.service_name) + AttributesBytes(resource.attributes);
}

void TelemetryStore::AddSpans(std::vector<DecodedSpan> spans) {
  const int64_t now = clock_.NowUnixNanos();
  std::unique_lock lock(mu_);
  const telemetry::sdk::DecodedResource* last_resource = nullptr;
  for (auto& s : spans) {
    NoteServiceLocked(ServiceOf(s));
    std::string key = s.trace_id.Hex();
    size_t bytes = ApproxBytes(s) + key.size();
    // A resource is shared by the spans of one request: charged to the first of them.
    if (s.resource && s.resource.get() != last_resource) {
      bytes += ApproxBytes(*s.resource);
      last_resource = s.resource.get();
    }
    bytes_ += bytes;
    auto stored = std::make_shared<const StoredSpan>(StoredSpan{std::move(s), now, bytes});
    spans_.push_back(stored);
    traces_[key].push_back(std::move(stored));
  }
  EvictLocked(now);
}

void TelemetryStore::AddLogs(std::vector<DecodedLogRecord> records) {
  const int64_t now = clock_.NowUnixNanos();
  std::unique_lock lock(mu_);
  const telemetry::sdk::DecodedResource* last_resource = nullptr;
  for (auto& r : records) {
    NoteServiceLocked(ServiceOf(r));
    bool has_trace = r.trace_id.IsValid();
    std::string key = has_trace ? r.trace_id.Hex() : std::string();
    size_t bytes = ApproxBytes(r);
    if (r.resource && r.resource.get() != last_resource) {
      bytes += ApproxBytes(*r.resource);
      last_resource = r.resource.get();
    }
    bytes_ += bytes;
    auto stored = std::make_shared<const StoredLog>(StoredLog{std::move(r), now, bytes});
    logs_.push_back(stored);
    if (has_trace) logs_by_trace_[key].push_back(std::move(stored));
  }
  EvictLocked(now);
}

void TelemetryStore::EvictExpired() {
  const int64_t now = clock_.NowUnixNanos();
  std::unique_lock lock(mu_);
  EvictLocked(now);
}

void TelemetryStore::PopSpanLocked() {
  const SpanPtr& front = spans_.front();
  bytes_ -= front->bytes;
  auto it = traces_.find(front->span.trace_id.Hex());
  // Both deques are in arrival order, so the globally oldest span is its trace's oldest.
  if (it != traces_.end()) {
    it->second.pop_front();
    if (it->second.empty()) traces_.erase(it);
  }
  spans_.pop_front();
}

void TelemetryStore::PopLogLocked() {
  const LogPtr& front = logs_.front();
  bytes_ -= front->bytes;
  if (front->record.trace_id.IsValid()) {
    auto it = logs_by_trace_.find(front->record.trace_id.Hex());
    if (it != logs_by_trace_.end()) {
      it->second.pop_front();
      if (it->second.empty()) logs_by_trace_.erase(it);
    }
  }
  logs_.pop_front();
}

void TelemetryStore::EvictLocked(int64_t now) {
  const int64_t cutoff =
      now - std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.max_age).count();
  uint64_t by_count = 0;
  uint64_t by_age = 0;
  while (spans_.size() > limits_.max_spans) {
    PopSpanLocked();
    ++by_count;
  }
  while (!spans_.empty() && spans_.front()->received_unix_nano < cutoff) {
    PopSpanLocked();
    ++by_age;
  }
  if (on_evict_ && by_count > 0) on_evict_(Signal::kSpans, EvictReason::kCount, by_count);
  if (on_evict_ && by_age > 0) on_evict_(Signal::kSpans, EvictReason::kAge, by_age);
  by_count = 0;
  by_age = 0;
  while (logs_.size() > limits_.max_logs) {
    PopLogLocked();
    ++by_count;
  }
  while (!logs_.empty() && logs_.front()->received_unix_nano < cutoff) {
    PopLogLocked();
    ++by_age;
  }
  if (on_evict_ && by_count > 0) on_evict_(Signal::kLogs, EvictReason::kCount, by_count);
  if (on_evict_ && by_age > 0) on_evict_(Signal::kLogs, EvictReason::kAge, by_age);
  // The byte bound: the oldest record of either kind goes first.
  uint64_t spans_by_bytes = 0;
  uint64_t logs_by_bytes = 0;
  while (bytes_ > limits_.max_bytes && (!spans_.empty() || !logs_.empty())) {
    const bool span_older =
        !spans_.empty() &&
        (logs_.empty() || spans_.front()->received_unix_nano <= logs_.front()->received_unix_nano);
    if (span_older) {
      PopSpanLocked();
      ++spans_by_bytes;
    } else {
      PopLogLocked();
      ++logs_by_bytes;
    }
  }
  if (on_evict_ && spans_by_bytes > 0) {
    on_evict_(Signal::kSpans, EvictReason::kBytes, spans_by_bytes);
  }
  if (on_evict_ && logs_by_bytes > 0) on_evict_(Signal::kLogs, EvictReason::kBytes, logs_by_bytes);
}

void TelemetryStore::NoteServiceLocked(const std::string& service) {
  if (services_.size() < kMaxServices) services_.insert(service);
}

std::optional<nlohmann::json> TelemetryStore::TraceJson(const telemetry::TraceId& trace_id) const {
  std::string key = trace_id.Hex();
  std::vector<SpanPtr> spans;
  {
    std::shared_lock lock(mu_);
    auto it = traces_.find(key);
    if (it == traces_.end()) return std::nullopt;
    spans.assign(it->second.begin(), it->second.end());
  }
  std::stable_sort(spans.begin(), spans.end(), [](const SpanPtr& a, const SpanPtr& b) {
    return a->span.start_unix_nano < b->span.start_unix_nano;
  });
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : spans) arr.push_back(SpanJson(s->span));
  return nlohmann::json{{"trace_id", key}, {"spans", std::move(arr)}};
}

nlohmann::json TelemetryStore::SummaryLocked(const std::string& trace_hex,
                                             const std::deque<SpanPtr>& spans) const {
  int64_t start = INT64_MAX;
  int64_t end = INT64_MIN;
  int errors = 0;
  std::set<std::string> services;
  std::set<std::string> span_ids;
  for (const auto& s : spans) span_ids.insert(s->span.span_id.Hex());
  const DecodedSpan* root = nullptr;
  bool root_is_true_root = false;
  for (const auto& sp : spans) {
    const DecodedSpan& s = sp->span;
    start = std::min(start, s.start_unix_nano);
    end = std::max(end, s.end_unix_nano);
    if (s.status_code == 2) ++errors;
    services.insert(ServiceOf(s));
    bool true_root = !s.parent_span_id.IsValid();
    // A real root wins; otherwise the earliest span whose parent is not (yet) stored.
    bool candidate = true_root || span_ids.count(s.parent_span_id.Hex()) == 0;
    if (!candidate) continue;
    if (root == nullptr || (true_root && !root_is_true_root) ||
        (true_root == root_is_true_root && s.start_unix_nano < root->start_unix_nano)) {
      root = &s;
      root_is_true_root = true_root;
    }
  }
  if (root == nullptr) root = &spans.front()->span;
  return {{"trace_id", trace_hex},
          {"root_service", ServiceOf(*root)},
          {"root_name", root->name},
          {"start", FormatRfc3339Nanos(start)},
          {"start_unix_nano", start},
          {"duration_ns", end - start},
          {"span_count", spans.size()},
          {"error_count", errors},
          {"services", std::vector<std::string>(services.begin(), services.end())}};
}

nlohmann::json TelemetryStore::SearchTraces(const TraceQuery& query) const {
  std::vector<nlohmann::json> found;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, spans] : traces_) {
      bool match = std::any_of(spans.begin(), spans.end(),
                               [&](const SpanPtr& s) { return SpanMatches(s->span, query); });
      if (match) found.push_back(SummaryLocked(key, spans));
    }
  }
  std::sort(found.begin(), found.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["start_unix_nano"].get<int64_t>() > b["start_unix_nano"].get<int64_t>();
  });
  if (found.size() > query.limit) found.resize(query.limit);
  return nlohmann::json{{"traces", std::move(found)}};
}

nlohmann::json TelemetryStore::SearchLogs(const LogQuery& query) const {
  std::vector<LogPtr> matched;
  const std::string level = Lower(query.level);
  auto matches = [&](const DecodedLogRecord& r) {
    if (!query.service.empty() && ServiceOf(r) != query.service) return false;
    if (!level.empty() && Lower(LevelOf(r)) != level) return false;
    if (query.since_unix_nano > 0 && LogTime(r) < query.since_unix_nano) return false;
    return true;
  };
  {
    std::shared_lock lock(mu_);
    if (!query.trace_id.empty()) {
      auto it = logs_by_trace_.find(query.trace_id);
      if (it != logs_by_trace_.end()) {
        for (const auto& l : it->second) {
          if (matches(l->record)) matched.push_back(l);
        }
      }
    } else {
      for (const auto& l : logs_) {
        if (matches(l->record)) matched.push_back(l);
      }
    }
  }
  std::stable_sort(matched.begin(), matched.end(), [&](const LogPtr& a, const LogPtr& b) {
    return query.forward ? LogTime(a->record) < LogTime(b->record)
                         : LogTime(a->record) > LogTime(b->record);
  });
  if (matched.size() > query.limit) matched.resize(query.limit);
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& l : matched) arr.push_back(LogJson(l->record));
  return nlohmann::json{{"logs", std::move(arr)}};
}

std::vector<std::string> TelemetryStore::Services() const {
  std::shared_lock lock(mu_);
  return {services_.begin(), services_.end()};
}

size_t TelemetryStore::span_count() const {
  std::shared_lock lock(mu_);
  return spans_.size();
}

size_t TelemetryStore::log_count() const {
  std::shared_lock lock(mu_);
  return logs_.size();
}

size_t TelemetryStore::trace_count() const {
  std::shared_lock lock(mu_);
  return traces_.size();
}

size_t TelemetryStore::bytes() const {
  std::shared_lock lock(mu_);
  return bytes_;
}

}  // namespace chat::sink
