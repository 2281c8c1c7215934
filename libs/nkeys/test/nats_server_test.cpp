// Integration: keys and JWTs from InitOperatorDir drive a real nats-server 2.9 in operator mode
// (random ports, temp dir), and libnats connects with the generated .creds files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include "chat/contracts/permissions.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/nkeys/local_operator.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::nkeys {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// One nats-server in operator mode, JetStream on, random client and monitoring ports.
class OperatorNatsServer {
 public:
  explicit OperatorNatsServer(fs::path dir) : dir_(std::move(dir)) {}
  ~OperatorNatsServer() { Stop(); }
  OperatorNatsServer(const OperatorNatsServer&) = delete;
  OperatorNatsServer& operator=(const OperatorNatsServer&) = delete;

  ::testing::AssertionResult Start(const OperatorSetup& setup) {
    fs::path conf = dir_ / "server.conf";
    std::ofstream(conf) << "host: 127.0.0.1\nport: -1\nhttp: \"127.0.0.1:-1\"\n"
                        << "server_name: nkeys_test\n"
                        << "ports_file_dir: \"" << dir_.string() << "\"\n"
                        << "jetstream {\n  store_dir: \"" << (dir_ / "js").string()
                        << "\"\n  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n"
                        << "include \"" << setup.resolver_conf.filename().string() << "\"\n";
    // resolver.conf sits next to the config file: nats-server resolves includes from there.
    std::error_code ec;
    if (setup.resolver_conf.parent_path() != dir_) {
      fs::copy_file(setup.resolver_conf, dir_ / setup.resolver_conf.filename(),
                    fs::copy_options::overwrite_existing, ec);
      if (ec) return ::testing::AssertionFailure() << "copy resolver.conf: " << ec.message();
    }
    log_ = dir_ / "nats-server.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::string conf_str = conf.string();
    char arg0[] = "nats-server";
    char arg1[] = "-c";
    char* argv[] = {arg0, arg1, conf_str.data(), nullptr};
    int rc = posix_spawnp(&pid_, "nats-server", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return ::testing::AssertionFailure() << "cannot spawn nats-server: " << rc;
    fs::path ports = dir_ / ("nats-server_" + std::to_string(pid_) + ".ports");
    bool ready = testing::WaitFor(
        [&] {
          auto text = ReadTextFile(ports);
          if (!text.ok()) return false;
          auto j = nlohmann::json::parse(*text, nullptr, false);
          if (!j.is_object() || !j.contains("nats") || j["nats"].empty()) return false;
          url_ = j["nats"][0].get<std::string>();
          return true;
        },
        15s);
    if (!ready) return ::testing::AssertionFailure() << "nats-server not ready; log:\n" << Log();
    return ::testing::AssertionSuccess();
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool exited = testing::WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10s);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  const std::string& url() const { return url_; }
  std::string Log() const { return ReadTextFile(log_).ok() ? *ReadTextFile(log_) : ""; }

 private:
  fs::path dir_;
  fs::path log_;
  pid_t pid_ = -1;
  std::string url_;
};

struct ConnDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
using ConnPtr = std::unique_ptr<natsConnection, ConnDeleter>;

// Collects async errors reported by libnats for one connection.
struct ErrorSink {
  std::mutex mu;
  std::vector<natsStatus> errors;
  std::string last_text;
  testing::Latch got;

  static void OnError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
    auto* self = static_cast<ErrorSink*>(closure);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    std::lock_guard lock(self->mu);
    self->errors.push_back(err);
    self->last_text = text != nullptr ? text : "";
    self->got.Set();
  }
};

class NkeysNatsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nkeys_it_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto setup = InitOperatorDir(dir_ / "nats", core::SystemClock::Instance());
    ASSERT_TRUE(setup.ok()) << setup.status().ToString();
    setup_ = *setup;
    server_ = std::make_unique<OperatorNatsServer>(dir_);
    ASSERT_TRUE(server_->Start(setup_));
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  natsStatus Connect(const fs::path& creds, ConnPtr& out, ErrorSink* sink = nullptr) {
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, server_->url().c_str());
    if (s == NATS_OK) s = natsOptions_SetUserCredentialsFromFiles(opts, creds.c_str(), nullptr);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
    if (s == NATS_OK && sink != nullptr) {
      s = natsOptions_SetErrorHandler(opts, &ErrorSink::OnError, sink);
    }
    natsConnection* nc = nullptr;
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    out.reset(nc);
    return s;
  }

  // Mints a CHAT user with the given permissions, signed by the CHAT signing key.
  fs::path MintUser(const std::string& name, Permission pub, Permission sub, int64_t expires,
                    NatsLimits limits = {}) {
    auto signer =
        KeyPair::FromSeed(ReadTextFile(setup_.chat_signing_seed_file).value().substr(0, 58));
    CHAT_CHECK(signer.ok());
    auto user = KeyPair::Generate(KeyType::kUser).value();
    UserClaims claims;
    claims.subject = user.public_key();
    claims.name = name;
    claims.pub = std::move(pub);
    claims.sub = std::move(sub);
    claims.issuer_account = setup_.chat_account_public_key;
    claims.expires = expires;
    claims.limits = limits;
    auto jwt = EncodeUserJwt(claims, *signer, core::SystemClock::Instance());
    CHAT_CHECK(jwt.ok());
    fs::path path = dir_ / (name + ".creds");
    CHAT_CHECK(WriteFileAtomic(path, FormatUserCreds(*jwt, user.Seed()),
                               fs::perms::owner_read | fs::perms::owner_write)
                   .ok());
    return path;
  }

  static int64_t NowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  fs::path dir_;
  OperatorSetup setup_;
  std::unique_ptr<OperatorNatsServer> server_;
};

TEST_F(NkeysNatsServerTest, ServiceCredsPublishSubscribeAndJetStream) {
  ConnPtr nc;
  ASSERT_EQ(Connect(setup_.CredsFile("fanout-service"), nc), NATS_OK)
      << nats_GetLastError(nullptr) << "\n"
      << server_->Log();

  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&raw_sub, nc.get(), "it.hello"), NATS_OK);
  std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)> sub(
      raw_sub, &natsSubscription_Destroy);
  ASSERT_EQ(natsConnection_PublishString(nc.get(), "it.hello", "hi"), NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsSubscription_NextMsg(&msg, sub.get(), 5000), NATS_OK);
  EXPECT_EQ(std::string(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))),
            "hi");
  natsMsg_Destroy(msg);

  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc.get(), nullptr), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "IT_ORDERS";
  const char* subjects[] = {"it.orders.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  jsStreamInfo* si = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  // The CHAT account requires every stream to declare its size (ChatAccountLimits).
  natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
  EXPECT_NE(s, NATS_OK) << "a stream without max_bytes was accepted";
  if (si != nullptr) jsStreamInfo_Destroy(si);
  si = nullptr;
  cfg.MaxBytes = 1 << 20;
  s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
  ASSERT_EQ(s, NATS_OK) << "jerr=" << jerr << " " << nats_GetLastError(nullptr);
  jsStreamInfo_Destroy(si);
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_Publish(&ack, js, "it.orders.1", "x", 1, nullptr, &jerr), NATS_OK);
  EXPECT_EQ(ack->Stream, std::string("IT_ORDERS"));
  EXPECT_EQ(ack->Sequence, 1u);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
}

TEST_F(NkeysNatsServerTest, UserLimitedToOwnSubjectsGetsPermissionViolation) {
  fs::path alice =
      MintUser("alice", {{"deliver.alice.>"}, {}}, {{"deliver.alice.>"}, {}}, NowSeconds() + 300);
  ErrorSink sink;
  ConnPtr nc;
  ASSERT_EQ(Connect(alice, nc, &sink), NATS_OK) << nats_GetLastError(nullptr);

  // The allowed subject works: an admin subscriber sees alice's message.
  ConnPtr admin;
  ASSERT_EQ(Connect(setup_.CredsFile(std::string(kDevAdminUser)), admin), NATS_OK);
  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&raw_sub, admin.get(), "deliver.>"), NATS_OK);
  std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)> sub(
      raw_sub, &natsSubscription_Destroy);
  ASSERT_EQ(natsConnection_Flush(admin.get()), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(nc.get(), "deliver.alice.send.x", "ok"), NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsSubscription_NextMsg(&msg, sub.get(), 5000), NATS_OK);
  EXPECT_STREQ(natsMsg_GetSubject(msg), "deliver.alice.send.x");
  natsMsg_Destroy(msg);

  // The forbidden subject is refused by the server and reported asynchronously.
  ASSERT_EQ(natsConnection_PublishString(nc.get(), "deliver.bob.send.x", "no"), NATS_OK);
  natsConnection_Flush(nc.get());
  ASSERT_TRUE(sink.got.Wait(5s)) << server_->Log();
  {
    std::lock_guard lock(sink.mu);
    ASSERT_FALSE(sink.errors.empty());
    EXPECT_EQ(sink.errors.front(), NATS_NOT_PERMITTED);
    EXPECT_NE(sink.last_text.find("deliver.bob.send.x"), std::string::npos) << sink.last_text;
  }
  // And bob never received it.
  EXPECT_EQ(natsSubscription_NextMsg(&msg, sub.get(), 300), NATS_TIMEOUT);
}

