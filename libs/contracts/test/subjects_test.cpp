// subjects.json (read by the web client and documentation) and subjects.hpp (compiled into
// services and auth-service) must list the same catalogue; permissions derived from either must
// be identical; README.md's table is generated from subjects.json.
#include "chat/contracts/subjects.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "chat/contracts/grant_audit.hpp"
#include "chat/contracts/permissions.hpp"
#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"

namespace chat::contracts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SubjectsJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    doc_ = json::parse(ReadFile(fs::path(CHAT_CONTRACTS_DIR) / "subjects.json"), nullptr, false);
    ASSERT_TRUE(doc_.is_object()) << "subjects.json is missing or not valid JSON";
  }

  static std::string OrEmpty(const json& v) { return v.is_null() ? "" : v.get<std::string>(); }

  static std::vector<std::string> TierNames(TierMask mask) {
    std::vector<std::string> out;
    for (Tier t : {Tier::kAdmin, Tier::kUser, Tier::kNone}) {
      if ((mask & TierBit(t)) != 0) out.emplace_back(TierName(t));
    }
    return out;
  }

  // Permissions computed from subjects.json alone, the way the web or a script would.
  std::vector<std::string> JsonAllow(const std::string& kind, const std::string& tier,
                                     const std::string& user) const {
    std::vector<std::string> out;
    for (const auto& s : doc_["subjects"]) {
      const auto& perm = s[kind + "_permission"];
      if (perm.is_null()) continue;
      auto tiers = s[kind + "_tiers"].get<std::vector<std::string>>();
      if (std::find(tiers.begin(), tiers.end(), tier) == tiers.end()) continue;
      std::string p = perm.get<std::string>();
      for (auto at = p.find("{user}"); at != std::string::npos; at = p.find("{user}")) {
        p.replace(at, 6, user);
      }
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
  }

  json doc_;
};

TEST_F(SubjectsJsonTest, ListsExactlyTheHeaderTemplatesWithTheSameFields) {
  const auto& subjects = doc_["subjects"];
  ASSERT_EQ(subjects.size(), kSubjectCatalogue.size());
  for (std::size_t i = 0; i < kSubjectCatalogue.size(); ++i) {
    const auto& spec = kSubjectCatalogue[i];
    const auto& s = subjects[i];
    SCOPED_TRACE(std::string(spec.name));
    EXPECT_EQ(s["name"], spec.name);
    EXPECT_EQ(s["template"], spec.subject->text());
    EXPECT_EQ(s["pattern"], PatternName(spec.pattern));
    std::string publishers;
    for (const auto& p : s["publishers"]) {
      publishers += (publishers.empty() ? "" : ",") + p.get<std::string>();
    }
    EXPECT_EQ(publishers, spec.publishers);
    EXPECT_EQ(OrEmpty(s["request"]), spec.request);
    EXPECT_EQ(OrEmpty(s["reply"]), spec.reply);
    EXPECT_EQ(OrEmpty(s["queue_group"]), spec.queue_group);
    EXPECT_EQ(OrEmpty(s["publish_permission"]), spec.publish_permission);
    EXPECT_EQ(s["publish_tiers"].get<std::vector<std::string>>(), TierNames(spec.publish_tiers));
    EXPECT_EQ(OrEmpty(s["subscribe_permission"]), spec.subscribe_permission);
    EXPECT_EQ(s["subscribe_tiers"].get<std::vector<std::string>>(),
              TierNames(spec.subscribe_tiers));
    EXPECT_EQ(s["identity"], IdentityName(spec.identity));
    EXPECT_EQ(s["concurrency"], ConcurrencyName(spec.concurrency));
  }
}

