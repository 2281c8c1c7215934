// The grant audit: proves, from the subject catalogue alone, that no permission a browser user
// can be given reaches a subject other than the templates that permission exists for. A user's
// grant that also matched a stream filter (CHAT_MESSAGES captures chat.*.thread.*), a KV bucket's
// subjects, the JetStream API or another template's service subscription would let that user write
// straight past the service that checks identity, membership and rate — the forged-message hole of
// issue 11 (chat.history.> matched chat.*.thread.*). contracts_test runs the audit for every tier,
// and auth-service refuses to start when it finds anything, so a catalogue edit that widens a
// grant fails the build and can never reach a minted JWT.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/subjects.hpp"

namespace chat::contracts {

// NATS subject-pattern algebra ('*' = one token, '>' = one or more trailing tokens).
// The pattern matching exactly the subjects both `a` and `b` match; nullopt when none.
std::optional<std::string> IntersectPatterns(std::string_view a, std::string_view b);
// True when every subject `inner` matches is matched by `outer`.
bool PatternCovers(std::string_view outer, std::string_view inner);

// What the audit compares grants against: every catalogue template (services subscribe to or
// publish on each), every stream filter, every KV bucket's `$KV.{bucket}.>`, and the server's own
// namespaces (`$JS.>`, `$KV.>`, `$O.>`, `$SYS.>`, `_INBOX.>` — other clients' reply inboxes).
struct AuditTarget {
  std::string pattern;
  std::string what;  // "template chat.{room}", "stream CHAT_MESSAGES", "bucket ROOMS", …
};
std::vector<AuditTarget> AuditTargets();

// One grant that reaches more than its own templates.
struct GrantOverlap {
  Tier tier;
  std::string kind;       // "publish" or "subscribe"
  std::string grant;      // as minted for the audit user, e.g. "chat.history.>"
  std::string target;     // AuditTarget::what
  std::string reachable;  // the intersection the grant should not reach
};

// Audits the permissions PermissionsForTier(`user`, tier) mints for every tier: each grant may
// intersect a target only inside the subjects of the catalogue rows that carry that grant (with
// {user} = `user`; an inbox row covers `_INBOX.{user}.>`). Empty = nothing overlaps.
std::vector<GrantOverlap> AuditGrants(std::string_view user = "auditor");

std::string Describe(const GrantOverlap& overlap);

}  // namespace chat::contracts
