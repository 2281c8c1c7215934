// Golden fixtures (libs/contracts/fixtures/<Type>/): every ok case decodes, re-encodes to the same
// JSON value and byte-for-byte canonical text; every invalid case fails with invalid_argument and
// the message listed in its manifest. The web client's Vitest suite reads the same files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/kb.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/polls.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/receipts.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/stickers.hpp"
#include "chat/contracts/translate.hpp"
#include "chat/contracts/users.hpp"
#include "chat/contracts/whiteboard.hpp"

namespace chat::contracts {
namespace {

namespace fs = std::filesystem;

// Decode then re-encode; the error status when decoding fails.
using RoundTrip = std::function<core::Result<std::string>(std::string_view)>;

template <typename T>
RoundTrip Codec() {
  return [](std::string_view text) -> core::Result<std::string> {
    auto decoded = FromJson<T>(text);
    if (!decoded.ok()) return decoded.status();
    std::string encoded = ToJson(*decoded);
    // Decoding the canonical form must give the same struct (encode/decode are inverse).
    auto again = FromJson<T>(encoded);
    if (!again.ok() || !(*again == *decoded)) {
      return core::Internal("re-decoding the canonical form changed the value");
    }
    return encoded;
  };
}

const std::map<std::string, RoundTrip>& Codecs() {
  static const auto* codecs = new std::map<std::string, RoundTrip>{
      {"ChatMessage", Codec<ChatMessage>()},
      {"Notification", Codec<Notification>()},
      {"MsgGetRequest", Codec<MsgGetRequest>()},
      {"HistoryRequest", Codec<HistoryRequest>()},
      {"HistoryMessage", Codec<HistoryMessage>()},
      {"HistoryPage", Codec<HistoryPage>()},
      {"HistoryThreadReply", Codec<HistoryThreadReply>()},
      {"DmListReply", Codec<DmListReply>()},
      {"RoomChanged", Codec<RoomChanged>()},
      {"RoomMember", Codec<RoomMember>()},
      {"RoomInfo", Codec<RoomInfo>()},
      {"RoomMembershipRequest", Codec<RoomMembershipRequest>()},
      {"RoomCreateRequest", Codec<RoomCreateRequest>()},
      {"RoomListRequest", Codec<RoomListRequest>()},
      {"RoomTargetRequest", Codec<RoomTargetRequest>()},
      {"RoomDepartRequest", Codec<RoomDepartRequest>()},
      {"RoomListReply", Codec<RoomListReply>()},
      {"RoomMembersReply", Codec<RoomMembersReply>()},
      {"PresenceHeartbeat", Codec<PresenceHeartbeat>()},
      {"PresenceUpdate", Codec<PresenceUpdate>()},
      {"PresenceDiff", Codec<PresenceDiff>()},
      {"PresenceEntry", Codec<PresenceEntry>()},
      {"PresenceRoomReply", Codec<PresenceRoomReply>()},
      {"ReadUpdate", Codec<ReadUpdate>()},
      {"ReadStateEntry", Codec<ReadStateEntry>()},
      {"ReadStateReply", Codec<ReadStateReply>()},
      {"TranslateRequest", Codec<TranslateRequest>()},
      {"TranslateChunk", Codec<TranslateChunk>()},
      {"TranslatePingReply", Codec<TranslatePingReply>()},
      {"ErrorReply", Codec<ErrorReply>()},
      {"OkReply", Codec<OkReply>()},
      {"AppList", Codec<AppList>()},
      {"RoomAppList", Codec<RoomAppList>()},
      {"AppInstallRequest", Codec<AppInstallRequest>()},
      {"AppUninstallRequest", Codec<AppUninstallRequest>()},
      {"StickerProductList", Codec<StickerProductList>()},
      {"StickerList", Codec<StickerList>()},
      {"UserSearchReply", Codec<UserSearchReply>()},
      {"PollRequest", Codec<PollRequest>()},
      {"PollRef", Codec<PollRef>()},
      {"PollList", Codec<PollList>()},
      {"PollResults", Codec<PollResults>()},
      {"KbRequest", Codec<KbRequest>()},
      {"KbPageSummary", Codec<KbPageSummary>()},
      {"KbPageList", Codec<KbPageList>()},
      {"KbPageCreated", Codec<KbPageCreated>()},
      {"KbPage", Codec<KbPage>()},
      {"KbPresence", Codec<KbPresence>()},
      {"WhiteboardElement", Codec<WhiteboardElement>()},
      {"WhiteboardCreateRequest", Codec<WhiteboardCreateRequest>()},
      {"WhiteboardBoardRequest", Codec<WhiteboardBoardRequest>()},
      {"WhiteboardDeltaRequest", Codec<WhiteboardDeltaRequest>()},
      {"WhiteboardSummary", Codec<WhiteboardSummary>()},
      {"WhiteboardListReply", Codec<WhiteboardListReply>()},
      {"WhiteboardCreateReply", Codec<WhiteboardCreateReply>()},
      {"WhiteboardBoard", Codec<WhiteboardBoard>()},
      {"WhiteboardSync", Codec<WhiteboardSync>()},
  };
  return *codecs;
}

fs::path FixturesDir() { return fs::path(CHAT_CONTRACTS_DIR) / "fixtures"; }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::set<std::string> JsonStems(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json" &&
        e.path().filename() != "manifest.json") {
      out.insert(e.path().stem().string());
    }
  }
  return out;
}