TEST_F(SubjectsJsonTest, RowsAreConsistent) {
  std::set<std::string> queue_groups;
  for (const auto& q : doc_["queue_groups"]) queue_groups.insert(q.get<std::string>());
  for (const auto& spec : kSubjectCatalogue) {
    SCOPED_TRACE(std::string(spec.name));
    EXPECT_EQ(FindSubject(spec.subject->text()), &spec);
    if (spec.pattern == Pattern::kRequest) {
      EXPECT_FALSE(spec.reply.empty()) << "a request needs a reply type";
    } else {
      EXPECT_TRUE(spec.reply.empty()) << "only requests have replies";
    }
    if (!spec.queue_group.empty()) {
      EXPECT_TRUE(queue_groups.count(std::string(spec.queue_group)));
    }
    EXPECT_EQ(spec.publish_permission.empty(), spec.publish_tiers == kNoTiers);
    EXPECT_EQ(spec.subscribe_permission.empty(), spec.subscribe_tiers == kNoTiers);
    // Placeholders use one vocabulary (span names and the web client depend on it).
    static const std::set<std::string_view> kNames = {"user",  "room",   "thread_id", "app",
                                                      "event", "action", "product"};
    for (auto name : spec.subject->ArgNames()) EXPECT_TRUE(kNames.count(name)) << name;
  }
  EXPECT_EQ(FindSubject("chat.dms"), nullptr);
}

