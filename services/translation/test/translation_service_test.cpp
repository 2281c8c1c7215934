// translation-service against a real nats-server (one per test) and real backends: the Debian
// Apertium packages (apertium-eng-spa, apertium-eng-cat; tools/nats-chat/packages.sh) run as
// processes, and an Ollama-compatible HTTP server started here (cpp-httplib) that streams NDJSON
// lines when the test lets it. The service runs in-process on an InMemoryTelemetry; the user
// publishes translate.request.{user} and reads deliver.{user}.translate.response.
#include "handlers/translation_service.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/apertium_backend.hpp"
#include "backend/ollama_backend.hpp"
#include "backend/process.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/contracts/translate.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::translation_service {
namespace {

using namespace std::chrono_literals;
namespace subjects = contracts::subjects;
using core::ErrorCode;

constexpr const char* kApertiumData = "/usr/share/apertium";

// An Ollama-compatible server: /api/tags lists one model; /api/generate streams the NDJSON
// lines of the current script, holding before line `hold_at` until Release() (or Stop()).
class FakeModelServer {
 public:
  enum class Mode { kStream, kStatus500, kMalformed, kNeverEnds };

  FakeModelServer() {
    server_.Get("/api/tags", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"models":[{"name":"translategemma:latest"}]})", "application/json");
    });
    server_.Post("/api/generate", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        traceparent_ = req.get_header_value(std::string(telemetry::semconv::kTraceparentHeader));
        body_ = req.body;
        ++requests_;
      }
      cv_.notify_all();
      Mode mode = mode_;
      if (mode == Mode::kStatus500) {
        res.status = 500;
        res.set_content(R"({"error":"model crashed"})", "application/json");
        return;
      }
      res.set_chunked_content_provider(
          "application/x-ndjson", [this, mode](size_t, httplib::DataSink& sink) {
            auto write = [&](const std::string& line) { sink.write(line.data(), line.size()); };
            if (mode == Mode::kMalformed) {
              write("{\"response\":\"Hola\",\"done\":false}\n");
              write("this is not json\n");
              sink.done();
              return true;
            }
            write("{\"response\":\"Hola, \",\"done\":false}\n");
            write("{\"response\":\"¿qué \",\"done\":false}\n");
            // Hold the stream open until the test has seen the first chunks.
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return released_ || stopped_; });
            if (mode == Mode::kNeverEnds || stopped_) return false;
            lock.unlock();
            write("{\"response\":\"tal?\",\"done\":false}\n");
            write("{\"response\":\"\",\"done\":true}\n");
            sink.done();
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    EXPECT_TRUE(chat::testing::WaitFor([&] { return server_.is_running(); }, 5s));
  }
  ~FakeModelServer() {
    Stop();
    server_.stop();
    thread_.join();
  }
  FakeModelServer(const FakeModelServer&) = delete;
  FakeModelServer& operator=(const FakeModelServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_mode(Mode m) { mode_ = m; }
  // Streams wait at the hold point again (after a Release).
  void Hold() {
    std::lock_guard lock(mu_);
    released_ = false;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool WaitRequests(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return requests_ >= n; });
  }
  std::string traceparent() {
    std::lock_guard lock(mu_);
    return traceparent_;
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<Mode> mode_{Mode::kStream};
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  bool stopped_ = false;
  int requests_ = 0;
  std::string traceparent_;
  std::string body_;
};

