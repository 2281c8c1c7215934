// Codec behaviour not expressible as a fixture file: struct-built payloads, limits at their exact
// boundaries, enum mappings, error-reply handling, and what error messages may not contain.
#include <gtest/gtest.h>

#include <string>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/receipts.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/translate.hpp"

namespace chat::contracts {
namespace {

TEST(ActionTest, WireMappingPerObservabilityContract) {
  EXPECT_EQ(*MessageActionFromWire(""), MessageAction::kSend);
  EXPECT_EQ(*MessageActionFromWire("edit"), MessageAction::kEdit);
  EXPECT_EQ(*MessageActionFromWire("delete"), MessageAction::kDelete);
  EXPECT_EQ(*MessageActionFromWire("react"), MessageAction::kReact);
  EXPECT_EQ(*MessageActionFromWire("system"), MessageAction::kSystem);
  for (const char* bad : {"send", "message", "EDIT", "shout", " edit"}) {
    auto a = MessageActionFromWire(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), core::ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(MessageActionName(MessageAction::kSend), "send");
  EXPECT_EQ(MessageActionName(MessageAction::kReact), "react");
}

TEST(ChatMessageTest, AbsentEmptyAndNullActionAreSend) {
  for (const char* text :
       {R"({"user":"bob","text":"x","timestamp":1,"room":"general"})",
        R"({"user":"bob","text":"x","timestamp":1,"room":"general","action":""})",
        R"({"user":"bob","text":"x","timestamp":1,"room":"general","action":null})"}) {
    auto m = FromJson<ChatMessage>(text);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->action, MessageAction::kSend);
    // Send is canonical without the key.
    EXPECT_EQ(ToJson(*m), R"({"user":"bob","text":"x","timestamp":1,"room":"general"})");
  }
}

TEST(ChatMessageTest, BuiltInCodeEncodesTheSystemMdExamplesExactly) {
  ChatMessage msg;
  msg.user = "bob";
  msg.text = "hi @alice";
  msg.timestamp = 1740650000123;
  msg.room = "general";
  msg.mentions = {"alice"};
  EXPECT_EQ(
      ToJson(msg),
      R"({"user":"bob","text":"hi @alice","timestamp":1740650000123,"room":"general","mentions":["alice"]})");

  ChatMessage react;
  react.user = "alice";
  react.timestamp = 1740650000123;
  react.room = "general";
  react.action = MessageAction::kReact;
  react.emoji = "👍";
  react.target_user = "bob";
  EXPECT_EQ(
      ToJson(react),
      R"({"user":"alice","timestamp":1740650000123,"room":"general","action":"react","emoji":"👍","targetUser":"bob"})");
  auto back = FromJson<ChatMessage>(ToJson(react));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, react);
}

TEST(ChatMessageTest, FullThreadReplyRoundTrips) {
  ChatMessage m;
  m.user = "bob";
  m.text = "reply";
  m.timestamp = 1740650000999;
  m.room = "dm-alice-bob";
  m.parent_timestamp = 1740650000123;
  m.thread_id = ThreadId(m.room, m.parent_timestamp);
  m.broadcast = true;
  m.mentions = {"alice"};
  auto back = FromJson<ChatMessage>(ToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->thread_id, "dm-alice-bob-1740650000123");
}

TEST(ChatMessageTest, TextLimitIsExactly4000Bytes) {
  auto make = [](std::size_t n) {
    return R"({"user":"bob","text":")" + std::string(n, 'x') +
           R"(","timestamp":1,"room":"general"})";
  };
  EXPECT_TRUE(FromJson<ChatMessage>(make(4000)).ok());
  auto over = FromJson<ChatMessage>(make(4001));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("'text' exceeds 4000 bytes"), std::string::npos);
  // Bytes, not characters: 1334 three-byte characters = 4002 bytes.
  std::string cjk;
  for (int i = 0; i < 1334; ++i) cjk += "漢";
  EXPECT_FALSE(FromJson<ChatMessage>(R"({"user":"bob","text":")" + cjk +
                                     R"(","timestamp":1,"room":"general"})")
                   .ok());
}