// Issue 11 items 1, 3, 13 on a real server: the permissions auth-service mints from the subject
// catalogue (contracts::PermissionsForRoles) cannot write into the CHAT_MESSAGES stream except
// through the admin channel's own template with the admin's own name, nor into another inbox.
TEST_F(NkeysNatsServerTest, CatalogueGrantsCannotForgeStreamMessagesOrReplies) {
  // The stream exactly as persist-worker creates it, under a service identity.
  ConnPtr service;
  ASSERT_EQ(Connect(setup_.CredsFile("persist-worker"), service), NATS_OK) << server_->Log();
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, service.get(), nullptr), NATS_OK);
  std::unique_ptr<jsCtx, decltype(&jsCtx_Destroy)> js_owner(js, &jsCtx_Destroy);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = contracts::jetstream::kStreamChatMessages.data();
  std::vector<const char*> filters;
  std::vector<std::string> filter_text;
  filters.reserve(std::size(contracts::jetstream::kChatMessagesSubjects));
  filter_text.reserve(std::size(contracts::jetstream::kChatMessagesSubjects));
  for (auto f : contracts::jetstream::kChatMessagesSubjects) filter_text.emplace_back(f);
  for (const auto& f : filter_text) filters.push_back(f.c_str());
  cfg.Subjects = filters.data();
  cfg.SubjectsLen = static_cast<int>(filters.size());
  cfg.Storage = js_MemoryStorage;
  cfg.MaxBytes = 1 << 20;  // the CHAT account requires every stream to declare its size
  jsStreamInfo* si = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK) << jerr;
  jsStreamInfo_Destroy(si);

  auto mint = [&](const std::string& name, const std::vector<std::string>& roles) {
    auto perms = contracts::PermissionsForRoles(name, roles);
    CHAT_CHECK(perms.ok());
    return MintUser(name, {perms->pub_allow, perms->pub_deny}, {perms->sub_allow, {}},
                    NowSeconds() + 300);
  };
  ErrorSink charlie_errors;
  ConnPtr charlie;
  ASSERT_EQ(Connect(mint("charlie", {}), charlie, &charlie_errors), NATS_OK);
  ErrorSink alice_errors;
  ConnPtr alice;
  ASSERT_EQ(Connect(mint("alice", {"admin", "user"}), alice, &alice_errors), NATS_OK);

  const std::string forged =
      R"({"user":"alice","room":"history","text":"forged","timestamp":1,"threadId":"1-alice"})";
  auto publish = [](natsConnection* nc, const std::string& subject, const std::string& body) {
    EXPECT_EQ(
        natsConnection_Publish(nc, subject.c_str(), body.data(), static_cast<int>(body.size())),
        NATS_OK);
    EXPECT_EQ(natsConnection_Flush(nc), NATS_OK);
  };
  auto refused = [&](ErrorSink& sink, const std::string& subject) {
    return testing::WaitFor(
        [&] {
          std::lock_guard lock(sink.mu);
          return sink.last_text.find(subject) != std::string::npos;
        },
        5s);
  };
  // The old chat.history.> grant matched chat.*.thread.*: this was stored as alice's message.
  publish(charlie.get(), "chat.history.thread.1-alice", forged);
  EXPECT_TRUE(refused(charlie_errors, "chat.history.thread.1-alice")) << server_->Log();
  publish(charlie.get(), "_INBOX.alice.x", forged);
  EXPECT_TRUE(refused(charlie_errors, "_INBOX.alice.x"));
  // The request templates themselves still pass (and are not captured by the stream).
  publish(charlie.get(), "chat.history.general", "{}");
  publish(charlie.get(), "chat.history.general.thread.1-alice", "");
  // An admin writes the admin channel only under their own name.
  publish(alice.get(), "admin.chat.bob",
          R"({"user":"bob","room":"__admin__","text":"x","timestamp":2})");
  EXPECT_TRUE(refused(alice_errors, "admin.chat.bob"));
  publish(alice.get(), "admin.chat.alice",
          R"({"user":"alice","room":"__admin__","text":"ok","timestamp":3})");

  // Only the admin's own message reached the stream.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        jsStreamInfo* info = nullptr;
        if (js_GetStreamInfo(&info, js, cfg.Name, nullptr, nullptr) != NATS_OK) return false;
        bool one = info->State.Msgs == 1;
        jsStreamInfo_Destroy(info);
        return one;
      },
      5s));
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, js, cfg.Name, nullptr, nullptr), NATS_OK);
  EXPECT_EQ(info->State.Msgs, 1u);
  EXPECT_EQ(info->State.LastSeq, 1u);
  jsStreamInfo_Destroy(info);
}

