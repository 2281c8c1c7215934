// sticker-service against a real nats-server (one per test) and a throwaway PostgreSQL database
// (migrated and seeded: 3 packs, 14 stickers). The service runs in-process as its own Postgres
// role on an InMemoryTelemetry; users request over natsx connections whose inbox prefix is
// _INBOX.{user} (docs/adr/0001).
#include "handlers/sticker_service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/stickers.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/env.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::sticker_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
using core::ErrorCode;

class StickerServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("sticker-service", "");
    ASSERT_NE(service_conn_, nullptr);
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
  }

  void StartService(std::string base_url = "/stickers/") {
    StickerConfig config;
    config.database_url = ServiceDsn("sticker-service");  // its own role, as deployed
    config.base_url = std::move(base_url);
    auto service = StickerService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    service_bus_.reset();
    service_conn_.reset();
  }

  core::Result<natsx::Message> Raw(const core::SubjectTemplate& tmpl, natsx::Args args,
                                   const std::string& body = "") {
    auto client = User("alice");
    if (client == nullptr) return core::Unavailable("no client");
    return client->Request(tmpl, args, body, 5s, telemetry::SpanContext{});
  }
  core::Result<contracts::StickerProductList> Products(const std::string& body = "") {
    auto msg = Raw(subjects::kStickerProducts, {}, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::StickerProductList>(msg->payload());
  }
  core::Result<contracts::StickerList> Pack(const std::string& product,
                                            const std::string& body = "") {
    auto msg = Raw(subjects::kStickerProduct, {product}, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::StickerList>(msg->payload());
  }

  double Counter(std::string_view type, std::string_view result) {
    return tel_.metrics()
        .AddCounter("sticker_requests_total", "", {"type", "result"})
        .With({type, result})
        .Value();
  }
  // The dispatcher counts a request after it sent the reply.
  bool WaitCounter(std::string_view type, std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(type, result) >= value; }, 10s);
  }
  bool HasChild(const telemetry::SpanData& parent, std::string_view name) {
    bool child = false;
    for (const auto& s : tel_.FindSpans(name)) child |= s.parent_span_id == parent.span_id;
    return child;
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<StickerService> service_;
};

std::vector<std::string> Ids(const contracts::StickerList& list) {
  std::vector<std::string> out;
  for (const auto& s : list.stickers) out.push_back(s.id);
  return out;
}

TEST_F(StickerServiceTest, RoutesMatchTheReadme) {
  StartService();
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/sticker/README.md"));
}

TEST_F(StickerServiceTest, ListsThePacksByNameWithSameOriginUrls) {
  StartService();
  auto list = Products();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->products.size(), 3u);
  EXPECT_EQ(list->products[0].id, "party");
  EXPECT_EQ(list->products[0].name, "Party Time");
  EXPECT_EQ(list->products[0].thumbnail_url, "/stickers/party/thumb.svg");
  EXPECT_EQ(list->products[1].id, "pepe-frog");
  EXPECT_EQ(list->products[1].thumbnail_url, "/stickers/pepe-frog/thumb.svg");
  EXPECT_EQ(list->products[2].id, "pusheen");
  EXPECT_EQ(list->products[2].name, "Pusheen Cat");
  ASSERT_TRUE(WaitCounter("products", "ok", 1));
  auto span = tel_.FindSpan("process stickers.products");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kServer);
  EXPECT_TRUE(HasChild(*span, "SELECT sticker_products"));
}