class TranslationServiceTest : public chat::testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("translation-service", "");
    ASSERT_NE(service_conn_, nullptr);
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
    alice_ = User("alice");
    ASSERT_NE(alice_, nullptr);
    natsx::SubscribeOptions options;
    options.templates = {subjects::kDeliverTranslate};
    options.pattern = "deliver.alice.translate.response";
    auto sub =
        alice_->Subscribe(options, [this](const natsx::Message& msg, natsx::MessageContext&) {
          auto chunk = contracts::FromJson<contracts::TranslateChunk>(msg.payload());
          std::lock_guard lock(mu_);
          if (chunk.ok()) {
            chunks_.push_back(*chunk);
            auto tp = msg.Header(telemetry::semconv::kTraceparentHeader);
            traceparents_.push_back(tp ? std::string(*tp) : std::string());
          } else {
            undecodable_.push_back(std::string(msg.payload()));
          }
          return core::Status();
        });
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    sub_ = std::move(*sub);
    ASSERT_TRUE(alice_->Flush(5s).ok());
  }

  void TearDown() override {
    if (model_) model_->Stop();
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    sub_.reset();
    alice_.reset();
    service_bus_.reset();
    service_conn_.reset();
    model_.reset();
  }

  TranslationConfig ApertiumConfig() {
    TranslationConfig c;
    c.apertium_data_dir = kApertiumData;
    c.timeout = 20s;
    c.queue_wait = 10s;
    return c;
  }
  TranslationConfig OllamaConfig() {
    model_ = std::make_unique<FakeModelServer>();
    TranslationConfig c;
    c.backend = BackendKind::kOllama;
    c.ollama_url = model_->url();
    c.ollama_languages = {"en", "es", "ja"};
    c.chunk_interval = 0ms;  // every piece is published as it arrives
    c.timeout = 10s;
    return c;
  }
  void Start(const TranslationConfig& config) {
    auto service = TranslationService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }

  void Send(const std::string& body) {
    ASSERT_TRUE(
        alice_->Publish(subjects::kTranslateRequest, {"alice"}, body, telemetry::SpanContext{})
            .ok());
  }
  static std::string Request(const std::string& text, const std::string& target,
                             const std::string& key, const std::string& source = "") {
    contracts::TranslateRequest r;
    r.text = text;
    r.target_lang = target;
    r.msg_key = key;
    r.source_lang = source;
    return contracts::ToJson(r);
  }
  std::vector<contracts::TranslateChunk> ChunksOf(const std::string& key) {
    std::lock_guard lock(mu_);
    std::vector<contracts::TranslateChunk> out;
    for (const auto& c : chunks_) {
      if (c.msg_key == key) out.push_back(c);
    }
    return out;
  }
  // The chunks of `key` once its done:true chunk has arrived (empty on timeout).
  std::vector<contracts::TranslateChunk> WaitDone(const std::string& key) {
    bool done = chat::testing::WaitFor(
        [&] {
          auto cs = ChunksOf(key);
          return !cs.empty() && cs.back().done;
        },
        20s);
    EXPECT_TRUE(done) << "no done:true chunk for " << key;
    return done ? ChunksOf(key) : std::vector<contracts::TranslateChunk>{};
  }
  static std::string Text(const std::vector<contracts::TranslateChunk>& chunks) {
    std::string s;
    for (const auto& c : chunks) s += c.translated_text;
    return s;
  }

  double Counter(std::string_view lang, std::string_view result) {
    return tel_.metrics()
        .AddCounter("translate_requests_total", "", {"target_lang", "result"})
        .With({lang, result})
        .Value();
  }
  bool WaitCounter(std::string_view lang, std::string_view result, double value) {
    return chat::testing::WaitFor([&] { return Counter(lang, result) >= value; }, 10s);
  }
  double Available() {
    return tel_.metrics().AddGauge("translation_backend_available", "").With({}).Value();
  }
  std::optional<telemetry::SpanData> ProcessSpan() {
    for (const auto& s : tel_.Spans()) {
      if (s.name.rfind("process translate.request", 0) == 0) return s;
    }
    return std::nullopt;
  }

  // Expects one final error chunk for `key` with `code`, and returns it.
  contracts::TranslateChunk ExpectErrorChunk(const std::string& key, ErrorCode code) {
    auto chunks = WaitDone(key);
    EXPECT_EQ(chunks.size(), 1u);
    if (chunks.empty()) return {};
    const auto& last = chunks.back();
    EXPECT_TRUE(last.done);
    EXPECT_TRUE(last.translated_text.empty());
    EXPECT_TRUE(last.error.has_value());
    if (last.error) {
      EXPECT_EQ(last.error->code, code) << last.error->message;
    }
    return last;
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<natsx::Connection> alice_;
  std::unique_ptr<natsx::Subscription> sub_;
  std::unique_ptr<TranslationService> service_;
  std::unique_ptr<FakeModelServer> model_;
  std::mutex mu_;
  std::vector<contracts::TranslateChunk> chunks_;
  std::vector<std::string> undecodable_;
  std::vector<std::string> traceparents_;  // of each chunk in chunks_
};

