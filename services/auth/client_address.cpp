#include "client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace chat::auth_service {
namespace {

constexpr size_t kMaxHops = 32;

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<IpAddress> ParseBare(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  std::string s(text);
  IpAddress ip;
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(ip.bytes.data(), &v4, 4);
    return ip;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(&v6, kMapped, sizeof kMapped) == 0) {
    std::memcpy(ip.bytes.data(), reinterpret_cast<const uint8_t*>(&v6) + 12, 4);
    return ip;
  }
  ip.v6 = true;
  std::memcpy(ip.bytes.data(), &v6, 16);
  return ip;
}

bool PrefixMatches(const IpAddress& a, const IpAddress& base, int prefix) {
  if (a.v6 != base.v6) return false;
  int full = prefix / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), static_cast<size_t>(full)) != 0) {
    return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[static_cast<size_t>(full)] & mask) ==
         (base.bytes[static_cast<size_t>(full)] & mask);
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  text = TrimSpaces(text);
  if (text.starts_with('[')) {  // [v6] or [v6]:port
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    auto ip = ParseBare(text.substr(1, close - 1));
    return ip && ip->v6 ? ip : std::nullopt;
  }
  if (auto ip = ParseBare(text)) return ip;
  // a.b.c.d:port
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    auto ip = ParseBare(text.substr(0, colon));
    if (ip && !ip->v6) return ip;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return "";
  return buf;
}

core::Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string_view item = TrimSpaces(
        list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (!item.empty()) {
      size_t slash = item.find('/');
      auto base = ParseBare(item.substr(0, slash));
      int max_prefix = base && base->v6 ? 128 : 32;
      int prefix = max_prefix;
      bool ok = base.has_value();
      if (ok && slash != std::string_view::npos) {
        std::string_view digits = item.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        ok = ec == std::errc() && end == digits.data() + digits.size() && prefix >= 0 &&
             prefix <= max_prefix;
      }
      if (!ok) {
        return core::InvalidArgument("\"" + std::string(item.substr(0, 64)) +
                                     "\" is not an IP address or CIDR range");
      }
      out.ranges_.push_back(Range{*base, prefix});
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

TrustedProxies TrustedProxies::Loopback() {
  auto loopback = Parse("127.0.0.1,::1");
  return std::move(loopback).value();
}

bool TrustedProxies::Contains(const IpAddress& address) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return PrefixMatches(address, r.base, r.prefix); });
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::string_view forwarded_for) const {
  auto peer_ip = IpAddress::Parse(peer);
  if (!peer_ip) return std::string(peer.substr(0, 64));  // not from a socket we know; as is
  std::string nearest = peer_ip->ToString();
  if (!Contains(*peer_ip)) return nearest;
  // The last kMaxHops hops, rightmost first.
  std::vector<std::string_view> hops;
  size_t end = forwarded_for.size();
  while (hops.size() < kMaxHops) {
    size_t comma = end == 0 ? std::string_view::npos : forwarded_for.rfind(',', end - 1);
    size_t begin = comma == std::string_view::npos ? 0 : comma + 1;
    std::string_view hop = TrimSpaces(forwarded_for.substr(begin, end - begin));
    if (!hop.empty()) hops.push_back(hop);  // ", ," from a sloppy proxy: skip the empty slot
    if (comma == std::string_view::npos) break;
    end = comma;
  }
  for (std::string_view hop : hops) {
    auto ip = IpAddress::Parse(hop);
    if (!ip) return nearest;
    nearest = ip->ToString();
    if (!Contains(*ip)) return nearest;
  }
  return nearest;
}

}  // namespace chat::auth_service