TEST(CodecTest, PayloadLimitIs64KiB) {
  // A TranslateChunk may carry long text; the payload cap applies before parsing.
  auto make = [](std::size_t total) {
    std::string head = R"({"translatedText":")";
    std::string tail = R"(","targetLang":"ja","msgKey":"1-bob","done":true})";
    return head + std::string(total - head.size() - tail.size(), 'x') + tail;
  };
  EXPECT_TRUE(FromJson<TranslateChunk>(make(kMaxPayloadBytes)).ok());
  auto over = FromJson<TranslateChunk>(make(kMaxPayloadBytes + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("payload exceeds 65536 bytes"), std::string::npos);
}

TEST(CodecTest, UnknownFieldsAreIgnored) {
  auto m = FromJson<MsgGetRequest>(R"({"notifyId":"general.1.a.b","future":{"x":[1,2]},"v":2})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ToJson(*m), R"({"notifyId":"general.1.a.b"})");
}

TEST(CodecTest, MessagesNameTheFieldButNeverTheValue) {
  auto m =
      FromJson<ChatMessage>(R"({"user":"top.secret","text":"x","timestamp":1,"room":"general"})");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'user'"), std::string::npos);
  EXPECT_EQ(m.status().message().find("secret"), std::string::npos);
  auto r = FromJson<RoomCreateRequest>(R"({"name":"Hidden-Name"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("Hidden"), std::string::npos);
}

TEST(CodecTest, IntegersMustBeIntegralAndInRange) {
  EXPECT_FALSE(FromJson<HistoryRequest>(R"({"before":1.0})").ok());
  EXPECT_FALSE(FromJson<HistoryRequest>(R"({"before":true})").ok());
  auto big = FromJson<HistoryRequest>(R"({"before":18446744073709551615})");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("out of range"), std::string::npos);
  EXPECT_EQ(FromJson<HistoryRequest>(R"({"before":9223372036854775807})")->before,
            9223372036854775807);
}

TEST(CodecTest, EmptyBodiesWhereTheSubjectCarriesEverything) {
  EXPECT_EQ(FromJson<HistoryRequest>("")->before, 0);
  EXPECT_EQ(FromJson<HistoryRequest>("  \n")->before, 0);
  EXPECT_EQ(ToJson(HistoryRequest{}), "{}");
  EXPECT_TRUE(FromJson<RoomMembershipRequest>("")->user_id.empty());
  EXPECT_TRUE(FromJson<RoomListRequest>("").ok());
  EXPECT_TRUE(FromJson<RoomDepartRequest>("").ok());
  // Bodies that carry data are never empty.
  EXPECT_FALSE(FromJson<ChatMessage>("").ok());
  EXPECT_FALSE(FromJson<PresenceHeartbeat>("").ok());
}

TEST(CodecTest, EncodingInvalidUtf8DoesNotThrow) {
  ChatMessage m;
  m.user = "bob";
  m.text = std::string("bad \xff byte");
  m.timestamp = 1;
  m.room = "general";
  std::string out;
  EXPECT_NO_THROW(out = ToJson(m));
  EXPECT_TRUE(FromJson<ChatMessage>(out).ok());
}

TEST(NotificationTest, SendIsSpelledMessage) {
  Notification n;
  n.notify_id = "general.42.a1b2c3d4.0f1e2d3c4b5a6978";
  n.room = "general";
  n.user = "bob";
  n.timestamp = 1740650000123;
  EXPECT_EQ(
      ToJson(n),
      R"({"notifyId":"general.42.a1b2c3d4.0f1e2d3c4b5a6978","room":"general","action":"message","user":"bob","timestamp":1740650000123})");
  n.action = MessageAction::kEdit;
  auto back = FromJson<Notification>(ToJson(n));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->action, MessageAction::kEdit);
}

