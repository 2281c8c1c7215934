// W3C Trace Context parsing/formatting and id generation (docs/observability.md §3.2).
// Ids come from a per-thread xoshiro256** generator seeded from getrandom(2): no lock, no
// syscall on the hot path, and unpredictable across processes.
#include "chat/telemetry/trace_context.hpp"

#include <sys/random.h>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace chat::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Value of each byte as a lowercase hex digit, -1 for anything else (uppercase is invalid per
// §3.2). A table instead of range compares: parsing runs for every inbound message.
constexpr std::array<int8_t, 256> kHexValues = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}();

int HexValue(char c) { return kHexValues[static_cast<unsigned char>(c)]; }

// Both digits of each byte, so formatting is one table load and a 2-byte copy per byte.
constexpr std::array<char, 512> kHexPairs = [] {
  std::array<char, 512> t{};
  for (size_t i = 0; i < 256; ++i) {
    t[2 * i] = kHexDigits[i >> 4];
    t[2 * i + 1] = kHexDigits[i & 0x0f];
  }
  return t;
}();

template <size_t N>
void WriteHex(const std::array<uint8_t, N>& bytes, char* out) {
  for (size_t i = 0; i < N; ++i) {
    const char* pair = &kHexPairs[2 * static_cast<size_t>(bytes[i])];
    out[2 * i] = pair[0];
    out[2 * i + 1] = pair[1];
  }
}

template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& bytes) {
  std::string out(N * 2, '0');
  WriteHex(bytes, out.data());
  return out;
}

template <size_t N>
bool FromHexInto(std::string_view hex, std::array<uint8_t, N>& out) {
  if (hex.size() != N * 2) return false;
  // Accumulate the invalid bits and test once: no branch per digit.
  int bad = 0;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>(((hi & 0x0f) << 4) | (lo & 0x0f));
  }
  return bad >= 0;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// ---- random ids ----

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Trivially constructible so thread_local access needs no init guard call.
struct RngState {
  uint64_t s[4];
  bool seeded;
};
thread_local RngState t_rng = {{0, 0, 0, 0}, false};

void Seed(RngState& st) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    // getrandom cannot really fail for 8 bytes after boot; mix what we have anyway.
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           static_cast<uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())) ^
           reinterpret_cast<uintptr_t>(&st);
  }
  for (uint64_t& w : st.s) w = SplitMix64(seed);
  st.seeded = true;
}

uint64_t Next() {
  RngState& st = t_rng;
  if (!st.seeded) {
    [[unlikely]] Seed(st);
  }
  uint64_t* s = st.s;
  const uint64_t result = Rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = Rotl(s[3], 45);
  return result;
}

void PutU64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

// ---- tracestate grammar (W3C Trace Context, "tracestate" header) ----

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