// ---- the process runner and the Apertium backend on their own ----

TEST(ProcessTest, KillsAndReapsAChildPastItsDeadline) {
  ProcessRun run;
  run.argv = {"sleep", "30"};
  run.deadline = std::chrono::steady_clock::now() + 300ms;
  auto started = std::chrono::steady_clock::now();
  auto r = RunProcess(run);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ProcessTest, StopsAChildThatWritesTooMuch) {
  ProcessRun run;
  run.argv = {"yes", "translation"};
  run.deadline = std::chrono::steady_clock::now() + 10s;
  run.max_output_bytes = 10000;
  std::size_t seen = 0;
  run.on_output = [&](std::string_view piece) {
    seen += piece.size();
    return true;
  };
  auto r = RunProcess(run);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_LE(seen, 10000u);
}

TEST(ProcessTest, FeedsStdinAndReportsTheExitStatus) {
  ProcessRun run;
  run.argv = {"sh", "-c", "cat; echo oops >&2; exit 3"};  // a fixed test program, not user input
  run.input = "hello";
  run.deadline = std::chrono::steady_clock::now() + 10s;
  std::string out;
  run.on_output = [&](std::string_view piece) {
    out.append(piece);
    return true;
  };
  auto r = RunProcess(run);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stderr_text, "oops\n");
  auto missing = RunProcess({{"/nonexistent/apertium"}, "", run.deadline, 100, nullptr});
  EXPECT_EQ(missing.status().code(), ErrorCode::kUnavailable);
}

TEST(ApertiumBackendTest, DiscoversTheInstalledPairs) {
  auto modes = ApertiumBackend::DiscoverModes(std::string(kApertiumData) + "/modes");
  std::vector<LanguagePair> pairs;
  for (const auto& m : modes) pairs.push_back(m.pair);
  // apertium-eng-spa and apertium-eng-cat, without the dialect variants.
  EXPECT_EQ(pairs,
            (std::vector<LanguagePair>{{"ca", "en"}, {"en", "ca"}, {"en", "es"}, {"es", "en"}}));
  EXPECT_TRUE(ApertiumBackend::DiscoverModes("/nonexistent").empty());
  EXPECT_EQ(ApertiumBackend::WireTag("spa"), "es");
}