TEST(FixturesTest, EveryCodecHasOkAndInvalidFixturesAndNoStrayDirectories) {
  std::set<std::string> dirs;
  for (const auto& e : fs::directory_iterator(FixturesDir())) {
    if (e.is_directory()) dirs.insert(e.path().filename().string());
  }
  for (const auto& [type, codec] : Codecs()) {
    EXPECT_TRUE(dirs.count(type)) << "no fixtures for " << type;
    EXPECT_FALSE(JsonStems(FixturesDir() / type).empty()) << "no ok fixture for " << type;
    EXPECT_FALSE(JsonStems(FixturesDir() / type / "invalid").empty())
        << "no invalid fixture for " << type;
  }
  for (const auto& d : dirs) EXPECT_TRUE(Codecs().count(d)) << "fixtures for unknown type " << d;
}

TEST(FixturesTest, OkFixturesRoundTripToCanonicalJson) {
  int checked = 0;
  for (const auto& [type, codec] : Codecs()) {
    for (const auto& stem : JsonStems(FixturesDir() / type)) {
      SCOPED_TRACE(type + "/" + stem);
      std::string text = TrimNewline(ReadFile(FixturesDir() / type / (stem + ".json")));
      auto encoded = codec(text);
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      auto want = nlohmann::json::parse(text, nullptr, false);
      auto got = nlohmann::json::parse(*encoded, nullptr, false);
      ASSERT_FALSE(want.is_discarded());
      EXPECT_EQ(got, want) << "re-encoded: " << *encoded;
      // Fixtures are stored in canonical form, so the bytes match too (proves key order).
      EXPECT_EQ(*encoded, text);
      ++checked;
    }
  }
  EXPECT_GE(checked, 60);
}

TEST(FixturesTest, InvalidFixturesFailWithTheManifestMessage) {
  int checked = 0;
  for (const auto& [type, codec] : Codecs()) {
    fs::path dir = FixturesDir() / type / "invalid";
    auto manifest = nlohmann::json::parse(ReadFile(dir / "manifest.json"), nullptr, false);
    ASSERT_TRUE(manifest.is_object()) << type << ": invalid/manifest.json missing or not an object";
    std::set<std::string> listed;
    for (const auto& [stem, expected] : manifest.items()) {
      SCOPED_TRACE(type + "/invalid/" + stem);
      listed.insert(stem);
      ASSERT_TRUE(fs::exists(dir / (stem + ".json"))) << "manifest names a missing file";
      auto result = codec(TrimNewline(ReadFile(dir / (stem + ".json"))));
      ASSERT_FALSE(result.ok()) << "decoded: " << *result;
      EXPECT_EQ(result.status().code(), core::ErrorCode::kInvalidArgument);
      EXPECT_NE(result.status().message().find(expected.get<std::string>()), std::string::npos)
          << "message: " << result.status().message();
      ++checked;
    }
    EXPECT_EQ(listed, JsonStems(dir)) << type << ": manifest and files differ";
  }
  EXPECT_GE(checked, 70);
}

// The exact examples printed in system.md §3.2.1 and §3.2.2 are fixtures, so the spec's payloads
// stay valid examples of our wire format.
TEST(FixturesTest, SystemMdExamplesAreFixtures) {
  EXPECT_EQ(
      TrimNewline(ReadFile(FixturesDir() / "ChatMessage" / "new_message.json")),
      R"({"user":"bob","text":"hi @alice","timestamp":1740650000123,"room":"general","mentions":["alice"]})");
  EXPECT_EQ(
      TrimNewline(ReadFile(FixturesDir() / "ChatMessage" / "reaction.json")),
      R"({"user":"alice","timestamp":1740650000123,"room":"general","action":"react","emoji":"👍","targetUser":"bob"})");
  EXPECT_EQ(
      TrimNewline(ReadFile(FixturesDir() / "Notification" / "message.json")),
      R"({"notifyId":"general.42.a1b2c3d4.0f1e2d3c4b5a6978","room":"general","action":"message","user":"bob","timestamp":1740650000123})");
}

// Every type subjects.json names has a C++ codec (and fixtures) or is declared data-only.
TEST(FixturesTest, SubjectsJsonTypesHaveCodecsOrAreDataOnly) {
  auto doc = nlohmann::json::parse(ReadFile(fs::path(CHAT_CONTRACTS_DIR) / "subjects.json"),
                                   nullptr, false);
  ASSERT_TRUE(doc.is_object());
  std::set<std::string> data_only;
  for (const auto& t : doc["data_only_types"]) data_only.insert(t.get<std::string>());
  for (const auto& t : data_only) EXPECT_FALSE(Codecs().count(t)) << t << " has a codec";
  for (const auto& s : doc["subjects"]) {
    for (const char* key : {"request", "reply"}) {
      if (s[key].is_null()) continue;
      auto type = s[key].get<std::string>();
      EXPECT_TRUE(Codecs().count(type) || data_only.count(type))
          << s["template"] << " names unknown type " << type;
    }
  }
}

}  // namespace
}  // namespace chat::contracts