TEST_F(NkeysNatsServerTest, ExpiredOrUntrustedJwtIsRefused) {
  fs::path expired = MintUser("old", {{">"}, {}}, {{">"}, {}}, NowSeconds() - 60);
  ConnPtr nc;
  natsStatus s = Connect(expired, nc);
  EXPECT_NE(s, NATS_OK);
  EXPECT_EQ(nc, nullptr);
  EXPECT_NE(std::string(nats_GetLastError(nullptr)).find("Authorization Violation"),
            std::string::npos);

  // A user signed by an account the operator never issued.
  auto rogue_account = KeyPair::Generate(KeyType::kAccount).value();
  auto user = KeyPair::Generate(KeyType::kUser).value();
  UserClaims claims;
  claims.subject = user.public_key();
  claims.name = "rogue";
  claims.pub.allow = {">"};
  auto jwt = EncodeUserJwt(claims, rogue_account, core::SystemClock::Instance());
  ASSERT_TRUE(jwt.ok());
  fs::path rogue = dir_ / "rogue.creds";
  ASSERT_TRUE(WriteFileAtomic(rogue, FormatUserCreds(*jwt, user.Seed()),
                              fs::perms::owner_read | fs::perms::owner_write)
                  .ok());
  ConnPtr nc2;
  EXPECT_NE(Connect(rogue, nc2), NATS_OK);

  // A valid JWT presented with someone else's seed fails the nonce challenge.
  auto valid = ParseUserCreds(ReadTextFile(setup_.CredsFile("room-service")).value()).value();
  fs::path stolen = dir_ / "stolen.creds";
  ASSERT_TRUE(WriteFileAtomic(stolen, FormatUserCreds(valid.jwt, user.Seed()),
                              fs::perms::owner_read | fs::perms::owner_write)
                  .ok());
  ConnPtr nc3;
  EXPECT_NE(Connect(stolen, nc3), NATS_OK);
  EXPECT_NE(std::string(nats_GetLastError(nullptr)).find("Authorization Violation"),
            std::string::npos);
}

TEST_F(NkeysNatsServerTest, InitIsIdempotentAndKeepsSecretsPrivate) {
  auto again = InitOperatorDir(dir_ / "nats", core::SystemClock::Instance());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->generated_keys);
  EXPECT_EQ(again->operator_public_key, setup_.operator_public_key);
  EXPECT_EQ(again->chat_account_public_key, setup_.chat_account_public_key);
  auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  for (const auto& entry : fs::directory_iterator(dir_ / "nats" / "keys")) {
    EXPECT_EQ(fs::status(entry).permissions(), owner_only) << entry.path();
  }
  for (const std::string& name : DefaultServiceAccounts()) {
    fs::path creds = setup_.CredsFile(name);
    ASSERT_TRUE(fs::exists(creds)) << name;
    EXPECT_EQ(fs::status(creds).permissions(), owner_only) << name;
    auto parsed = ParseUserCreds(ReadTextFile(creds).value());
    ASSERT_TRUE(parsed.ok());
    auto decoded = DecodeAndVerifyJwt(parsed->jwt);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->claims["name"], name);
    EXPECT_EQ(decoded->claims["nats"]["issuer_account"], setup_.chat_account_public_key);
  }
  // A deleted creds file comes back on the next run; the others stay untouched.
  std::string before = ReadTextFile(setup_.CredsFile("kb-service")).value();
  fs::remove(setup_.CredsFile("poll-service"));
  ASSERT_TRUE(InitOperatorDir(dir_ / "nats", core::SystemClock::Instance()).ok());
  EXPECT_TRUE(fs::exists(setup_.CredsFile("poll-service")));
  EXPECT_EQ(ReadTextFile(setup_.CredsFile("kb-service")).value(), before);
}