TEST(ApertiumBackendTest, TranslatesSentenceBySentenceWithTheTextIntact) {
  auto backend = ApertiumBackend::Create("apertium", kApertiumData);
  ASSERT_TRUE(backend.ok());
  std::string out;
  int pieces = 0;
  // A NUL inside the text (JSON allows \u0000) must not split or corrupt anything.
  std::string text = "The house is big and the cat is black. Where is the station?\n\nI like ";
  text.push_back('\0');
  text += "books!";
  auto s = (*backend)->Translate({"en", "es"}, text, {}, {}, [&](std::string_view piece) {
    out.append(piece);
    ++pieces;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(pieces, 1);
  EXPECT_EQ(out.find('\0'), std::string::npos);
  EXPECT_NE(out.find("La casa es grande y el gato es negro. "), std::string::npos) << out;
  EXPECT_NE(out.find("canal?\n\n"), std::string::npos) << out;  // paragraph kept
  EXPECT_NE(out.find("libros!"), std::string::npos) << out;
}

TEST(ApertiumBackendTest, AFailingProgramIsUnavailable) {
  auto backend = ApertiumBackend::Create("false", kApertiumData);
  ASSERT_TRUE(backend.ok());
  auto s =
      (*backend)->Translate({"en", "es"}, "Hello.", {}, {}, [](std::string_view) { return true; });
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.ToString();
  EXPECT_EQ((*backend)->Probe({}).code(), ErrorCode::kUnavailable);
  // A program that exits without reading a large input: the write fails with EPIPE instead of
  // SIGPIPE ending the test process (and the service).
  for (int i = 0; i < 20; ++i) {
    auto big = (*backend)->Translate({"en", "es"}, std::string(200000, 'a'), {}, {},
                                     [](std::string_view) { return true; });
    EXPECT_EQ(big.code(), ErrorCode::kUnavailable) << big.ToString();
  }
}

TEST(Utf8Test, ChunksNeverEndInsideACharacter) {
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xC3"), 1u);             // first byte of "é"
  EXPECT_EQ(CompleteUtf8Prefix("a\xC3\xA9"), 3u);         // "aé"
  EXPECT_EQ(CompleteUtf8Prefix("\xE3\x81"), 0u);          // two of three bytes
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x91\x8D"), 4u);  // 👍
}

TEST(ConfigTest, DefaultsAndInvalidSettings) {
  core::MapEnv empty;
  auto c = TranslationConfig::FromEnv(empty);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->backend, BackendKind::kApertium);
  EXPECT_EQ(c->apertium_data_dir, "/usr/share/apertium");
  EXPECT_EQ(c->max_text_bytes, 4000u);
  EXPECT_EQ(c->chunk_interval, 100ms);

  core::MapEnv ollama{{"CHAT_TRANSLATE_BACKEND", "ollama"},
                      {"OLLAMA_URL", "http://models:11434/"},
                      {"CHAT_TRANSLATE_OLLAMA_LANGUAGES", "en, es,zh-TW"}};
  auto o = TranslationConfig::FromEnv(ollama);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->backend, BackendKind::kOllama);
  EXPECT_EQ(o->ollama_url, "http://models:11434");  // system.md's name, trailing '/' dropped
  EXPECT_EQ(o->ollama_languages, (std::vector<std::string>{"en", "es", "zh-TW"}));
  core::MapEnv seven{{"CHAT_TRANSLATE_BACKEND", "ollama"},
                     {"CHAT_TRANSLATE_OLLAMA_LANGUAGES", "en,es,ca,de,pl,ja,hi"}};
  EXPECT_FALSE(TranslationConfig::FromEnv(seven).ok());  // 42 pairs: too many span names

  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"CHAT_TRANSLATE_BACKEND", "google"},
           {"CHAT_TRANSLATE_MAX_TEXT_BYTES", "5000"},
           {"CHAT_TRANSLATE_MAX_CONCURRENT", "0"},
           {"CHAT_TRANSLATE_APERTIUM_DATA_DIR", "relative/dir"},
           {"CHAT_TRANSLATE_OLLAMA_URL", "ftp://x"},
           {"CHAT_TRANSLATE_OLLAMA_MODEL", "a\"b"},
           {"CHAT_TRANSLATE_OLLAMA_LANGUAGES", "en,e_s"},
           {"CHAT_TRANSLATE_DEFAULT_SOURCE", "e n"}}) {
    core::MapEnv bad{{name, value}};
    auto r = TranslationConfig::FromEnv(bad);
    EXPECT_FALSE(r.ok()) << name << "=" << value;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
    }
  }
}

// ---- the service over NATS with Apertium ----

TEST_F(TranslationServiceTest, RoutesMatchTheReadme) {
  Start(ApertiumConfig());
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/translation/README.md"));
}

