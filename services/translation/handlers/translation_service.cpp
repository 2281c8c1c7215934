#include "handlers/translation_service.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "backend/apertium_backend.hpp"
#include "backend/ollama_backend.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::translation_service {
namespace {

namespace subjects = contracts::subjects;
namespace attr = contracts::attr;
using runtime::Dispatcher;
using runtime::RequestContext;

constexpr int kChunkEventEvery = 10;  // observability §4.6: event chunk_published every 10

// The result label of a refusal or failure (metrics.hpp).
std::string_view ResultOf(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kNotFound:           // no such pair
    case core::ErrorCode::kResourceExhausted:  // busy
    case core::ErrorCode::kUnavailable:        // backend down or failing
      return "unavailable";
    default: return "error";
  }
}

}  // namespace

std::size_t CompleteUtf8Prefix(std::string_view text) {
  // Look back at most 3 bytes for the lead byte of a sequence that is not complete yet.
  std::size_t n = text.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    std::size_t len = (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    return len > back ? n - back : n;
  }
  return n;
}

TranslationService::TranslationService(TranslationConfig config,
                                       std::unique_ptr<TranslationBackend> backend,
                                       runtime::Bus& bus, const core::Clock& clock)
    : config_(std::move(config)),
      bus_(bus),
      backend_(std::move(backend)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {
  std::set<std::string> targets;
  for (const auto& p : backend_->Pairs()) {
    targets.insert(p.target);
    if (!languages_text_.empty()) languages_text_ += ", ";
    languages_text_ += p.Name();
  }
  metrics_ = TranslationMetrics::Create(*bus.telemetry().metrics,
                                        std::vector<std::string>(targets.begin(), targets.end()));
}

TranslationService::~TranslationService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  slot_freed_.notify_all();
  if (prober_.joinable()) prober_.join();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<TranslationService>> TranslationService::Create(
    const TranslationConfig& config, runtime::Bus& bus, const core::Clock& clock) {
  std::unique_ptr<TranslationBackend> backend;
  if (config.backend == BackendKind::kOllama) {
    backend = std::make_unique<OllamaBackend>(config.ollama_url, config.ollama_model,
                                              config.ollama_languages, bus.telemetry());
  } else {
    CHAT_ASSIGN_OR_RETURN(backend,
                          ApertiumBackend::Create(config.apertium_bin, config.apertium_data_dir));
  }
  return Create(config, std::move(backend), bus, clock);
}

core::Result<std::unique_ptr<TranslationService>> TranslationService::Create(
    const TranslationConfig& config, std::unique_ptr<TranslationBackend> backend, runtime::Bus& bus,
    const core::Clock& clock) {
  std::unique_ptr<TranslationService> s(
      new TranslationService(config, std::move(backend), bus, clock));
  auto& log = *bus.telemetry().logger;
  log.Info("translation backend configured",
           {{"translate.backend", std::string(s->backend_->name())},
            {"translate.pairs", s->languages_text_}});
  s->RunProbe();
  CHAT_RETURN_IF_ERROR(s->Register());
  s->prober_ = std::thread([raw = s.get()] { raw->ProbeLoop(); });
  return s;
}

core::Status TranslationService::Register() {
  runtime::RouteOptions request_options;
  request_options.metrics = &metrics_->route;
  // One subscription per slot plus the queue: a request beyond the running ones waits (at most
  // queue_wait) on its own subscription thread instead of behind a long translation.
  request_options.concurrency = config_.max_concurrent + config_.queue;
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<runtime::RawPayload>(
      subjects::kTranslateRequest, request_options,
      [this](const runtime::RawPayload& body, RequestContext& ctx) {
        return HandleRequest(body, ctx);
      }));
  runtime::RouteOptions ping_options;
  ping_options.traced = false;  // observability §4.5: translate.ping is never traced
  return dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kTranslatePing, ping_options,
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandlePing(ctx); });
}

bool TranslationService::available() const {
  std::lock_guard lock(mu_);
  return available_;
}

void TranslationService::SetAvailable(bool available, std::string_view reason,
                                      const telemetry::SpanContext& span_ctx) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = available_ != available;
    available_ = available;
  }
  metrics_->available.With({}).Set(available ? 1 : 0);
  if (!changed) return;
  auto& log = *bus_.telemetry().logger;
  if (available) {
    log.Info(span_ctx, "translation backend available",
             {{"translate.backend", std::string(backend_->name())}});
  } else {
    log.Warn(span_ctx, "translation backend unavailable",
             {{"translate.backend", std::string(backend_->name())},
              {"exception.message", std::string(reason)}});
  }
}

