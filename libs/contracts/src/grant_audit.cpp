#include "chat/contracts/grant_audit.hpp"

#include <algorithm>
#include <span>

#include "chat/contracts/permissions.hpp"

namespace chat::contracts {
namespace {

using Tokens = std::vector<std::string_view>;

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += '.';
    out += t;
  }
  return out;
}

// Token-wise intersection; `out` collects the resulting pattern's tokens.
bool Intersect(std::span<const std::string_view> a, std::span<const std::string_view> b,
               std::vector<std::string>& out) {
  if (a.empty() || b.empty()) return a.empty() && b.empty();
  if (a.front() == ">") {  // a matches whatever non-empty rest b has
    for (auto t : b) out.emplace_back(t);
    return true;
  }
  if (b.front() == ">") {
    for (auto t : a) out.emplace_back(t);
    return true;
  }
  if (a.front() == "*") {
    out.emplace_back(b.front());
  } else if (b.front() == "*" || b.front() == a.front()) {
    out.emplace_back(a.front());
  } else {
    return false;
  }
  return Intersect(a.subspan(1), b.subspan(1), out);
}

bool Covers(std::span<const std::string_view> outer, std::span<const std::string_view> inner) {
  if (outer.empty()) return inner.empty();
  if (outer.front() == ">") return !inner.empty();
  if (inner.empty() || inner.front() == ">") return false;
  if (outer.front() != "*" && outer.front() != inner.front()) return false;
  return Covers(outer.subspan(1), inner.subspan(1));
}

// The subjects a catalogue row stands for, with `user` in place of {user} and '*' for every
// other placeholder. An inbox row (pattern kSubscribe) covers the whole inbox prefix.
std::string RowSubjects(const SubjectSpec& spec, std::string_view user) {
  std::string text = SubstituteUser(spec.subject->text(), user);
  std::vector<std::string> tokens;
  for (auto t : core::SplitSubject(text)) {
    tokens.emplace_back(!t.empty() && t.front() == '{' ? std::string("*") : std::string(t));
  }
  if (spec.pattern == Pattern::kSubscribe) tokens.emplace_back(">");
  return Join(tokens);
}

void AuditKind(Tier tier, std::string_view user, bool publish,
               const std::vector<std::string>& grants, const std::vector<AuditTarget>& targets,
               std::vector<GrantOverlap>& out) {
  const TierMask bit = TierBit(tier);
  for (const auto& grant : grants) {
    // The rows this grant was minted for: the only subjects it may reach.
    std::vector<std::string> own;
    for (const auto& spec : kSubjectCatalogue) {
      std::string_view perm = publish ? spec.publish_permission : spec.subscribe_permission;
      TierMask tiers = publish ? spec.publish_tiers : spec.subscribe_tiers;
      if (perm.empty() || (tiers & bit) == 0 || SubstituteUser(perm, user) != grant) continue;
      own.push_back(RowSubjects(spec, user));
    }
    for (const auto& target : targets) {
      auto reach = IntersectPatterns(grant, target.pattern);
      if (!reach) continue;
      bool intended = std::any_of(own.begin(), own.end(),
                                  [&](const std::string& o) { return PatternCovers(o, *reach); });
      if (!intended) {
        out.push_back(
            GrantOverlap{tier, publish ? "publish" : "subscribe", grant, target.what, *reach});
      }
    }
  }
}

}  // namespace

std::optional<std::string> IntersectPatterns(std::string_view a, std::string_view b) {
  auto ta = core::SplitSubject(a);
  auto tb = core::SplitSubject(b);
  std::vector<std::string> out;
  if (!Intersect(ta, tb, out)) return std::nullopt;
  return Join(out);
}

bool PatternCovers(std::string_view outer, std::string_view inner) {
  auto to = core::SplitSubject(outer);
  auto ti = core::SplitSubject(inner);
  return Covers(to, ti);
}

std::vector<AuditTarget> AuditTargets() {
  std::vector<AuditTarget> targets;
  targets.reserve(std::size(kSubjectCatalogue) + std::size(jetstream::kChatMessagesSubjects) +
                  std::size(jetstream::kBuckets) + 5);
  for (const auto& spec : kSubjectCatalogue) {
    targets.push_back({spec.subject->Pattern(), "template " + std::string(spec.subject->text())});
  }
  for (auto filter : jetstream::kChatMessagesSubjects) {
    targets.push_back({std::string(filter), "stream " +
                                                std::string(jetstream::kStreamChatMessages) +
                                                " filter " + std::string(filter)});
  }
  for (const auto& bucket : jetstream::kBuckets) {
    targets.push_back(
        {"$KV." + std::string(bucket.name) + ".>", "bucket " + std::string(bucket.name)});
  }
  for (std::string_view reserved : {"$JS.>", "$KV.>", "$O.>", "$SYS.>", "_INBOX.>"}) {
    targets.push_back({std::string(reserved), "server namespace " + std::string(reserved)});
  }
  return targets;
}

std::vector<GrantOverlap> AuditGrants(std::string_view user) {
  std::vector<GrantOverlap> out;
  const auto targets = AuditTargets();
  for (Tier tier : {Tier::kAdmin, Tier::kUser, Tier::kNone}) {
    auto perms = PermissionsForTier(user, tier);
    if (!perms.ok()) {
      out.push_back(GrantOverlap{tier, "publish", std::string(user), "audit user",
                                 std::string(perms.status().message())});
      continue;
    }
    AuditKind(tier, user, true, perms->pub_allow, targets, out);
    AuditKind(tier, user, false, perms->sub_allow, targets, out);
  }
  return out;
}

std::string Describe(const GrantOverlap& o) {
  return std::string(TierName(o.tier)) + " " + o.kind + " grant " + o.grant + " reaches " +
         o.reachable + " (" + o.target + ")";
}

}  // namespace chat::contracts