// The identity a service route gets (docs/adr/0001): a template browsers publish that names a
// {user} takes that user; one that names none is a read and answers only the reply inbox's
// owner; service-only and browser-bound templates have no acting user. A row that says otherwise
// (a body-trusted identity, a user subject served as anonymous) fails here.
TEST(SubjectCatalogueTest, IdentityFollowsPublishersAndTemplate) {
  for (const auto& spec : kSubjectCatalogue) {
    SCOPED_TRACE(std::string(spec.name));
    bool browser_published = false;
    for (std::string_view rest = spec.publishers; !rest.empty();) {
      size_t comma = rest.find(',');
      if (rest.substr(0, comma) == "web") browser_published = true;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    const auto names = spec.subject->ArgNames();
    const bool has_user = std::find(names.begin(), names.end(), "user") != names.end();
    Identity want = Identity::kNone;
    if (spec.pattern != Pattern::kSubscribe && browser_published) {
      want = has_user ? Identity::kSubjectUser : Identity::kReplyInbox;
    }
    EXPECT_EQ(IdentityName(spec.identity), IdentityName(want));
    if (spec.identity == Identity::kReplyInbox) {
      EXPECT_EQ(PatternName(spec.pattern), "request");
    }
    // Several handler threads per instance imply several instances may run: a queue group.
    if (spec.concurrency == Concurrency::kConfigured) {
      EXPECT_FALSE(spec.queue_group.empty());
    }
  }
}

TEST_F(SubjectsJsonTest, QueueGroupsStreamsAndBucketsMatchTheHeader) {
  std::vector<std::string> groups = {std::string(queue_groups::kFanoutWorkers),
                                     std::string(queue_groups::kMsgGetWorkers),
                                     std::string(queue_groups::kHistoryWorkers),
                                     std::string(queue_groups::kRoomWorkers),
                                     std::string(queue_groups::kRoomMembersWorkers),
                                     std::string(queue_groups::kPresenceWorkers),
                                     std::string(queue_groups::kTranslateWorkers),
                                     std::string(queue_groups::kAppRegistryWorkers),
                                     std::string(queue_groups::kStickerWorkers),
                                     std::string(queue_groups::kUserSearchWorkers),
                                     std::string(queue_groups::kPollWorkers),
                                     std::string(queue_groups::kWhiteboardWorkers),
                                     std::string(queue_groups::kKbWorkers)};
  EXPECT_EQ(doc_["queue_groups"].get<std::vector<std::string>>(), groups);

  ASSERT_EQ(doc_["streams"].size(), 1u);
  const auto& stream = doc_["streams"][0];
  EXPECT_EQ(stream["name"], jetstream::kStreamChatMessages);
  std::vector<std::string> subjects(jetstream::kChatMessagesSubjects.begin(),
                                    jetstream::kChatMessagesSubjects.end());
  EXPECT_EQ(stream["subjects"].get<std::vector<std::string>>(), subjects);
  EXPECT_EQ(stream["durables"], json::array({std::string(jetstream::kDurablePersistWorker)}));
  EXPECT_EQ(stream["max_bytes"], jetstream::kChatMessagesMaxBytes);
  EXPECT_EQ(stream["max_msg_size"], jetstream::kChatMessagesMaxMsgSize);

  ASSERT_EQ(doc_["buckets"].size(), jetstream::kBuckets.size());
  for (std::size_t i = 0; i < jetstream::kBuckets.size(); ++i) {
    const auto& b = doc_["buckets"][i];
    const auto& spec = jetstream::kBuckets[i];
    EXPECT_EQ(b["name"], spec.name);
    EXPECT_EQ(b["storage"], spec.storage == jetstream::Storage::kFile ? "file" : "memory");
    EXPECT_EQ(b["ttl_seconds"], spec.ttl_seconds);
    EXPECT_EQ(b["key_format"], spec.key_format);
    EXPECT_EQ(b["max_bytes"], spec.max_bytes);
    EXPECT_EQ(b["max_value_size"], spec.max_value_size);
  }
  std::set<std::string> names;
  for (const auto& b : jetstream::kBuckets) names.insert(std::string(b.name));
  EXPECT_EQ(names, (std::set<std::string>{"ROOMS", "MSG_CACHE", "RATE_LIMIT", "PRESENCE",
                                          "PRESENCE_CONN", "READ_STATE", "KB_EDITORS"}));
}

// The stream must capture chat.{room} and chat.{room}.thread.{thread_id} but none of the
// request templates (system.md §10 item 3: chat.dms used to be captured).
TEST_F(SubjectsJsonTest, StreamCapturesOnlyMessageTemplates) {
  auto captured = [](std::string_view tmpl) {
    // Replace each placeholder by a concrete token and test it against the stream filters.
    std::string concrete = FindSubject(tmpl)->subject->Pattern();
    for (auto& c : concrete) {
      if (c == '*') c = 'x';
    }
    for (auto filter : jetstream::kChatMessagesSubjects) {
      auto ft = core::SplitSubject(filter);
      auto ct = core::SplitSubject(concrete);
      if (ft.size() != ct.size()) continue;
      bool match = true;
      for (std::size_t i = 0; i < ft.size(); ++i) {
        if (ft[i] != "*" && ft[i] != ct[i]) match = false;
      }
      if (match) return true;
    }
    return false;
  };
  std::set<std::string_view> want = {"chat.{room}", "chat.{room}.thread.{thread_id}",
                                     "admin.{room}.{user}"};
  for (const auto& spec : kSubjectCatalogue) {
    EXPECT_EQ(captured(spec.subject->text()), want.count(spec.subject->text()) == 1)
        << spec.subject->text();
  }
}

// Two templates with the same number of literal tokens must never match the same subject (the
// dispatcher picks the most specific template; a tie would be ambiguous).
TEST_F(SubjectsJsonTest, NoTwoTemplatesAreAmbiguous) {
  for (std::size_t i = 0; i < kSubjectCatalogue.size(); ++i) {
    for (std::size_t k = i + 1; k < kSubjectCatalogue.size(); ++k) {
      const auto* a = kSubjectCatalogue[i].subject;
      const auto* b = kSubjectCatalogue[k].subject;
      auto ta = core::SplitSubject(a->text());
      auto tb = core::SplitSubject(b->text());
      if (ta.size() != tb.size() || a->LiteralCount() != b->LiteralCount()) continue;
      bool overlap = true;
      for (std::size_t t = 0; t < ta.size(); ++t) {
        bool pa = ta[t].front() == '{';
        bool pb = tb[t].front() == '{';
        if (!pa && !pb && ta[t] != tb[t]) overlap = false;
      }
      EXPECT_FALSE(overlap) << a->text() << " vs " << b->text();
    }
  }
}

// ADR 0001: everything a user publishes that changes state carries {user} in the permission.
TEST_F(SubjectsJsonTest, StateChangingPermissionsAreScopedToTheUser) {
  for (const auto& spec : kSubjectCatalogue) {
    if (spec.publish_tiers == kNoTiers) {
      continue;
    }
    bool state_changing = spec.pattern == Pattern::kPublish ||
                          (spec.publish_tiers & kNoRoleTier) == 0 || spec.name == "kAppRequest";
    if (state_changing) {
      EXPECT_NE(spec.publish_permission.find("{user}"), std::string_view::npos) << spec.name;
      EXPECT_NE(spec.subject->text().find("{user}"), std::string_view::npos) << spec.name;
    }
  }
}

TEST_F(SubjectsJsonTest, PermissionsMatchTheJsonCatalogueForEveryTier) {
  for (Tier tier : {Tier::kAdmin, Tier::kUser, Tier::kNone}) {
    SCOPED_TRACE(std::string(TierName(tier)));
    auto p = PermissionsForTier("alice", tier);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->pub_allow, JsonAllow("publish", std::string(TierName(tier)), "alice"));
    EXPECT_EQ(p->sub_allow, JsonAllow("subscribe", std::string(TierName(tier)), "alice"));
    EXPECT_EQ(p->response_max_msgs, doc_["response_permission"]["max_msgs"].get<int>());
    EXPECT_EQ(p->response_expires.count(),
              doc_["response_permission"]["expires_seconds"].get<int>());
  }
}