TEST_F(TranslationServiceTest, TranslatesEnglishToSpanishAsStreamedChunks) {
  Start(ApertiumConfig());
  EXPECT_EQ(Available(), 1.0);  // the start-up probe ran a real translation
  Send(Request("The house is big and the cat is black.", "es", "1740650000123-bob"));
  auto chunks = WaitDone("1740650000123-bob");
  ASSERT_GE(chunks.size(), 1u);
  for (const auto& c : chunks) {
    EXPECT_EQ(c.target_lang, "es");
    EXPECT_FALSE(c.error.has_value());
  }
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_FALSE(chunks[i].done);
  std::string text = Text(chunks);
  EXPECT_NE(text.find("casa"), std::string::npos) << text;
  EXPECT_NE(text.find("gato"), std::string::npos) << text;
  EXPECT_EQ(text.find("house"), std::string::npos) << text;
  ASSERT_TRUE(WaitCounter("es", "ok", 1));
  EXPECT_EQ(Counter("es", "error"), 0);

  auto process = ProcessSpan();
  ASSERT_TRUE(process.has_value());
  EXPECT_EQ(process->kind, telemetry::SpanKind::kConsumer);
  auto run = tel_.FindSpan("translate en-es");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->kind, telemetry::SpanKind::kInternal);
  EXPECT_EQ(run->parent_span_id, process->span_id);
  const auto* lang = telemetry::sdk::FindAttribute(*process, "chat.translate.target_lang");
  ASSERT_NE(lang, nullptr);
  EXPECT_EQ(std::get<std::string>(*lang), "es");
  // Every chunk carries the process span's own context; no span per chunk (observability §4.6).
  EXPECT_FALSE(tel_.FindSpan("publish deliver.{user}.translate.response").has_value());
  std::lock_guard lock(mu_);
  ASSERT_EQ(traceparents_.size(), chunks_.size());
  for (const auto& tp : traceparents_) {
    EXPECT_EQ(tp, "00-" + process->trace_id.Hex() + "-" + process->span_id.Hex() + "-01");
  }
}

TEST_F(TranslationServiceTest, TranslatesToCatalanAndBackToEnglish) {
  Start(ApertiumConfig());
  Send(Request("Good morning, my friend.", "ca", "1-ca"));
  Send(Request("El perro come pan.", "en", "2-en", "es"));
  std::string ca = Text(WaitDone("1-ca"));
  std::string en = Text(WaitDone("2-en"));
  EXPECT_NE(ca.find("amic"), std::string::npos) << ca;
  EXPECT_NE(en.find("dog"), std::string::npos) << en;
  ASSERT_TRUE(WaitCounter("ca", "ok", 1));
  ASSERT_TRUE(WaitCounter("en", "ok", 1));
}

TEST_F(TranslationServiceTest, PingListsTheInstalledPairs) {
  Start(ApertiumConfig());
  auto msg = alice_->Request(subjects::kTranslatePing, {}, "", 5s, telemetry::SpanContext{});
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto reply = contracts::FromReply<contracts::TranslatePingReply>(msg->payload());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->available);
  std::vector<contracts::TranslatePair> want;
  for (const auto& m : ApertiumBackend::DiscoverModes(std::string(kApertiumData) + "/modes")) {
    want.push_back({m.pair.source, m.pair.target});
  }
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(reply->languages, want);
  // Not traced on the service side (observability §4.5): the handler's span ignores the
  // caller's context (a fresh unsampled one, which production's parent-based sampler drops;
  // the test telemetry records everything).
  auto client = tel_.FindSpan("request translate.ping");
  auto server = tel_.FindSpan("process translate.ping");
  ASSERT_TRUE(client.has_value());
  if (server) {
    EXPECT_NE(server->trace_id.Hex(), client->trace_id.Hex());
  }
}