TEST_F(NkeysNatsServerTest, CredsWithAResponsePermissionAreReissuedWithoutIt) {
  // What versions before the nats-server pruneReplyPerms finding wrote for every service.
  fs::path path = setup_.CredsFile("fanout-service");
  auto seed = ReadTextFile(setup_.chat_signing_seed_file);
  ASSERT_TRUE(seed.ok());
  std::string seed_text = *seed;
  while (!seed_text.empty() && seed_text.back() == '\n') seed_text.pop_back();
  auto signer = KeyPair::FromSeed(seed_text);
  ASSERT_TRUE(signer.ok());
  auto user = KeyPair::Generate(KeyType::kUser);
  ASSERT_TRUE(user.ok());
  UserClaims old =
      ServiceAccountClaims("fanout-service", user->public_key(), setup_.chat_account_public_key);
  old.resp = ResponsePermission{kNoLimit, std::chrono::minutes(5)};
  auto jwt = EncodeUserJwt(old, *signer, core::SystemClock::Instance());
  ASSERT_TRUE(jwt.ok());
  ASSERT_TRUE(WriteFileAtomic(path, FormatUserCreds(*jwt, user->Seed()),
                              fs::perms::owner_read | fs::perms::owner_write)
                  .ok());
  std::string untouched = ReadTextFile(setup_.CredsFile("kb-service")).value();

  ASSERT_TRUE(InitOperatorDir(dir_ / "nats", core::SystemClock::Instance()).ok());
  auto parsed = ParseUserCreds(ReadTextFile(path).value());
  ASSERT_TRUE(parsed.ok());
  auto decoded = DecodeAndVerifyJwt(parsed->jwt);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->claims["nats"].contains("resp"));
  EXPECT_EQ(decoded->claims["name"], "fanout-service");
  EXPECT_EQ(ReadTextFile(setup_.CredsFile("kb-service")).value(), untouched);
}

// Issue 11 item 6: the CHAT account's JetStream quotas hold on a real server — a memory stream
// larger than the per-stream cap is refused, and the account reports the configured limits.
TEST_F(NkeysNatsServerTest, ChatAccountJetStreamQuotasAreEnforced) {
  ConnPtr nc;
  ASSERT_EQ(Connect(setup_.CredsFile("fanout-service"), nc), NATS_OK) << nats_GetLastError(nullptr);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc.get(), nullptr), NATS_OK);
  std::unique_ptr<jsCtx, decltype(&jsCtx_Destroy)> js_guard(js, &jsCtx_Destroy);
  jsAccountInfo* ai = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_GetAccountInfo(&ai, js, nullptr, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  const AccountLimits want = ChatAccountLimits();
  EXPECT_EQ(ai->Limits.MaxMemory, want.jetstream.mem_storage);
  EXPECT_EQ(ai->Limits.MaxStore, want.jetstream.disk_storage);
  EXPECT_EQ(ai->Limits.MaxStreams, want.jetstream.streams);
  EXPECT_EQ(ai->Limits.MaxConsumers, want.jetstream.consumer);
  EXPECT_EQ(ai->Limits.MemoryMaxStreamBytes, want.jetstream.mem_max_stream_bytes);
  EXPECT_TRUE(ai->Limits.MaxBytesRequired);
  jsAccountInfo_Destroy(ai);

  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "IT_HOG";
  const char* subjects[] = {"it.hog.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  cfg.MaxBytes = want.jetstream.mem_max_stream_bytes + 1;
  jsStreamInfo* si = nullptr;
  EXPECT_NE(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK) << "over the per-stream cap";
  if (si != nullptr) jsStreamInfo_Destroy(si);
}

// Changed limits rewrite the CHAT account JWT (and resolver.conf) on the next init.
TEST_F(NkeysNatsServerTest, InitRewritesTheAccountJwtWhenLimitsChange) {
  OperatorSetupOptions options;
  options.chat_limits.conn = 7;
  ASSERT_TRUE(InitOperatorDir(dir_ / "nats", core::SystemClock::Instance(), options).ok());
  auto jwt = ReadTextFile(dir_ / "nats" / "accounts" / "CHAT.jwt");
  ASSERT_TRUE(jwt.ok());
  std::string token = *jwt;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  auto decoded = DecodeAndVerifyJwt(token);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->claims["nats"]["limits"]["conn"], 7);
  auto conf = ReadTextFile(dir_ / "nats" / "resolver.conf");
  ASSERT_TRUE(conf.ok());
  EXPECT_NE(conf->find(token), std::string::npos);
}