TEST(HistoryTest, ReactionsKeepWireOrder) {
  auto m = FromJson<HistoryMessage>(
      R"({"user":"bob","text":"x","timestamp":1,"room":"general","reactions":{"🔥":["carol"],"👍":["alice","bob"]}})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->reactions.size(), 2u);
  EXPECT_EQ(m->reactions[0].emoji, "🔥");
  EXPECT_EQ(m->reactions[1].users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(
      ToJson(*m),
      R"({"user":"bob","text":"x","timestamp":1,"room":"general","reactions":{"🔥":["carol"],"👍":["alice","bob"]}})");
}

TEST(RoomsTest, StructsRoundTrip) {
  RoomInfo info{"project-x", "Project X",
                "alice",     RoomType::kPrivate,
                2,           {{"alice", RoomRole::kOwner}, {"bob", RoomRole::kAdmin}}};
  EXPECT_EQ(*FromJson<RoomInfo>(ToJson(info)), info);
  RoomChanged dm{"dm-alice-bob", RoomChangeAction::kLeave, "bob", RoomType::kDm};
  EXPECT_EQ(*FromJson<RoomChanged>(ToJson(dm)), dm);
  RoomChanged pub{"general", RoomChangeAction::kJoin, "alice", RoomType::kPublic};
  EXPECT_EQ(ToJson(pub), R"({"room":"general","action":"join","userId":"alice"})");
  EXPECT_TRUE(IsReservedRoomName("help"));
  EXPECT_FALSE(IsReservedRoomName("helpdesk"));
}

TEST(PresenceTest, StructsRoundTrip) {
  PresenceDiff diff{PresenceDiffAction::kStatus, "alice", PresenceStatus::kBusy};
  EXPECT_EQ(*FromJson<PresenceDiff>(ToJson(diff)), diff);
  PresenceDiff off{PresenceDiffAction::kOffline, "alice", std::nullopt};
  EXPECT_EQ(ToJson(off), R"({"action":"offline","userId":"alice"})");
  PresenceRoomReply reply{{{"alice", PresenceStatus::kAway}, {"bob", PresenceStatus::kOffline}}};
  EXPECT_EQ(*FromJson<PresenceRoomReply>(ToJson(reply)), reply);
  for (auto s : {PresenceStatus::kOnline, PresenceStatus::kAway, PresenceStatus::kBusy,
                 PresenceStatus::kOffline}) {
    EXPECT_EQ(*PresenceStatusFromName(PresenceStatusName(s)), s);
  }
}

TEST(ReceiptsAndTranslateTest, StructsRoundTrip) {
  ReadStateReply state{{{"alice", 5, std::nullopt}, {"bob", 7, 3}}};
  EXPECT_EQ(*FromJson<ReadStateReply>(ToJson(state)), state);
  TranslateRequest req{"hi", "de", "bob", MessageId(1740650000123, "bob"), "en"};
  EXPECT_EQ(*FromJson<TranslateRequest>(ToJson(req)), req);
  TranslateChunk last{"", "de", "1740650000123-bob", true, std::nullopt};
  EXPECT_EQ(ToJson(last),
            R"({"translatedText":"","targetLang":"de","msgKey":"1740650000123-bob","done":true})");
  TranslateChunk failed{"", "de", "1-bob", true, ErrorReply{core::ErrorCode::kNotFound, "no"}};
  EXPECT_EQ(
      ToJson(failed),
      R"({"translatedText":"","targetLang":"de","msgKey":"1-bob","done":true,"error":{"code":"not_found","message":"no"}})");
  EXPECT_EQ(*FromJson<TranslateChunk>(ToJson(failed)), failed);
  EXPECT_EQ(EchoTranslateFields(R"({"targetLang":"es","msgKey":"1-bob","text":""})").msg_key,
            "1-bob");
  EXPECT_EQ(EchoTranslateFields(R"({"targetLang":"e s","msgKey":7})").target_lang, "");
  EXPECT_EQ(EchoTranslateFields("not json").msg_key, "");
}

TEST(RepliesTest, EveryErrorCodeRoundTrips) {
  for (auto code : {core::ErrorCode::kInvalidArgument, core::ErrorCode::kUnauthenticated,
                    core::ErrorCode::kPermissionDenied, core::ErrorCode::kNotFound,
                    core::ErrorCode::kAlreadyExists, core::ErrorCode::kFailedPrecondition,
                    core::ErrorCode::kResourceExhausted, core::ErrorCode::kDeadlineExceeded,
                    core::ErrorCode::kUnavailable, core::ErrorCode::kInternal}) {
    ErrorReply reply = ErrorReplyFromStatus(core::Status(code, "why"));
    auto back = FromJson<ErrorReply>(ToJson(reply));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->code, code);
    EXPECT_EQ(ToStatus(*back), core::Status(code, "why"));
  }
  EXPECT_EQ(ToJson(ErrorReplyFromStatus(core::NotFound("room not found"))),
            R"({"error":{"code":"not_found","message":"room not found"}})");
  EXPECT_EQ(ErrorReplyFromStatus(core::Status::Ok()).code, core::ErrorCode::kInternal);
}

TEST(RepliesTest, UnknownCodesBecomeInternal) {
  auto e = FromJson<ErrorReply>(R"({"error":{"code":"brand_new_code","message":"m"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, core::ErrorCode::kInternal);
}

TEST(RepliesTest, FromReplyReturnsTheValueOrTheErrorStatus) {
  auto ok = FromReply<OkReply>(R"({"ok":true,"deleted":true})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->deleted);
  auto denied = FromReply<RoomInfo>(R"({"error":{"code":"permission_denied","message":"no"}})");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status(), core::PermissionDenied("no"));
  // The legacy free-text shape is not an error reply; decoding it as T fails cleanly.
  EXPECT_FALSE(IsErrorReply(R"({"error":"not found"})"));
  auto legacy = FromReply<RoomInfo>(R"({"error":"not found"})");
  ASSERT_FALSE(legacy.ok());
  EXPECT_EQ(legacy.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(IsErrorReply("not json"));
}

}  // namespace
}  // namespace chat::contracts

namespace chat::contracts {
namespace {

// Issue 11 item 14: a stickerUrl names an image under the sticker base, nothing else (the web
// client's isAllowedStickerUrl mirrors this; messages.test.ts has the same cases).
TEST(StickerUrlTest, OnlyImagesUnderTheStickerBase) {
  EXPECT_TRUE(IsAllowedStickerUrl("/stickers/cats/wave.svg", "/stickers/"));
  EXPECT_TRUE(
      IsAllowedStickerUrl("https://chat.example/stickers/a.png", "https://chat.example/stickers/"));
  for (std::string_view url :
       {"https://tracker.example/pixel.gif", "/stickers/", "/stickers/../auth/v1/credentials",
        "/stickers/a//b.svg", "/stickers/a.svg?x=1", "/stickers/a.svg#f",
        "//tracker.example/stickers/a.svg", "/stickersx/a.svg", "javascript:alert(1)"}) {
    EXPECT_FALSE(IsAllowedStickerUrl(url, "/stickers/")) << url;
  }
  EXPECT_TRUE(IsValidStickerBaseUrl("/stickers/"));
  EXPECT_TRUE(IsValidStickerBaseUrl("https://cdn.example/s/"));
  for (std::string_view base : {"", "/stickers", "//evil/", "ftp://x/", "https:///", "/a b/"}) {
    EXPECT_FALSE(IsValidStickerBaseUrl(base)) << base;
  }
}

}  // namespace
}  // namespace chat::contracts