TEST(PermissionsTest, SeededUsersGetTheirTier) {
  // system.md §2.6: alice, diana, julia are admin+user; bob is user; charlie and mike have none.
  EXPECT_EQ(TierForRoles({"admin", "user"}), Tier::kAdmin);
  EXPECT_EQ(TierForRoles({"user"}), Tier::kUser);
  EXPECT_EQ(TierForRoles({}), Tier::kNone);
  EXPECT_EQ(TierForRoles({"default-roles-nats-chat", "offline_access", "uma_authorization"}),
            Tier::kNone);
  EXPECT_EQ(TierForRoles({"Admin"}), Tier::kNone) << "roles are case-sensitive";

  auto alice = PermissionsForRoles("alice", {"admin", "user"});
  auto bob = PermissionsForRoles("bob", {"user"});
  auto charlie = PermissionsForRoles("charlie", {});
  ASSERT_TRUE(alice.ok() && bob.ok() && charlie.ok());
  // system.md §2.4 counts: Admin 30, User 29, No role 22 (ADR 0001 renames, never adds).
  EXPECT_EQ(alice->pub_allow.size(), 30u);
  EXPECT_EQ(bob->pub_allow.size(), 29u);
  EXPECT_EQ(charlie->pub_allow.size(), 22u);

  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  EXPECT_TRUE(has(alice->pub_allow, "admin.*.alice"));
  EXPECT_FALSE(has(alice->pub_allow, "admin.>"));
  EXPECT_FALSE(has(bob->pub_allow, "admin.*.bob"));
  EXPECT_TRUE(has(bob->pub_allow, "deliver.bob.send.>"));
  EXPECT_FALSE(has(charlie->pub_allow, "deliver.charlie.send.>"));
  EXPECT_TRUE(has(bob->pub_allow, "room.create.bob"));
  EXPECT_FALSE(has(charlie->pub_allow, "room.create.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "room.join.*.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "room.leave.*.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "history.dms"));
  EXPECT_FALSE(has(charlie->pub_allow, "chat.dms"));
  // Exactly the two request templates: chat.history.> also matched chat.*.thread.*, which the
  // CHAT_MESSAGES stream captures (issue 11: forged messages).
  EXPECT_TRUE(has(charlie->pub_allow, "chat.history.*"));
  EXPECT_TRUE(has(charlie->pub_allow, "chat.history.*.thread.*"));
  EXPECT_FALSE(has(charlie->pub_allow, "chat.history.>"));
  // Nobody publishes into reply inboxes (issue 11 item 13: reply spoofing); replies come from
  // services, whose identities publish `>`.
  for (const auto* p : {&alice->pub_allow, &bob->pub_allow, &charlie->pub_allow}) {
    for (const auto& g : *p) EXPECT_NE(g.rfind("_INBOX", 0), 0u) << g;
  }
  EXPECT_TRUE(has(charlie->pub_allow, "msg.get"));
  EXPECT_TRUE(has(charlie->pub_allow, "app.*.*.*.charlie"));
  EXPECT_TRUE(has(bob->pub_allow, "apps.install.*.bob"));
  EXPECT_FALSE(has(charlie->pub_allow, "apps.install.*.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "presence.heartbeat.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "read.update.*.charlie"));
  EXPECT_TRUE(has(charlie->pub_allow, "translate.request.charlie"));
  // The sticker picker (sticker-service, issue 14): every signed-in user, whatever the role.
  for (const auto* p : {&alice->pub_allow, &bob->pub_allow, &charlie->pub_allow}) {
    EXPECT_TRUE(has(*p, "stickers.products"));
    EXPECT_TRUE(has(*p, "stickers.product.*"));
  }
  // The user directory search (user-search-service): every signed-in user, whatever the role,
  // searches only under their own name (the searcher keys the rate limit, so it is the subject's
  // user, not the reply inbox's owner); no wildcard, and the plain subject is gone.
  EXPECT_TRUE(has(alice->pub_allow, "users.search.alice"));
  EXPECT_TRUE(has(bob->pub_allow, "users.search.bob"));
  EXPECT_TRUE(has(charlie->pub_allow, "users.search.charlie"));
  EXPECT_FALSE(has(alice->pub_allow, "users.search.bob"));
  for (const auto* p : {&alice->pub_allow, &bob->pub_allow, &charlie->pub_allow}) {
    EXPECT_FALSE(has(*p, "users.search"));
    EXPECT_FALSE(has(*p, "users.search.*"));
    EXPECT_FALSE(has(*p, "users.search.>"));
    EXPECT_FALSE(has(*p, "users.>"));
  }
  // Translation (translation-service): every user requests only under their own name and pings;
  // the chunks come back on deliver.{user}.translate.response, inside their own deliver.{user}.>.
  EXPECT_TRUE(has(alice->pub_allow, "translate.request.alice"));
  EXPECT_TRUE(has(bob->pub_allow, "translate.request.bob"));
  for (const auto* p : {&alice->pub_allow, &bob->pub_allow, &charlie->pub_allow}) {
    EXPECT_TRUE(has(*p, "translate.ping"));
    EXPECT_FALSE(has(*p, "translate.request.*"));
    EXPECT_FALSE(has(*p, "translate.>"));
    // Nobody publishes translation chunks: only the service (whose identity publishes `>`).
    for (const auto& g : *p) {
      EXPECT_FALSE(g.rfind("deliver.", 0) == 0 && g.find(".translate.") != std::string::npos) << g;
    }
  }
  EXPECT_TRUE(has(charlie->sub_allow, "deliver.charlie.>"));
  EXPECT_FALSE(has(charlie->sub_allow, "deliver.*.translate.response"));

  // Nobody may publish under another user's name.
  for (const auto& p : bob->pub_allow) {
    EXPECT_EQ(p.find("alice"), std::string::npos) << p;
    EXPECT_NE(p, "room.join.*") << "unscoped join";
  }

  const std::vector<std::string> bob_sub = {"deliver.bob.>", "room.notify.*", "room.presence.*",
                                            "_INBOX.bob.>"};
  EXPECT_EQ(alice->sub_allow, (std::vector<std::string>{"deliver.alice.>", "room.notify.*",
                                                        "room.presence.*", "_INBOX.alice.>"}));
  EXPECT_EQ(bob->sub_allow, bob_sub);
  EXPECT_FALSE(has(charlie->sub_allow, "_INBOX.>"));
}

TEST(PermissionsTest, InvalidUsernamesAreRejected) {
  for (const std::string& bad :
       std::vector<std::string>{"", "a.b", "*", ">", "al ice", "bob\t", std::string(65, 'u')}) {
    auto p = PermissionsForRoles(bad, {"admin"});
    ASSERT_FALSE(p.ok()) << "[" << bad << "]";
    EXPECT_EQ(p.status().code(), core::ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(PermissionsForRoles(std::string(64, 'u'), {"user"}).ok());
}

// README.md's catalogue table is generated from subjects.json; this test prints the expected
// table when they differ, so regenerating is a copy-paste.
TEST_F(SubjectsJsonTest, ReadmeTableMatchesSubjectsJson) {
  std::string want =
      "| Template | Pattern | Queue group | Identity | Concurrency | Request → reply | Publish "
      "tiers "
      "| Subscribe tiers |\n"
      "|---|---|---|---|---|---|---|---|\n";
  auto tiers = [](const json& a) {
    std::string out;
    for (const auto& t : a) out += (out.empty() ? "" : ", ") + t.get<std::string>();
    return out.empty() ? std::string("—") : out;
  };
  for (const auto& s : doc_["subjects"]) {
    std::string rr = s["request"].is_null() ? "—" : s["request"].get<std::string>();
    if (!s["reply"].is_null()) rr += " → " + s["reply"].get<std::string>();
    want += "| `" + s["template"].get<std::string>() + "` | " + s["pattern"].get<std::string>() +
            " | " + (s["queue_group"].is_null() ? "—" : s["queue_group"].get<std::string>()) +
            " | " + s["identity"].get<std::string>() + " | " + s["concurrency"].get<std::string>() +
            " | " + rr + " | " + tiers(s["publish_tiers"]) + " | " + tiers(s["subscribe_tiers"]) +
            " |\n";
  }
  std::string readme = ReadFile(fs::path(CHAT_CONTRACTS_DIR) / "README.md");
  const std::string begin = "<!-- catalogue:begin -->\n";
  const std::string end = "<!-- catalogue:end -->";
  auto b = readme.find(begin);
  auto e = readme.find(end);
  ASSERT_NE(b, std::string::npos) << "README.md lacks the catalogue markers";
  ASSERT_NE(e, std::string::npos);
  std::string got = readme.substr(b + begin.size(), e - b - begin.size());
  EXPECT_EQ(got, want) << "expected table:\n" << want;
}

// Issue 11 item 6: every bucket and the stream are bounded, a value fits its bucket, and the
// memory buckets together leave room in the CHAT account's JetStream memory (128 MiB by default,
// libs/nkeys ChatAccountLimits) so one full bucket cannot starve the others.
TEST(QuotasTest, EveryBucketAndTheStreamAreBounded) {
  int64_t memory = 0;
  for (const auto& spec : jetstream::kBuckets) {
    EXPECT_GT(spec.max_bytes, 0) << spec.name;
    EXPECT_GT(spec.max_value_size, 0) << spec.name;
    EXPECT_LE(spec.max_value_size, spec.max_bytes) << spec.name;
    if (spec.storage == jetstream::Storage::kMemory) memory += spec.max_bytes;
  }
  EXPECT_LE(memory, int64_t{128} << 20);
  EXPECT_GT(jetstream::kChatMessagesMaxBytes, 0);
  // A message of the largest legitimate user payload, with its headers, fits the stream and
  // the message cache.
  EXPECT_GT(jetstream::kChatMessagesMaxMsgSize, quotas::kUserMaxPayloadBytes);
  EXPECT_GE(quotas::FindBucket(jetstream::kBucketMsgCache)->max_value_size,
            quotas::kUserMaxPayloadBytes);
}

TEST(QuotasTest, BucketLimitsComeFromTheEnvironmentWithCatalogueDefaults) {
  core::MapEnv env(
      {{"CHAT_KV_MSG_CACHE_MAX_BYTES", "1048576"}, {"CHAT_KV_MSG_CACHE_MAX_VALUE_SIZE", "1024"}});
  core::EnvReader reader(env);
  auto cache = quotas::ReadBucketLimits(reader, jetstream::kBucketMsgCache);
  auto rooms = quotas::ReadBucketLimits(reader, jetstream::kBucketRooms);
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish().ToString();
  EXPECT_EQ(cache.max_bytes, 1048576);
  EXPECT_EQ(cache.max_value_size, 1024);
  EXPECT_EQ(rooms.max_bytes, quotas::FindBucket(jetstream::kBucketRooms)->max_bytes);
  EXPECT_EQ(rooms.max_value_size, 1024);

  core::MapEnv bad({{"CHAT_KV_PRESENCE_MAX_BYTES", "5000"},
                    {"CHAT_KV_PRESENCE_MAX_VALUE_SIZE", "9000"},
                    {"CHAT_KV_ROOMS_MAX_BYTES", "-1"}});
  core::EnvReader bad_reader(bad);
  (void)quotas::ReadBucketLimits(bad_reader, jetstream::kBucketPresence);
  (void)quotas::ReadBucketLimits(bad_reader, jetstream::kBucketRooms);
  (void)quotas::ReadBucketLimits(bad_reader, "NOPE");
  auto st = bad_reader.Finish();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("CHAT_KV_PRESENCE_MAX_VALUE_SIZE exceeds CHAT_KV_PRESENCE_MAX_BYTES"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("CHAT_KV_ROOMS_MAX_BYTES"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("NOPE"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace chat::contracts

namespace chat::contracts {
namespace {

TEST(GrantAuditTest, PatternAlgebra) {
  EXPECT_EQ(IntersectPatterns("chat.history.>", "chat.*.thread.*"), "chat.history.thread.*");
  EXPECT_EQ(IntersectPatterns("chat.history.*", "chat.*.thread.*"), std::nullopt);
  EXPECT_EQ(IntersectPatterns("chat.history.*.thread.*", "chat.*.thread.*"), std::nullopt);
  EXPECT_EQ(IntersectPatterns("deliver.bob.>", "deliver.*.send.*"), "deliver.bob.send.*");
  EXPECT_EQ(IntersectPatterns(">", "a.b"), "a.b");
  EXPECT_EQ(IntersectPatterns("a.>", "a"), std::nullopt) << "'>' needs at least one token";
  EXPECT_EQ(IntersectPatterns("a.*", "*.b"), "a.b");
  EXPECT_EQ(IntersectPatterns("_INBOX.>", "_INBOX.bob.>"), "_INBOX.bob.>");
  EXPECT_TRUE(PatternCovers("a.>", "a.b.c"));
  EXPECT_TRUE(PatternCovers("a.*", "a.b"));
  EXPECT_TRUE(PatternCovers("a.*.c", "a.*.c"));
  EXPECT_FALSE(PatternCovers("a.*", "a.>"));
  EXPECT_FALSE(PatternCovers("a.b", "a.*"));
  EXPECT_FALSE(PatternCovers("chat.history.*", "chat.history.thread.*"));
}

// Issue 11 item 1: every tier's publish and subscribe grants, intersected with every template,
// stream filter, bucket and server namespace, reach only their own templates.
TEST(GrantAuditTest, NoGrantReachesBeyondItsOwnTemplates) {
  for (std::string_view user : {"alice", "bob", "charlie", "auditor"}) {
    for (const auto& overlap : AuditGrants(user)) ADD_FAILURE() << Describe(overlap);
  }
}

// The audit sees what it must: the targets include the stream filters, every bucket and the
// server's own namespaces, so a grant like the old chat.history.> or _INBOX.> would be reported.
TEST(GrantAuditTest, TargetsCoverStreamsBucketsAndServerNamespaces) {
  auto targets = AuditTargets();
  auto has = [&](std::string_view pattern) {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const AuditTarget& t) { return t.pattern == pattern; });
  };
  for (auto filter : jetstream::kChatMessagesSubjects) EXPECT_TRUE(has(filter)) << filter;
  for (const auto& b : jetstream::kBuckets) EXPECT_TRUE(has("$KV." + std::string(b.name) + ".>"));
  for (std::string_view ns : {"$JS.>", "$SYS.>", "_INBOX.>"}) EXPECT_TRUE(has(ns)) << ns;
  EXPECT_TRUE(IntersectPatterns("chat.history.>", "chat.*.thread.*").has_value());
  EXPECT_TRUE(IntersectPatterns("_INBOX.>", "_INBOX.>").has_value());
  EXPECT_FALSE(PatternCovers("_INBOX.bob.>", "_INBOX.>"));
}

}  // namespace
}  // namespace chat::contracts