TEST_F(StickerServiceTest, ListsAPacksStickersBySortOrderUnderTheFanoutsStickerBase) {
  StartService();
  auto pepe = Pack("pepe-frog");
  ASSERT_TRUE(pepe.ok()) << pepe.status().ToString();
  EXPECT_EQ(Ids(*pepe), (std::vector<std::string>{"pepe-happy", "pepe-sad", "pepe-angry",
                                                  "pepe-think", "pepe-laugh"}));
  EXPECT_EQ(pepe->stickers[0].image_url, "/stickers/pepe-frog/happy.svg");
  auto party = Pack("party");
  ASSERT_TRUE(party.ok()) << party.status().ToString();
  EXPECT_EQ(Ids(*party), (std::vector<std::string>{"party-popper", "party-dance", "party-cake",
                                                   "party-balloon"}));
  auto pusheen = Pack("pusheen");
  ASSERT_TRUE(pusheen.ok()) << pusheen.status().ToString();
  EXPECT_EQ(pusheen->stickers.size(), 5u);
  // Every URL the catalogue hands out is one fanout-service admits in a sticker message
  // (CHAT_FANOUT_STICKER_BASE_URL defaults to /stickers/).
  for (const auto* list : {&*pepe, &*party, &*pusheen}) {
    for (const auto& s : list->stickers) {
      EXPECT_TRUE(contracts::IsAllowedStickerUrl(s.image_url, "/stickers/")) << s.image_url;
    }
  }
  ASSERT_TRUE(WaitCounter("stickers", "ok", 3));
  auto span = tel_.FindSpan("process stickers.product.{product}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kServer);
  EXPECT_TRUE(HasChild(*span, "SELECT stickers"));
}

// fanout-service loads the catalogue over its own connection (StickerCatalogue), whose replies
// come to the library's default _INBOX.<nuid> inbox rather than a user's: still answered.
TEST_F(StickerServiceTest, AServiceConnectionWithTheDefaultInboxIsAnswered) {
  StartService();
  auto fanout = Connect("fanout-service", "");
  ASSERT_NE(fanout, nullptr);
  auto msg =
      fanout->Request(subjects::kStickerProduct, {"party"}, "", 5s, telemetry::SpanContext{});
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto list = contracts::FromReply<contracts::StickerList>(msg->payload());
  ASSERT_TRUE(list.ok()) << msg->payload();
  EXPECT_EQ(list->stickers.size(), 4u);
}

TEST_F(StickerServiceTest, UrlsFollowTheConfiguredBase) {
  StartService("https://chat.example/static/stickers/");
  auto list = Products();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_FALSE(list->products.empty());
  EXPECT_EQ(list->products[0].thumbnail_url,
            "https://chat.example/static/stickers/party/thumb.svg");
  auto party = Pack("party");
  ASSERT_TRUE(party.ok()) << party.status().ToString();
  EXPECT_EQ(party->stickers[0].image_url, "https://chat.example/static/stickers/party/popper.svg");
}

TEST_F(StickerServiceTest, BadInputGetsAClearErrorIsCountedAndLogged) {
  StartService();
  // Unknown pack: not_found (the reference answered [], which reads as an empty pack).
  auto unknown = Raw(subjects::kStickerProduct, {"chess"});
  ASSERT_TRUE(unknown.ok());
  auto reply = contracts::FromJson<contracts::ErrorReply>(unknown->payload());
  ASSERT_TRUE(reply.ok()) << unknown->payload();
  EXPECT_EQ(reply->code, ErrorCode::kNotFound);
  EXPECT_EQ(reply->message, "unknown sticker pack");
  // Malformed and oversized pack ids; a body where none is taken (both subjects).
  auto upper = Pack("Pepe");
  EXPECT_EQ(upper.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(upper.status().message().find("sticker pack id may contain only a-z, 0-9 and '-'"),
            std::string::npos)
      << upper.status().message();
  auto long_id = Pack(std::string(65, 'a'));
  EXPECT_EQ(long_id.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(long_id.status().message().find("sticker pack id must be 1-64 bytes"),
            std::string::npos)
      << long_id.status().message();
  const std::string big(kMaxIgnoredBodyBytes + 1, 'x');
  EXPECT_EQ(Pack("party", big).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Products(big).status().code(), ErrorCode::kInvalidArgument);
  // A small body is ignored, as the contract says.
  EXPECT_TRUE(Products("{}").ok());

  ASSERT_TRUE(WaitCounter("stickers", "invalid", 4));
  ASSERT_TRUE(WaitCounter("products", "invalid", 1));
  EXPECT_EQ(Counter("stickers", "error"), 0);
  EXPECT_EQ(Counter("products", "error"), 0);
  EXPECT_EQ(Counter("stickers", "ok"), 0);
  // One WARN line per refusal (the dispatcher), and the spans stay UNSET with error.type.
  int warns = 0;
  for (const auto& r : tel_.LogRecords()) warns += r.level == telemetry::LogLevel::kWarn ? 1 : 0;
  EXPECT_GE(warns, 5);
  for (const auto& s : tel_.FindSpans("process stickers.product.{product}")) {
    EXPECT_NE(s.status_code, telemetry::StatusCode::kError);
    EXPECT_TRUE(sdk::StringAttribute(s, telemetry::semconv::kErrorType).has_value());
  }
}

TEST_F(StickerServiceTest, AnEmptyPackIsAnEmptyListNotAnError) {
  Sql("INSERT INTO sticker_products (id, name, thumbnail) VALUES ('empty', 'Empty', "
      "'empty/thumb.svg')");
  StartService();
  auto empty = Pack("empty");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->stickers.empty());
  auto list = Products();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->products.size(), 4u);
}

// The 0006 constraints keep absolute or escaping paths out of the tables; should a row get past
// them (constraint dropped by hand), the service still never hands out its URL.
TEST_F(StickerServiceTest, RowsWithUnusablePathsAreSkippedAndLogged) {
  Sql("ALTER TABLE stickers DROP CONSTRAINT stickers_image_file_relative");
  Sql("INSERT INTO stickers (id, product_id, image_file, sort_order) VALUES ('party-pixel', "
      "'party', '../../auth/x.gif', 9)");
  StartService();
  auto party = Pack("party");
  ASSERT_TRUE(party.ok()) << party.status().ToString();
  EXPECT_EQ(Ids(*party), (std::vector<std::string>{"party-popper", "party-dance", "party-cake",
                                                   "party-balloon"}));
  bool logged = false;
  for (const auto& r : tel_.LogRecords()) {
    logged |= r.level == telemetry::LogLevel::kError &&
              r.body == "sticker row with an unusable image path skipped";
  }
  EXPECT_TRUE(logged);
  ASSERT_TRUE(WaitCounter("stickers", "ok", 1));
}

TEST_F(StickerServiceTest, DatabaseFailureIsAnErrorReplyAndCountedAsError) {
  StartService();
  Sql("REVOKE SELECT ON stickers FROM \"sticker-service\"");
  auto party = Pack("party");
  EXPECT_FALSE(party.ok());
  EXPECT_NE(party.status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(WaitCounter("stickers", "error", 1));
}

TEST(StickerConfigTest, BaseUrlIsNormalisedAndValidated) {
  core::MapEnv env{{"DATABASE_URL", "postgresql://sticker-service@localhost/chatdb"}};
  auto c = StickerConfig::FromEnv(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->base_url, "/stickers/");
  EXPECT_EQ(c->db_pool_size, 2u);
  for (const auto& [in, want] : std::vector<std::pair<std::string, std::string>>{
           {"/stickers/", "/stickers/"},
           {"/static/stickers//", "/static/stickers/"},
           {"https://cdn.example/s", "https://cdn.example/s/"}}) {
    env.Set("CHAT_STICKER_BASE_URL", in);
    auto got = StickerConfig::FromEnv(env);
    ASSERT_TRUE(got.ok()) << in << ": " << got.status().ToString();
    EXPECT_EQ(got->base_url, want) << in;
  }
  for (const char* bad : {"//evil.example/s", "ftp://x/s", "stickers", "/a b", "/s?x=1"}) {
    env.Set("CHAT_STICKER_BASE_URL", bad);
    EXPECT_EQ(StickerConfig::FromEnv(env).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  core::MapEnv no_db;
  EXPECT_EQ(StickerConfig::FromEnv(no_db).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace chat::sticker_service
