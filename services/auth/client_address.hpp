// TrustedProxies: the peers allowed to speak for a client through X-Forwarded-For, and the one
// rule that turns (peer address, X-Forwarded-For) into the client address auth-service keys its
// per-address rate limit on and logs. Behind nginx every peer is nginx, so keying on the peer
// would put every user in one bucket; trusting the header from anybody would let a client pick
// its own bucket. Immutable after Parse; safe to share across threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"

namespace chat::auth_service {

// An IPv4 or IPv6 address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  // A bare address ("10.1.2.3", "::1"), also "[::1]", "[::1]:443" and "10.1.2.3:443" as some
  // proxies write them. nullopt for anything else (host names, junk).
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;  // canonical text ("10.1.2.3", "::1")
};

class TrustedProxies {
 public:
  // Comma-separated addresses or CIDR ranges: "127.0.0.1,::1", "10.0.0.0/8, fd00::/8".
  // Empty = trust nobody (X-Forwarded-For is then always ignored). invalid_argument names the
  // first bad entry.
  static core::Result<TrustedProxies> Parse(std::string_view list);
  // 127.0.0.1 and ::1: nginx on the same host, as in the local stack.
  static TrustedProxies Loopback();

  bool Contains(const IpAddress& address) const;
  bool empty() const { return ranges_.empty(); }
  size_t size() const { return ranges_.size(); }

  // The address a request comes from. A peer that is not a trusted proxy is the client itself
  // (its X-Forwarded-For is ignored: anybody can write one). From a trusted proxy, the hops of
  // `forwarded_for` (all X-Forwarded-For values in order, comma-joined) are read from the right,
  // the end the proxy appended: the first hop that is not a trusted proxy is the client. A hop
  // that is not an address stops the walk at the trusted hop to its right (what the proxy saw
  // is all that can be believed); a chain that is trusted all the way is its leftmost hop. At
  // most 32 hops are read.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Range {
    IpAddress base;
    int prefix = 0;
  };
  std::vector<Range> ranges_;
};

}  // namespace chat::auth_service