void TranslationService::RunProbe() {
  core::Status s = backend_->Probe(telemetry::SpanContext{});
  SetAvailable(s.ok(), s.message(), telemetry::SpanContext{});
}

void TranslationService::ProbeLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (stop_cv_.wait_for(lock, config_.probe_interval, [this] { return stopping_; })) break;
    lock.unlock();
    RunProbe();
    lock.lock();
  }
}

bool TranslationService::AcquireSlot() {
  std::unique_lock lock(mu_);
  bool got = slot_freed_.wait_for(
      lock, config_.queue_wait, [this] { return stopping_ || running_ < config_.max_concurrent; });
  if (!got || stopping_) return false;
  ++running_;
  return true;
}

void TranslationService::ReleaseSlot() {
  {
    std::lock_guard lock(mu_);
    --running_;
  }
  slot_freed_.notify_one();
}

core::Status TranslationService::PublishChunk(RequestContext& ctx,
                                              const contracts::TranslateChunk& chunk) {
  // With the process span's own context, no span per chunk (observability §4.6).
  return ctx.PublishInSpan(subjects::kDeliverTranslate, {ctx.user()}, contracts::ToJson(chunk));
}

core::Result<contracts::TranslatePingReply> TranslationService::HandlePing(RequestContext& ctx) {
  if (ctx.payload().size() > kMaxIgnoredBodyBytes) {
    return core::InvalidArgument("request body exceeds " + std::to_string(kMaxIgnoredBodyBytes) +
                                 " bytes; translate.ping takes none");
  }
  contracts::TranslatePingReply reply;
  reply.available = available();
  for (const auto& p : backend_->Pairs()) reply.languages.push_back({p.source, p.target});
  return reply;
}