TEST_F(TranslationServiceTest, RefusalsEndWithAnErrorChunkAndAreCounted) {
  Start(ApertiumConfig());
  // A pair the backend does not have.
  Send(Request("Hello.", "xx", "1-pair"));
  auto pair = ExpectErrorChunk("1-pair", ErrorCode::kNotFound);
  EXPECT_EQ(pair.target_lang, "xx");
  ASSERT_TRUE(pair.error.has_value());
  EXPECT_NE(pair.error->message.find("en-es"), std::string::npos) << pair.error->message;
  ASSERT_TRUE(WaitCounter("other", "unavailable", 1));
  Send(Request("Hello.", "es", "1-src", "de"));  // de → es is not installed either
  ExpectErrorChunk("1-src", ErrorCode::kNotFound);
  ASSERT_TRUE(WaitCounter("es", "unavailable", 1));

  // Empty text.
  Send(R"({"text":"","targetLang":"es","msgKey":"2-empty"})");
  auto empty = ExpectErrorChunk("2-empty", ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.target_lang, "es");
  ASSERT_TRUE(WaitCounter("es", "error", 1));

  // Over the length limit.
  Send(Request(std::string(4001, 'a'), "es", "3-long"));
  ExpectErrorChunk("3-long", ErrorCode::kInvalidArgument);
  ASSERT_TRUE(WaitCounter("es", "error", 2));

  // Not JSON: the error chunk cannot name the message.
  Send("{not json");
  ASSERT_TRUE(chat::testing::WaitFor([&] { return !ChunksOf("").empty(); }, 10s));
  auto bad = ChunksOf("");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(bad[0].done);
  ASSERT_TRUE(bad[0].error.has_value());
  EXPECT_EQ(bad[0].error->code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(WaitCounter("other", "error", 1));

  // A body that names another user (ADR 0001).
  Send(R"({"text":"Hello.","targetLang":"es","user":"bob","msgKey":"4-bob"})");
  ExpectErrorChunk("4-bob", ErrorCode::kInvalidArgument);
  ASSERT_TRUE(WaitCounter("es", "error", 3));

  EXPECT_EQ(Counter("es", "ok"), 0);
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(undecodable_.empty());
  }
  // Each refusal is one WARN line and one chat_handler_failures_total increment.
  auto failures = tel_.metrics()
                      .AddCounter("chat_handler_failures_total", "", {"template", "code"})
                      .With({"translate.request.{user}", "invalid_argument"})
                      .Value();
  EXPECT_EQ(failures, 4);
  int warned = 0;
  for (const auto& line : tel_.LogLines()) {
    warned += line.find("request rejected") != std::string::npos;
  }
  EXPECT_GE(warned, 6);
}

// ---- the Ollama-compatible backend ----

TEST_F(TranslationServiceTest, OllamaChunksArriveBeforeTheStreamEndsAndCarryTheTrace) {
  Start(OllamaConfig());
  EXPECT_EQ(Available(), 1.0);  // /api/tags lists translategemma
  Send(Request("Hello, how are you?", "es", "1-stream"));
  // The server holds the stream after two lines: their chunks must already be here.
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        auto cs = ChunksOf("1-stream");
        return Text(cs) == "Hola, ¿qué ";
      },
      10s))
      << Text(ChunksOf("1-stream"));
  for (const auto& c : ChunksOf("1-stream")) EXPECT_FALSE(c.done);
  model_->Release();
  auto chunks = WaitDone("1-stream");
  EXPECT_EQ(Text(chunks), "Hola, ¿qué tal?");
  ASSERT_TRUE(WaitCounter("es", "ok", 1));

  // The prompt names the target language; the request carried the CLIENT span's context.
  EXPECT_NE(model_->body().find("Spanish (es)"), std::string::npos) << model_->body();
  EXPECT_NE(model_->body().find("\"stream\":true"), std::string::npos);
  auto client = tel_.FindSpan("POST /api/generate");
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->kind, telemetry::SpanKind::kClient);
  auto run = tel_.FindSpan("translate en-es");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(client->parent_span_id, run->span_id);
  std::string tp = model_->traceparent();
  EXPECT_EQ(tp, "00-" + client->trace_id.Hex() + "-" + client->span_id.Hex() + "-01");
}