bool ValidKey(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) {
    // simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
    if (key.empty() || key.size() > 256 || !IsLcAlpha(key[0])) return false;
    for (char c : key.substr(1)) {
      if (!IsKeyChar(c)) return false;
    }
    return true;
  }
  // multi-tenant-key = tenant-id "@" system-id
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241) return false;
  if (!IsLcAlpha(tenant[0]) && !IsDigit(tenant[0])) return false;
  for (char c : tenant.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  if (system.empty() || system.size() > 14 || !IsLcAlpha(system[0])) return false;
  for (char c : system.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

bool IsNblkChr(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != ',' && c != '=';
}

// value = 0*255(chr) nblk-chr ; chr = %x20 / nblk-chr
bool ValidValue(std::string_view value) {
  if (value.empty() || value.size() > 256) return false;
  for (char c : value) {
    if (c != ' ' && !IsNblkChr(c)) return false;
  }
  return value.back() != ' ';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool TraceId::IsValid() const { return !AllZero(bytes); }
std::string TraceId::Hex() const { return ToHex(bytes); }
std::optional<TraceId> TraceId::FromHex(std::string_view hex) {
  TraceId id;
  if (!FromHexInto(hex, id.bytes)) return std::nullopt;
  return id;
}

bool SpanId::IsValid() const { return !AllZero(bytes); }
std::string SpanId::Hex() const { return ToHex(bytes); }
std::optional<SpanId> SpanId::FromHex(std::string_view hex) {
  SpanId id;
  if (!FromHexInto(hex, id.bytes)) return std::nullopt;
  return id;
}

std::string_view InvalidContextReasonName(InvalidContextReason r) {
  switch (r) {
    case InvalidContextReason::kMalformed: return "malformed";
    case InvalidContextReason::kMultiple: return "multiple";
    case InvalidContextReason::kZeroId: return "zero_id";
    case InvalidContextReason::kBadVersion: return "bad_version";
  }
  return "malformed";
}

ParsedContext ParseTraceparent(std::string_view tp, std::string_view tracestate,
                               int traceparent_count) {
  ParsedContext out;
  if (traceparent_count <= 0) return out;
  auto invalid = [&out](InvalidContextReason r) {
    out.invalid = r;
    return out;
  };
  if (traceparent_count > 1) return invalid(InvalidContextReason::kMultiple);

  // version-traceid-parentid-flags: 2-32-16-2, total 55 for version 00.
  constexpr size_t kV0Length = 55;
  if (tp.size() < 2) return invalid(InvalidContextReason::kMalformed);
  int v_hi = HexValue(tp[0]);
  int v_lo = HexValue(tp[1]);
  if (v_hi < 0 || v_lo < 0) return invalid(InvalidContextReason::kMalformed);
  const int version = (v_hi << 4) | v_lo;
  if (version == 0xff) return invalid(InvalidContextReason::kBadVersion);
  if (tp.size() < kV0Length || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') {
    return invalid(InvalidContextReason::kMalformed);
  }
  if (version == 0 && tp.size() != kV0Length) return invalid(InvalidContextReason::kMalformed);
  // A future version may append fields; they must be introduced by '-'.
  if (version > 0 && tp.size() > kV0Length && tp[kV0Length] != '-') {
    return invalid(InvalidContextReason::kMalformed);
  }

  SpanContext ctx;
  if (!FromHexInto(tp.substr(3, 32), ctx.trace_id.bytes) ||
      !FromHexInto(tp.substr(36, 16), ctx.span_id.bytes)) {
    return invalid(InvalidContextReason::kMalformed);
  }
  std::array<uint8_t, 1> flags{};
  if (!FromHexInto(tp.substr(53, 2), flags)) return invalid(InvalidContextReason::kMalformed);
  if (!ctx.trace_id.IsValid() || !ctx.span_id.IsValid()) {
    return invalid(InvalidContextReason::kZeroId);
  }
  ctx.trace_flags = static_cast<uint8_t>(flags[0] & kTraceFlagSampled);
  ctx.is_remote = true;
  if (!tracestate.empty()) ctx.trace_state = ValidateTracestate(tracestate);
  out.context = std::move(ctx);
  return out;
}

bool FormatTraceparentTo(const SpanContext& ctx, char (&out)[kTraceparentLength + 1]) {
  if (!ctx.IsValid()) return false;
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  WriteHex(ctx.trace_id.bytes, out + 3);
  out[35] = '-';
  WriteHex(ctx.span_id.bytes, out + 36);
  out[52] = '-';
  out[53] = '0';
  out[54] = ctx.IsSampled() ? '1' : '0';
  out[kTraceparentLength] = '\0';
  return true;
}

std::string FormatTraceparent(const SpanContext& ctx) {
  char buf[kTraceparentLength + 1];
  if (!FormatTraceparentTo(ctx, buf)) return {};
  return std::string(buf, kTraceparentLength);
}

std::string ValidateTracestate(std::string_view tracestate) {
  constexpr size_t kMaxLength = 512;
  constexpr size_t kMaxMembers = 32;
  if (tracestate.size() > kMaxLength) return {};
  std::vector<std::string_view> keys;
  std::string out;
  out.reserve(tracestate.size());
  size_t pos = 0;
  while (pos <= tracestate.size()) {
    size_t comma = tracestate.find(',', pos);
    if (comma == std::string_view::npos) comma = tracestate.size();
    std::string_view member = TrimOws(tracestate.substr(pos, comma - pos));
    pos = comma + 1;
    if (member.empty()) continue;  // empty list members are allowed and ignored
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) return {};
    std::string_view key = member.substr(0, eq);
    std::string_view value = member.substr(eq + 1);
    if (!ValidKey(key) || !ValidValue(value)) return {};
    for (std::string_view k : keys) {
      if (k == key) return {};
    }
    keys.push_back(key);
    if (keys.size() > kMaxMembers) return {};
    if (!out.empty()) out.push_back(',');
    out.append(member);
  }
  return out;
}

TraceId NewTraceId() {
  TraceId id;
  do {
    PutU64(id.bytes.data(), Next());
    PutU64(id.bytes.data() + 8, Next());
  } while (!id.IsValid());
  return id;
}

SpanId NewSpanId() {
  SpanId id;
  uint64_t v = 0;
  do {
    v = Next();
  } while (v == 0);
  PutU64(id.bytes.data(), v);
  return id;
}

}  // namespace chat::telemetry