// Issue 11 item 6: the per-user limits auth-service puts in user JWTs are enforced by nats-server
// 2.9 — a publish over the payload limit is refused, subscriptions beyond the limit are refused
// — while another user of the account keeps publishing and receiving.
TEST_F(NkeysNatsServerTest, UserJwtPayloadAndSubscriptionLimitsAreEnforced) {
  NatsLimits limits;
  limits.subs = 5;
  limits.payload = 1024;
  fs::path mallory =
      MintUser("mallory", {{"it.>"}, {}}, {{"it.>"}, {}}, NowSeconds() + 300, limits);
  fs::path bob = MintUser("bob", {{"it.>"}, {}}, {{"it.>"}, {}}, NowSeconds() + 300, limits);
  ErrorSink mallory_errors, mallory2_errors, bob_errors;
  ConnPtr m, b;
  ASSERT_EQ(Connect(mallory, m, &mallory_errors), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(Connect(bob, b, &bob_errors), NATS_OK) << nats_GetLastError(nullptr);

  // Subscriptions beyond 5 are refused by the server.
  std::vector<std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)>> subs;
  for (int i = 0; i < 7; ++i) {
    natsSubscription* raw = nullptr;
    std::string subject = "it.sub." + std::to_string(i);
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, m.get(), subject.c_str()), NATS_OK);
    subs.emplace_back(raw, &natsSubscription_Destroy);
  }
  natsConnection_Flush(m.get());
  // The server answers -ERR 'maximum subscriptions exceeded' (and logs it).
  auto lower = [](std::string t) {
    for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t;
  };
  auto refused = [&](natsConnection* nc, ErrorSink& sink, std::string_view what) {
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    if (text != nullptr && lower(text).find(what) != std::string::npos) return true;
    std::lock_guard lock(sink.mu);
    return lower(sink.last_text).find(what) != std::string::npos;
  };
  EXPECT_TRUE(testing::WaitFor(
      [&] { return refused(m.get(), mallory_errors, "maximum subscriptions exceeded"); }, 5s))
      << "no refusal for the 6th subscription";
  EXPECT_NE(server_->Log().find("maximum subscriptions exceeded"), std::string::npos);
  subs.clear();

  // A fresh connection of the same user for the payload check.
  ASSERT_EQ(Connect(mallory, m, &mallory2_errors), NATS_OK) << nats_GetLastError(nullptr);

  // bob receives what bob publishes, small and at the limit.
  natsSubscription* raw_bob_sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&raw_bob_sub, b.get(), "it.chat"), NATS_OK);
  std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)> bob_sub(
      raw_bob_sub, &natsSubscription_Destroy);
  ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);

  // The server announces the user's payload limit in its INFO, so the client refuses a bigger
  // publish itself (nats.ws does the same); one that sends it anyway is disconnected by the
  // server ("Maximum Payload Violation"). Nothing reaches bob.
  // The user's limit arrives in an INFO update right after the CONNECT is accepted.
  EXPECT_TRUE(testing::WaitFor([&] { return natsConnection_GetMaxPayload(m.get()) == 1024; }, 5s))
      << natsConnection_GetMaxPayload(m.get());
  std::string big(2000, 'x');
  EXPECT_EQ(natsConnection_Publish(m.get(), "it.chat", big.data(), static_cast<int>(big.size())),
            NATS_MAX_PAYLOAD);

  std::string fits(1000, 'y');
  ASSERT_EQ(natsConnection_Publish(b.get(), "it.chat", fits.data(), static_cast<int>(fits.size())),
            NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsSubscription_NextMsg(&msg, bob_sub.get(), 5000), NATS_OK);
  EXPECT_EQ(natsMsg_GetDataLength(msg), 1000);
  natsMsg_Destroy(msg);
  natsMsg* none = nullptr;
  EXPECT_EQ(natsSubscription_NextMsg(&none, bob_sub.get(), 200), NATS_TIMEOUT);
  std::lock_guard lock(bob_errors.mu);
  EXPECT_TRUE(bob_errors.errors.empty());
}

}  // namespace
}  // namespace chat::nkeys
