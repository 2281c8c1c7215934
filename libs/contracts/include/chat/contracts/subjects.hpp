// The subject catalogue of the chat core: every NATS subject template, its queue group, the
// JetStream stream/KV names, and for each template who publishes it, its request/reply types and
// which permission tier may publish or subscribe to it. system.md §3 is the source, with the
// subject changes of docs/adr/0001-identity-on-subjects.md. libs/contracts/subjects.json is the
// same catalogue for the web client and auth-service; contracts_test proves the two agree.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "chat/core/subject.hpp"

namespace chat::contracts {

// Permission tiers of browser users (system.md §2.4): the realm role `admin` → kAdmin, else
// `user` → kUser, else kNone.
enum class Tier : std::uint8_t { kAdmin, kUser, kNone };

// Bit sets of tiers, used by the catalogue below.
using TierMask = std::uint8_t;
inline constexpr TierMask kNoTiers = 0;
inline constexpr TierMask kAdminTier = 1;
inline constexpr TierMask kUserTier = 2;
inline constexpr TierMask kNoRoleTier = 4;
inline constexpr TierMask kRoleTiers = kAdminTier | kUserTier;
inline constexpr TierMask kAllTiers = kAdminTier | kUserTier | kNoRoleTier;

constexpr TierMask TierBit(Tier tier) {
  return static_cast<TierMask>(1U << static_cast<unsigned>(tier));
}

namespace subjects {

// ---- message path (fanout-service, persist-worker) ----
// Ingest: the browser publishes its own messages; only {user} may publish here.
inline constexpr core::SubjectTemplate kDeliverSend{"deliver.{user}.send.{room}"};
inline constexpr core::SubjectTemplate kDeliverSendThread{
    "deliver.{user}.send.{room}.thread.{thread_id}"};
// Accepted messages (captured by CHAT_MESSAGES; fanout's notify path and persist-worker consume).
inline constexpr core::SubjectTemplate kChatRoom{"chat.{room}"};
inline constexpr core::SubjectTemplate kChatThread{"chat.{room}.thread.{thread_id}"};
// Admin channel: admins publish admin.chat directly (system.md §3.2.4).
// The author is the last token (ADR 0001): only that admin's JWT may publish it, so the stored
// author never comes from the body alone.
inline constexpr core::SubjectTemplate kAdminRoom{"admin.{room}.{user}"};
inline constexpr core::SubjectTemplate kMsgGet{"msg.get"};
// Public-room notifications only (ADR 0001); private/DM go per member.
inline constexpr core::SubjectTemplate kRoomNotify{"room.notify.{room}"};
inline constexpr core::SubjectTemplate kDeliverNotify{"deliver.{user}.notify.{room}"};
inline constexpr core::SubjectTemplate kDeliverAdmin{"deliver.{user}.admin.{room}"};
inline constexpr core::SubjectTemplate kDeliverApp{"deliver.{user}.app.{app}.{room}.{event}"};
// App backends' broadcasts (4 tokens), fanned out to room members by fanout.
inline constexpr core::SubjectTemplate kAppEvent{"app.{app}.{room}.{event}"};
// App requests from the bridge carry the user last (ADR 0001), 5 tokens.
inline constexpr core::SubjectTemplate kAppRequest{"app.{app}.{room}.{action}.{user}"};
// The poll backend's own form of kAppRequest (its queue group; the permission is kAppRequest's).
inline constexpr core::SubjectTemplate kAppPollRequest{"app.poll.{room}.{action}.{user}"};
// The same requests as one app backend serves them: the app token is fixed, so the route gets
// that backend's own queue group (browsers are granted kAppRequest's permission, which covers it).
inline constexpr core::SubjectTemplate kAppKbRequest{"app.kb.{room}.{action}.{user}"};
inline constexpr core::SubjectTemplate kAppWhiteboardRequest{
    "app.whiteboard.{room}.{action}.{user}"};

// ---- history-service ----
inline constexpr core::SubjectTemplate kHistory{"chat.history.{room}"};
inline constexpr core::SubjectTemplate kHistoryThread{"chat.history.{room}.thread.{thread_id}"};
// Was chat.dms (ADR 0001: leaves chat.* which CHAT_MESSAGES captures).
inline constexpr core::SubjectTemplate kHistoryDms{"history.dms"};

// ---- room-service ----
inline constexpr core::SubjectTemplate kRoomJoin{"room.join.{room}.{user}"};
inline constexpr core::SubjectTemplate kRoomLeave{"room.leave.{room}.{user}"};
inline constexpr core::SubjectTemplate kRoomChanged{"room.changed.{room}"};
inline constexpr core::SubjectTemplate kRoomMembers{"room.members.{room}"};
inline constexpr core::SubjectTemplate kRoomCreate{"room.create.{user}"};
inline constexpr core::SubjectTemplate kRoomList{"room.list"};
inline constexpr core::SubjectTemplate kRoomInfo{"room.info.{room}"};
inline constexpr core::SubjectTemplate kRoomInvite{"room.invite.{room}.{user}"};
inline constexpr core::SubjectTemplate kRoomKick{"room.kick.{room}.{user}"};
inline constexpr core::SubjectTemplate kRoomDepart{"room.depart.{room}.{user}"};

// ---- presence-service ----
inline constexpr core::SubjectTemplate kPresenceHeartbeat{"presence.heartbeat.{user}"};
inline constexpr core::SubjectTemplate kPresenceDisconnect{"presence.disconnect.{user}"};
inline constexpr core::SubjectTemplate kPresenceUpdate{"presence.update.{user}"};
inline constexpr core::SubjectTemplate kPresenceRoom{"presence.room.{room}"};
// Public-room diffs only (ADR 0001); private/DM diffs go per member.
inline constexpr core::SubjectTemplate kRoomPresence{"room.presence.{room}"};
inline constexpr core::SubjectTemplate kDeliverPresence{"deliver.{user}.presence.{room}"};

// ---- read-receipt-service ----
inline constexpr core::SubjectTemplate kReadUpdate{"read.update.{room}.{user}"};
inline constexpr core::SubjectTemplate kReadState{"read.state.{room}"};

// ---- translation, stickers, user search, app registry (catalogue data; services later) ----
inline constexpr core::SubjectTemplate kTranslateRequest{"translate.request.{user}"};
inline constexpr core::SubjectTemplate kDeliverTranslate{"deliver.{user}.translate.response"};
inline constexpr core::SubjectTemplate kTranslatePing{"translate.ping"};
inline constexpr core::SubjectTemplate kStickerProducts{"stickers.products"};
inline constexpr core::SubjectTemplate kStickerProduct{"stickers.product.{product}"};
inline constexpr core::SubjectTemplate kUsersSearch{"users.search.{user}"};
inline constexpr core::SubjectTemplate kAppsList{"apps.list"};
inline constexpr core::SubjectTemplate kAppsRoom{"apps.room.{room}"};
inline constexpr core::SubjectTemplate kAppsInstall{"apps.install.{room}.{user}"};
inline constexpr core::SubjectTemplate kAppsUninstall{"apps.uninstall.{room}.{user}"};

// ---- replies (auth-service grants; ADR 0001) ----
// Per-user reply inbox prefix: clients set it as their custom inbox prefix, and a read-only
// request whose reply subject is not under _INBOX.{user}. is refused.
inline constexpr core::SubjectTemplate kInbox{"_INBOX.{user}"};

}  // namespace subjects

namespace queue_groups {
inline constexpr std::string_view kFanoutWorkers = "fanout-workers";
inline constexpr std::string_view kMsgGetWorkers = "msg-get-workers";
inline constexpr std::string_view kHistoryWorkers = "history-workers";
inline constexpr std::string_view kRoomWorkers = "room-workers";
inline constexpr std::string_view kRoomMembersWorkers = "room-members-workers";
inline constexpr std::string_view kPresenceWorkers = "presence-workers";
inline constexpr std::string_view kTranslateWorkers = "translate-workers";
inline constexpr std::string_view kAppRegistryWorkers = "app-registry-workers";
// The reference subscribed plainly (system.md §10 item 16: every instance answered every request,
// so two instances sent two replies); one queue group makes instances share the work.
inline constexpr std::string_view kStickerWorkers = "sticker-workers";
// Likewise for users.search.{user} (plain users.search in the reference): one answer per
// request, one IdP call.
inline constexpr std::string_view kUserSearchWorkers = "user-search-workers";
inline constexpr std::string_view kPollWorkers = "poll-workers";
inline constexpr std::string_view kWhiteboardWorkers = "whiteboard-workers";
inline constexpr std::string_view kKbWorkers = "kb-workers";
}  // namespace queue_groups

// JetStream stream, durable consumer and KV bucket names (system.md §4).
namespace jetstream {
inline constexpr std::string_view kStreamChatMessages = "CHAT_MESSAGES";
inline constexpr std::array<std::string_view, 3> kChatMessagesSubjects = {
    "chat.*", "chat.*.thread.*", "admin.*.*"};
inline constexpr std::string_view kDurablePersistWorker = "persist-worker";
// CHAT_MESSAGES bounds (issue 11 item 6): total bytes (file storage) and one stored message
// (payload plus headers: a 64 KiB user payload and its trace headers fit). Overridable in
// persist-worker (CHAT_PERSIST_STREAM_MAX_BYTES / CHAT_PERSIST_STREAM_MAX_MSG_SIZE).
inline constexpr int64_t kChatMessagesMaxBytes = int64_t{1} << 30;  // 1 GiB
inline constexpr int32_t kChatMessagesMaxMsgSize = 128 * 1024;

enum class Storage : std::uint8_t { kFile, kMemory };

struct BucketSpec {
  std::string_view name;
  Storage storage;
  int ttl_seconds;  // 0 = no TTL
  std::string_view key_format;
  // Quotas (issue 11 item 6): the bucket's total bytes and one stored entry's bytes — value
  // plus KV headers (a compare-and-set or delete carries ~60 bytes of them). Defaults; each
  // creating service may override them with KV_{BUCKET}_MAX_BYTES / KV_{BUCKET}_MAX_VALUE_SIZE
  // (contracts/quotas.hpp). Memory buckets together stay well under the CHAT account's
  // JetStream memory limit, so one full bucket cannot starve the others.
  int64_t max_bytes;
  int32_t max_value_size;
};

inline constexpr std::string_view kBucketRooms = "ROOMS";
inline constexpr std::string_view kBucketMsgCache = "MSG_CACHE";
inline constexpr std::string_view kBucketRateLimit = "RATE_LIMIT";
inline constexpr std::string_view kBucketPresence = "PRESENCE";
inline constexpr std::string_view kBucketPresenceConn = "PRESENCE_CONN";
inline constexpr std::string_view kBucketReadState = "READ_STATE";
// kb-service's editing presence (issue 13): one key per page and editor, refreshed by the
// browser while the page is open; the TTL drops editors whose tab went away.
inline constexpr std::string_view kBucketKbEditors = "KB_EDITORS";

inline constexpr std::array<BucketSpec, 7> kBuckets = {{
    {kBucketRooms, Storage::kFile, 0, "{room}.{user}", 128 << 20, 1024},
    {kBucketMsgCache, Storage::kMemory, 300, "{notify_id}", 64 << 20, 65 * 1024},
    {kBucketRateLimit, Storage::kMemory, 120, "{user}.{unix_minute}", 8 << 20, 256},
    {kBucketPresence, Storage::kMemory, 0, "{user}", 8 << 20, 512},
    {kBucketPresenceConn, Storage::kMemory, 45, "{user}.{conn_id}", 8 << 20, 256},
    {kBucketReadState, Storage::kFile, 0, "{user}.{room}", 128 << 20, 512},
    {kBucketKbEditors, Storage::kMemory, 60, "{room}.{page_id}.{user_b64url}", 4 << 20, 256},
}};
}  // namespace jetstream

enum class Pattern : std::uint8_t { kPublish, kRequest, kSubscribe };
std::string_view PatternName(Pattern pattern);  // "publish", "request", "subscribe"

// Where the acting user of a service's route on a template comes from (docs/adr/0001): only
// ever the subject or the reply inbox, never the body. runtime::Dispatcher enforces it.
enum class Identity : std::uint8_t {
  // No user: service-only subjects and broadcast events such as room.changed.{room}.
  kNone,
  // The {user} token of the subject, which only that user's JWT may publish. A body `user` /
  // `userId` must be empty or equal.
  kSubjectUser,
  // Read-only requests: the reply subject must be _INBOX.{user}.… (a user JWT may subscribe only
  // to its own inbox), so a forged request can only ever answer the real user.
  kReplyInbox,
};
std::string_view IdentityName(Identity identity);  // "none", "subject_user", "reply_inbox"

// How many handler threads a service's route on a template gets (natsx::SubscribeOptions::workers).
enum class Concurrency : std::uint8_t {
  kOne,         // one (ordered delivery per instance; cheap handlers)
  kConfigured,  // handlers wait on I/O: the service passes its configured count (queue group)
};

// subjects.json's "concurrency" ("one", "configured"; "identity" uses IdentityName), so tools
// and the web read the whole row from the JSON.
std::string_view ConcurrencyName(Concurrency concurrency);

// One catalogue row. Empty string_views mean "none" (null in subjects.json).
struct SubjectSpec {
  std::string_view name;  // the constant's name, e.g. "kDeliverSend"
  const core::SubjectTemplate* subject;
  Pattern pattern;
  std::string_view publishers;  // comma-separated services; "web" = browsers; "any" = responders
  std::string_view request;     // wire type of the payload/request (README.md lists them)
  std::string_view reply;       // wire type of the reply (requests only)
  std::string_view queue_group;
  // NATS publish permission granted to a browser user for this template ("{user}" is replaced
  // by the username) and the tiers that get it; several templates may share one permission.
  std::string_view publish_permission;
  TierMask publish_tiers;
  // Subscribe permission that lets a browser receive this template, and its tiers.
  std::string_view subscribe_permission;
  TierMask subscribe_tiers;
  // What a service route on this template gets (runtime::Dispatcher reads both; subjects.json
  // carries them as "identity" and "concurrency"; contracts_test derives the identity from
  // publishers and template and checks it).
  Identity identity;
  Concurrency concurrency;
};

inline constexpr std::array kSubjectCatalogue = {
    // clang-format off
    SubjectSpec{"kDeliverSend", &subjects::kDeliverSend, Pattern::kPublish, "web", "ChatMessage", "", queue_groups::kFanoutWorkers, "deliver.{user}.send.>", kRoleTiers, "deliver.{user}.>", kAllTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kDeliverSendThread", &subjects::kDeliverSendThread, Pattern::kPublish, "web", "ChatMessage", "", queue_groups::kFanoutWorkers, "deliver.{user}.send.>", kRoleTiers, "deliver.{user}.>", kAllTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kChatRoom", &subjects::kChatRoom, Pattern::kPublish, "fanout-service,room-service", "ChatMessage", "", queue_groups::kFanoutWorkers, "", kNoTiers, "", kNoTiers, Identity::kNone, Concurrency::kConfigured},
    SubjectSpec{"kChatThread", &subjects::kChatThread, Pattern::kPublish, "fanout-service", "ChatMessage", "", queue_groups::kFanoutWorkers, "", kNoTiers, "", kNoTiers, Identity::kNone, Concurrency::kConfigured},
    SubjectSpec{"kAdminRoom", &subjects::kAdminRoom, Pattern::kPublish, "web", "ChatMessage", "", queue_groups::kFanoutWorkers, "admin.*.{user}", kAdminTier, "", kNoTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kMsgGet", &subjects::kMsgGet, Pattern::kRequest, "web", "MsgGetRequest", "ChatMessage", queue_groups::kMsgGetWorkers, "msg.get", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kConfigured},
    SubjectSpec{"kRoomNotify", &subjects::kRoomNotify, Pattern::kPublish, "fanout-service", "Notification", "", "", "", kNoTiers, "room.notify.*", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kDeliverNotify", &subjects::kDeliverNotify, Pattern::kPublish, "fanout-service", "Notification", "", "", "", kNoTiers, "deliver.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kDeliverAdmin", &subjects::kDeliverAdmin, Pattern::kPublish, "fanout-service", "ChatMessage", "", "", "", kNoTiers, "deliver.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kDeliverApp", &subjects::kDeliverApp, Pattern::kPublish, "fanout-service", "AppEvent", "", "", "", kNoTiers, "deliver.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kAppEvent", &subjects::kAppEvent, Pattern::kPublish, "poll-service,whiteboard-service,kb-service", "AppEvent", "", queue_groups::kFanoutWorkers, "", kNoTiers, "", kNoTiers, Identity::kNone, Concurrency::kConfigured},
    SubjectSpec{"kAppRequest", &subjects::kAppRequest, Pattern::kRequest, "web", "AppRequest", "AppReply", "", "app.*.*.*.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kAppPollRequest", &subjects::kAppPollRequest, Pattern::kRequest, "web", "AppRequest", "AppReply", queue_groups::kPollWorkers, "", kNoTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kAppKbRequest", &subjects::kAppKbRequest, Pattern::kRequest, "web", "KbRequest", "KbReply", queue_groups::kKbWorkers, "", kNoTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kAppWhiteboardRequest", &subjects::kAppWhiteboardRequest, Pattern::kRequest, "web", "AppRequest", "AppReply", queue_groups::kWhiteboardWorkers, "", kNoTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kHistory", &subjects::kHistory, Pattern::kRequest, "web", "HistoryRequest", "HistoryPage", queue_groups::kHistoryWorkers, "chat.history.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kConfigured},
    SubjectSpec{"kHistoryThread", &subjects::kHistoryThread, Pattern::kRequest, "web", "Empty", "HistoryThreadReply", queue_groups::kHistoryWorkers, "chat.history.*.thread.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kConfigured},
    SubjectSpec{"kHistoryDms", &subjects::kHistoryDms, Pattern::kRequest, "web", "Empty", "DmListReply", queue_groups::kHistoryWorkers, "history.dms", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kConfigured},
    SubjectSpec{"kRoomJoin", &subjects::kRoomJoin, Pattern::kPublish, "web", "RoomMembershipRequest", "", queue_groups::kRoomWorkers, "room.join.*.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kRoomLeave", &subjects::kRoomLeave, Pattern::kPublish, "web,presence-service", "RoomMembershipRequest", "", queue_groups::kRoomWorkers, "room.leave.*.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kRoomChanged", &subjects::kRoomChanged, Pattern::kPublish, "room-service", "RoomChanged", "", "", "", kNoTiers, "", kNoTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kRoomMembers", &subjects::kRoomMembers, Pattern::kRequest, "fanout-service", "Empty", "RoomMembersReply", queue_groups::kRoomMembersWorkers, "", kNoTiers, "", kNoTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kRoomCreate", &subjects::kRoomCreate, Pattern::kRequest, "web", "RoomCreateRequest", "RoomInfo", queue_groups::kRoomWorkers, "room.create.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kRoomList", &subjects::kRoomList, Pattern::kRequest, "web", "RoomListRequest", "RoomListReply", queue_groups::kRoomWorkers, "room.list", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kRoomInfo", &subjects::kRoomInfo, Pattern::kRequest, "web", "Empty", "RoomInfo", queue_groups::kRoomWorkers, "room.info.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kRoomInvite", &subjects::kRoomInvite, Pattern::kRequest, "web", "RoomTargetRequest", "OkReply", queue_groups::kRoomWorkers, "room.invite.*.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kRoomKick", &subjects::kRoomKick, Pattern::kRequest, "web", "RoomTargetRequest", "OkReply", queue_groups::kRoomWorkers, "room.kick.*.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kRoomDepart", &subjects::kRoomDepart, Pattern::kRequest, "web", "RoomDepartRequest", "OkReply", queue_groups::kRoomWorkers, "room.depart.*.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kPresenceHeartbeat", &subjects::kPresenceHeartbeat, Pattern::kPublish, "web", "PresenceHeartbeat", "", queue_groups::kPresenceWorkers, "presence.heartbeat.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kPresenceDisconnect", &subjects::kPresenceDisconnect, Pattern::kPublish, "web", "PresenceHeartbeat", "", queue_groups::kPresenceWorkers, "presence.disconnect.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kPresenceUpdate", &subjects::kPresenceUpdate, Pattern::kPublish, "web", "PresenceUpdate", "", queue_groups::kPresenceWorkers, "presence.update.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kPresenceRoom", &subjects::kPresenceRoom, Pattern::kRequest, "web", "Empty", "PresenceRoomReply", "", "presence.room.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kRoomPresence", &subjects::kRoomPresence, Pattern::kPublish, "presence-service", "PresenceDiff", "", "", "", kNoTiers, "room.presence.*", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kDeliverPresence", &subjects::kDeliverPresence, Pattern::kPublish, "presence-service", "PresenceDiff", "", "", "", kNoTiers, "deliver.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kReadUpdate", &subjects::kReadUpdate, Pattern::kPublish, "web", "ReadUpdate", "", "", "read.update.*.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kReadState", &subjects::kReadState, Pattern::kRequest, "web", "Empty", "ReadStateReply", "", "read.state.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kTranslateRequest", &subjects::kTranslateRequest, Pattern::kPublish, "web", "TranslateRequest", "", queue_groups::kTranslateWorkers, "translate.request.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kConfigured},
    SubjectSpec{"kDeliverTranslate", &subjects::kDeliverTranslate, Pattern::kPublish, "translation-service", "TranslateChunk", "", "", "", kNoTiers, "deliver.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    SubjectSpec{"kTranslatePing", &subjects::kTranslatePing, Pattern::kRequest, "web", "Empty", "TranslatePingReply", "", "translate.ping", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kStickerProducts", &subjects::kStickerProducts, Pattern::kRequest, "web", "Empty", "StickerProductList", queue_groups::kStickerWorkers, "stickers.products", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kStickerProduct", &subjects::kStickerProduct, Pattern::kRequest, "web", "Empty", "StickerList", queue_groups::kStickerWorkers, "stickers.product.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kUsersSearch", &subjects::kUsersSearch, Pattern::kRequest, "web", "PlainText", "UserSearchReply", queue_groups::kUserSearchWorkers, "users.search.{user}", kAllTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kAppsList", &subjects::kAppsList, Pattern::kRequest, "web", "Empty", "AppList", queue_groups::kAppRegistryWorkers, "apps.list", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kAppsRoom", &subjects::kAppsRoom, Pattern::kRequest, "web", "Empty", "RoomAppList", queue_groups::kAppRegistryWorkers, "apps.room.*", kAllTiers, "", kNoTiers, Identity::kReplyInbox, Concurrency::kOne},
    SubjectSpec{"kAppsInstall", &subjects::kAppsInstall, Pattern::kRequest, "web", "AppInstallRequest", "OkReply", queue_groups::kAppRegistryWorkers, "apps.install.*.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kAppsUninstall", &subjects::kAppsUninstall, Pattern::kRequest, "web", "AppUninstallRequest", "OkReply", queue_groups::kAppRegistryWorkers, "apps.uninstall.*.{user}", kRoleTiers, "", kNoTiers, Identity::kSubjectUser, Concurrency::kOne},
    SubjectSpec{"kInbox", &subjects::kInbox, Pattern::kSubscribe, "any", "", "", "", "", kNoTiers, "_INBOX.{user}.>", kAllTiers, Identity::kNone, Concurrency::kOne},
    // clang-format on
};

// The catalogue row for a template text ("room.create.{user}"); nullptr if unknown.
const SubjectSpec* FindSubject(std::string_view template_text);

}  // namespace chat::contracts