TEST_F(TranslationServiceTest, OllamaFailuresEndWithAnErrorChunk) {
  auto config = OllamaConfig();
  config.timeout = 700ms;
  Start(config);
  model_->set_mode(FakeModelServer::Mode::kStatus500);
  Send(Request("Hello.", "es", "1-500"));
  auto c500 = ExpectErrorChunk("1-500", ErrorCode::kUnavailable);
  ASSERT_TRUE(c500.error.has_value());
  EXPECT_NE(c500.error->message.find("HTTP 500"), std::string::npos) << c500.error->message;
  ASSERT_TRUE(WaitCounter("es", "unavailable", 1));
  EXPECT_EQ(Available(), 0.0);

  model_->set_mode(FakeModelServer::Mode::kMalformed);
  Send(Request("Hello.", "ja", "2-bad"));
  auto bad = WaitDone("2-bad");
  ASSERT_FALSE(bad.empty());
  EXPECT_EQ(Text(bad), "Hola");  // what arrived before the bad line was streamed
  ASSERT_TRUE(bad.back().error.has_value());
  EXPECT_EQ(bad.back().error->code, ErrorCode::kUnavailable);
  EXPECT_NE(bad.back().error->message.find("NDJSON"), std::string::npos);

  // A good translation marks the backend available again; a timeout (maybe this request's own
  // long text) does not mark it down for everyone.
  model_->set_mode(FakeModelServer::Mode::kStream);
  model_->Release();
  Send(Request("Hello.", "es", "3-good"));
  auto good = WaitDone("3-good");
  ASSERT_FALSE(good.empty());
  EXPECT_FALSE(good.back().error.has_value());
  EXPECT_EQ(Available(), 1.0);
  model_->Hold();
  model_->set_mode(FakeModelServer::Mode::kNeverEnds);
  Send(Request("Hello.", "es", "4-slow"));
  auto slow = WaitDone("4-slow");
  ASSERT_FALSE(slow.empty());
  ASSERT_TRUE(slow.back().error.has_value());
  EXPECT_EQ(slow.back().error->code, ErrorCode::kDeadlineExceeded) << slow.back().error->message;
  ASSERT_TRUE(WaitCounter("es", "error", 1));
  EXPECT_EQ(Available(), 1.0);
  auto run = tel_.FindSpans("translate en-es");
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(run.front().status_code, telemetry::StatusCode::kError);
}

TEST_F(TranslationServiceTest, RefusesWhenEverySlotIsBusy) {
  auto config = OllamaConfig();
  config.max_concurrent = 1;
  config.queue = 3;
  config.queue_wait = 300ms;
  Start(config);
  Send(Request("Hello.", "es", "0-first"));
  ASSERT_TRUE(model_->WaitRequests(1));  // the first holds the only slot
  // The 3 other handler threads take one each, wait 300 ms for the slot and are refused; the
  // rest wait in the pool for a thread, then the same.
  constexpr int kMore = 6;
  for (int i = 1; i <= kMore; ++i) Send(Request("Hello again.", "es", std::to_string(i) + "-more"));
  auto refused = [&] {
    int n = 0;
    for (int i = 1; i <= kMore; ++i) {
      auto cs = ChunksOf(std::to_string(i) + "-more");
      n += !cs.empty() && cs.back().error && cs.back().error->code == ErrorCode::kResourceExhausted;
    }
    return n;
  };
  ASSERT_TRUE(chat::testing::WaitFor([&] { return refused() >= 1; }, 10s));
  for (int i = 1; i <= kMore; ++i) {
    auto cs = ChunksOf(std::to_string(i) + "-more");
    if (cs.empty() || !cs.back().error) continue;
    EXPECT_NE(cs.back().error->message.find("busy"), std::string::npos);
  }
  ASSERT_TRUE(WaitCounter("es", "unavailable", 1));
  model_->Release();
  EXPECT_EQ(Text(WaitDone("0-first")), "Hola, ¿qué tal?");
  // Every request ends: translated after the release, or refused as busy.
  int translated = 0;
  for (int i = 1; i <= kMore; ++i) {
    auto cs = WaitDone(std::to_string(i) + "-more");
    ASSERT_FALSE(cs.empty());
    translated += !cs.back().error.has_value();
  }
  EXPECT_EQ(refused() + translated, kMore);
  EXPECT_EQ(Counter("es", "unavailable"), refused());
}

}  // namespace
}  // namespace chat::translation_service