core::Status TranslationService::HandleRequest(const runtime::RawPayload& body,
                                               RequestContext& ctx) {
  // Whatever happens below ends with one done:true chunk to the subject's user: the request
  // is a publish, so that chunk is the only answer the client gets.
  contracts::TranslateChunk last;
  last.done = true;
  auto fail = [&](core::Status status) {
    if (ctx.result_override().empty()) ctx.SetResult(ResultOf(status.code()));
    last.translated_text.clear();
    last.error = contracts::ErrorReplyFromStatus(status);
    core::Status sent = PublishChunk(ctx, last);
    if (!sent.ok()) {
      ctx.log().Error(ctx.span_context(), "error chunk could not be published",
                      {{"exception.message", sent.message()}});
    }
    return status;
  };

  auto req = contracts::FromJson<contracts::TranslateRequest>(body.bytes);
  if (!req.ok()) {
    contracts::TranslateEcho echo = contracts::EchoTranslateFields(body.bytes);
    ctx.SetLabel(echo.target_lang);
    last.target_lang = echo.target_lang;
    last.msg_key = echo.msg_key;
    return fail(req.status());
  }
  ctx.SetLabel(req->target_lang);
  last.target_lang = req->target_lang;
  last.msg_key = req->msg_key;
  if (ctx.span().IsRecording()) {
    ctx.span().SetAttribute(attr::kTranslateTargetLang,
                            metrics_->route.subject_label->Of(req->target_lang));
  }
  // ADR 0001: the subject names the user; a body that names another one is refused.
  if (!req->user.empty() && req->user != ctx.user()) {
    return fail(core::InvalidArgument("the body's user does not match the subject's user"));
  }
  if (req->text.size() > config_.max_text_bytes) {
    return fail(
        core::InvalidArgument("text exceeds " + std::to_string(config_.max_text_bytes) + " bytes"));
  }
  LanguagePair pair{req->source_lang.empty() ? config_.default_source : req->source_lang,
                    req->target_lang};
  const auto& pairs = backend_->Pairs();
  if (std::find(pairs.begin(), pairs.end(), pair) == pairs.end()) {
    return fail(
        core::NotFound("no translation from " + pair.source + " to " + pair.target +
                       "; available: " + (languages_text_.empty() ? "none" : languages_text_)));
  }
  if (!AcquireSlot()) {
    return fail(core::ResourceExhausted(
        "the translation service is busy: " + std::to_string(config_.max_concurrent) +
        " translations running and no slot freed within " +
        std::to_string(config_.queue_wait.count()) + " ms; try again later"));
  }
  // The slot comes back and the user gets a final chunk whatever happens inside: a leaked slot
  // would leave the service "busy" for good, and without an error chunk the browser waits for
  // its own timeout.
  class SlotGuard {
   public:
    explicit SlotGuard(TranslationService* service) : service_(service) {}
    ~SlotGuard() { service_->ReleaseSlot(); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;
    SlotGuard(SlotGuard&&) = delete;
    SlotGuard& operator=(SlotGuard&&) = delete;

   private:
    TranslationService* service_;
  };
  SlotGuard slot(this);
  core::Status s;
  try {
    s = Translate(pair, *req, ctx);
  } catch (const std::exception& e) {
    s = core::Internal(std::string("translation failed: ") + e.what());
  }
  if (!s.ok()) return fail(s);
  return core::Status::Ok();
}

core::Status TranslationService::Translate(const LanguagePair& pair,
                                           const contracts::TranslateRequest& req,
                                           RequestContext& ctx) {
  telemetry::Span span = ctx.StartSpan("translate " + pair.Name());
  span.SetAttribute(attr::kTranslateTargetLang, metrics_->route.subject_label->Of(pair.target));
  std::string pending;  // translated text not yet published
  auto last_chunk = std::chrono::steady_clock::now();
  int chunks = 0;
  std::size_t result_bytes = 0;
  core::Status publish_failed;
  contracts::TranslateChunk chunk;
  chunk.target_lang = req.target_lang;
  chunk.msg_key = req.msg_key;

  auto flush = [&](std::size_t n) {
    chunk.translated_text = pending.substr(0, n);
    pending.erase(0, n);
    result_bytes += n;
    core::Status sent = PublishChunk(ctx, chunk);
    if (!sent.ok()) {
      publish_failed = sent;
      return false;
    }
    ++chunks;
    last_chunk = std::chrono::steady_clock::now();
    if (chunks % kChunkEventEvery == 0) {
      ctx.span().AddEvent("chunk_published", {{"chat.translate.chunks", int64_t{chunks}}});
    }
    return true;
  };
  TextSink sink = [&](std::string_view piece) {
    pending.append(piece);
    if (std::chrono::steady_clock::now() - last_chunk < config_.chunk_interval) return true;
    std::size_t n = CompleteUtf8Prefix(pending);
    return n == 0 || flush(n);
  };

  TranslateLimits limits{config_.timeout, config_.max_output_bytes};
  core::Status s = backend_->Translate(pair, req.text, limits, span.Context(), sink);
  // Only the backend failing marks it down for everyone (ping answers unavailable until the next
  // good probe or translation). A timeout may be this request's own long text, and a chunk we
  // could not publish is NATS's fault: either would let one user switch translation off.
  const bool backend_down = publish_failed.ok() && s.code() == core::ErrorCode::kUnavailable;
  if (!publish_failed.ok()) s = publish_failed;
  if (!s.ok()) {
    span.RecordError(core::ErrorCodeName(s.code()), s.message(), "translate", "translation failed");
    if (backend_down) SetAvailable(false, s.message(), span.Context());
    return s;
  }
  SetAvailable(true, "", span.Context());
  // Apertium ends its output with a newline of its own; the chunks carry only the text.
  while (!pending.empty() && (pending.back() == '\n' || pending.back() == '\r')) {
    pending.pop_back();
  }
  chunk.translated_text = std::move(pending);
  result_bytes += chunk.translated_text.size();
  chunk.done = true;
  CHAT_RETURN_IF_ERROR(PublishChunk(ctx, chunk));
  ++chunks;
  ctx.span().SetAttribute("chat.translate.chunks", int64_t{chunks});
  ctx.log().Info(span.Context(), "translation streamed",
                 {{"translate.pair", pair.Name()},
                  {"translate.text_length", static_cast<int64_t>(req.text.size())},
                  {"translate.result_length", static_cast<int64_t>(result_bytes)},
                  {"chat.translate.chunks", int64_t{chunks}}});
  return core::Status::Ok();
}

void TranslationService::Drain(std::chrono::milliseconds timeout) { dispatcher_->Drain(timeout); }

}  // namespace chat::translation_service
