#include "handlers/read_receipt_service.hpp"

#include <utility>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::read_receipt_service {
namespace {

namespace attr = contracts::attr;
using runtime::Dispatcher;
using runtime::RequestContext;

std::string PositionValue(std::int64_t last_read) {
  contracts::ReadUpdate v;
  v.last_read = last_read;
  return contracts::ToJson(v);  // {"lastRead":n}: userId is omitted when empty
}

}  // namespace

std::string ReadStateKey(std::string_view user, std::string_view room) {
  return std::string(user) + "." + std::string(room);
}

std::optional<std::pair<std::string, std::string>> SplitReadStateKey(std::string_view key) {
  size_t dot = key.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == key.size()) return std::nullopt;
  return std::make_pair(std::string(key.substr(0, dot)), std::string(key.substr(dot + 1)));
}

ReadReceiptService::ReadReceiptService(ReadReceiptConfig config, runtime::Bus& bus,
                                       const core::Clock& clock)
    : config_(std::move(config)),
      telemetry_(bus.telemetry()),
      metrics_(ReadReceiptMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

ReadReceiptService::~ReadReceiptService() {
  if (members_) members_->Stop();
  dispatcher_.reset();
  StopFlusher();
}

core::Result<std::unique_ptr<ReadReceiptService>> ReadReceiptService::Create(
    const ReadReceiptConfig& config, runtime::Bus& bus, const core::Clock& clock) {
  std::unique_ptr<ReadReceiptService> s(new ReadReceiptService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, ReceiptRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));

  CHAT_ASSIGN_OR_RETURN(s->read_state_, s->js_->CreateKeyValue(s->ReadStateBucket()));
  CHAT_RETURN_IF_ERROR(s->LoadState());
  // Deltas first, then hydrate: the mirror buffers deltas that race the hydration (§3.8). After a
  // reconnect READ_STATE is re-created too: its handle is name-based, so making sure the bucket
  // exists is the whole re-bind.
  CHAT_ASSIGN_OR_RETURN(s->members_,
                        membership::RoomMembers::Start(
                            bus, *s->js_, *s->dispatcher_, config.rooms_limits, [raw = s.get()] {
                              return raw->js_->CreateKeyValue(raw->ReadStateBucket()).status();
                            }));
  CHAT_RETURN_IF_ERROR(s->Register());
  s->flusher_ = std::thread([raw = s.get()] { raw->FlushLoop(); });
  return s;
}

runtime::KeyValueConfig ReadReceiptService::ReadStateBucket() const {
  runtime::KeyValueConfig c;
  c.bucket = std::string(contracts::jetstream::kBucketReadState);
  c.max_bytes = config_.read_state_limits.max_bytes;
  c.max_value_size = config_.read_state_limits.max_value_size;
  return c;
}

core::Status ReadReceiptService::LoadState() {
  // Postgres holds what was flushed; READ_STATE may hold newer positions that a previous
  // instance accepted but did not flush. The larger value wins; KV-newer keys are dirty (so they
  // reach Postgres), DB-newer keys are written back to KV.
  CHAT_ASSIGN_OR_RETURN(std::vector<ReadPosition> rows, repo_->LoadAll(telemetry::SpanContext{}));
  std::map<Key, std::int64_t> from_db;
  for (auto& row : rows) from_db[{row.user, row.room}] = row.last_read;

  std::map<Key, std::int64_t> from_kv;
  CHAT_ASSIGN_OR_RETURN(auto watcher, read_state_->Watch("", telemetry::SpanContext{}));
  for (;;) {
    bool timed_out = false;
    CHAT_ASSIGN_OR_RETURN(auto entry, watcher->Next(std::chrono::seconds(5), &timed_out));
    if (!entry.has_value()) {
      if (timed_out) return core::Unavailable("timed out reading READ_STATE");
      break;
    }
    if (entry->operation != runtime::KvEntry::Operation::kPut) continue;
    auto key = SplitReadStateKey(entry->key);
    auto value = contracts::FromJson<contracts::ReadUpdate>(entry->value);
    if (!key.has_value() || !value.ok()) continue;  // not ours to interpret; left untouched
    from_kv[*key] = value->last_read;
  }
  watcher->Stop();

  std::lock_guard<std::mutex> lock(state_mu_);
  positions_ = from_db;
  size_t written_back = 0;
  for (const auto& [key, db_value] : from_db) {
    auto it = from_kv.find(key);
    if (it != from_kv.end() && it->second >= db_value) continue;
    CHAT_RETURN_IF_ERROR(read_state_
                             ->Put(ReadStateKey(key.first, key.second), PositionValue(db_value),
                                   telemetry::SpanContext{})
                             .status());
    ++written_back;
  }
  for (const auto& [key, kv_value] : from_kv) {
    auto it = positions_.find(key);
    if (it == positions_.end() || it->second < kv_value) {
      positions_[key] = kv_value;
      dirty_.insert(key);
    }
  }
  UpdateDirtyGauge();
  telemetry_.logger->Info("read positions loaded",
                          {{"chat.read.loaded", static_cast<int64_t>(positions_.size())},
                           {"chat.read.written_back", static_cast<int64_t>(written_back)},
                           {"chat.read.dirty", static_cast<int64_t>(dirty_.size())}});
  return core::Status();
}

core::Status ReadReceiptService::Register() {
  // Plain subscriptions (no queue group, subjects.json): every instance keeps the full state.
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::ReadUpdate>(
      contracts::subjects::kReadUpdate, {.metrics = &metrics_->update_route},
      [this](const contracts::ReadUpdate& req, RequestContext& ctx) {
        return HandleUpdate(req, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      contracts::subjects::kReadState, {.metrics = &metrics_->query_route},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleState(ctx); }));
  return core::Status();
}

core::Status ReadReceiptService::HandleUpdate(const contracts::ReadUpdate& req,
                                              RequestContext& ctx) {
  std::string room(ctx.Arg("room"));
  std::string user(ctx.user());
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  Key key{user, room};
  std::lock_guard<std::mutex> serial(update_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    auto it = positions_.find(key);
    if (it != positions_.end() && it->second >= req.last_read) {
      ctx.SetResult("noop");  // positions only move forward (§6.7)
      return core::Status();
    }
  }
  CHAT_RETURN_IF_ERROR(
      read_state_->Put(ReadStateKey(user, room), PositionValue(req.last_read), ctx.span_context())
          .status());
  std::lock_guard<std::mutex> lock(state_mu_);
  positions_[key] = req.last_read;
  dirty_.insert(std::move(key));
  UpdateDirtyGauge();
  return core::Status();
}

core::Result<contracts::ReadStateReply> ReadReceiptService::HandleState(RequestContext& ctx) {
  std::string room(ctx.Arg("room"));
  std::string caller(ctx.user());
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (!members_->IsMember(room, caller)) {
    return core::PermissionDenied("only current members of the room may read its positions");
  }
  contracts::ReadStateReply reply;
  std::optional<size_t> caller_entry;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (const auto& member : members_->Members(room)) {
      auto it = positions_.find(Key{member, room});
      if (it == positions_.end()) continue;
      if (member == caller) caller_entry = reply.entries.size();
      reply.entries.push_back(contracts::ReadStateEntry{member, it->second, std::nullopt});
    }
  }
  if (caller_entry.has_value()) {
    auto& entry = reply.entries[*caller_entry];
    auto unread = repo_->CountUnread(ctx.span_context(), room, caller, entry.last_read);
    if (unread.ok()) {
      entry.unread = *unread;
    } else {
      // The positions are still right: answer without the count (§4.4 fallback).
      ctx.span().AddEvent("fallback", {{attr::kReason, "unread_count_failed"}});
      ctx.log().Warn(ctx.span_context(), "unread count unavailable, answering without it",
                     {{"error.type", core::ErrorCodeName(unread.status().code())}});
    }
  }
  return reply;
}

size_t ReadReceiptService::dirty_count() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return dirty_.size();
}

void ReadReceiptService::UpdateDirtyGauge() {
  metrics_->dirty_entries.Default().Set(static_cast<double>(dirty_.size()));
}

core::Status ReadReceiptService::Flush() {
  std::lock_guard<std::mutex> serial(flush_serial_mu_);
  std::vector<ReadPosition> batch;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (const auto& key : dirty_) batch.push_back({key.first, key.second, positions_[key]});
    dirty_.clear();
    UpdateDirtyGauge();
  }
  if (batch.empty()) return core::Status();  // nothing to write: no span, no noise
  telemetry::Span span = telemetry_.tracer.StartSpan(
      "flush_read_receipts", telemetry::SpanKind::kInternal, telemetry::SpanContext{});
  const auto rows = static_cast<int64_t>(batch.size());
  span.SetAttribute(attr::kBatchSize, rows);
  core::Status status = repo_->Upsert(span.Context(), batch);
  if (!status.ok()) {
    {
      // Re-queue; a key updated meanwhile is already dirty again with its newer value.
      std::lock_guard<std::mutex> lock(state_mu_);
      for (const auto& p : batch) dirty_.insert(Key{p.user, p.room});
      UpdateDirtyGauge();
    }
    std::string error_type(core::ErrorCodeName(status.code()));
    span.RecordError(error_type, status.message(), {}, "read receipt flush failed");
    metrics_->flush.With({"error"}).Add(static_cast<double>(rows));
    telemetry_.logger->Error(span.Context(), "read receipt flush failed",
                             {{"error.type", error_type}, {attr::kBatchSize, rows}});
    return status;
  }
  metrics_->flush.With({"ok"}).Add(static_cast<double>(rows));
  telemetry_.logger->Info(span.Context(), "read receipts flushed", {{attr::kBatchSize, rows}});
  return core::Status();
}

void ReadReceiptService::FlushLoop() {
  std::unique_lock<std::mutex> lock(flusher_mu_);
  while (!stop_) {
    if (flusher_cv_.wait_for(lock, config_.flush_interval, [this] { return stop_; })) break;
    lock.unlock();
    (void)Flush();  // failures are counted, logged and re-queued inside
    lock.lock();
  }
}

void ReadReceiptService::StopFlusher() {
  {
    std::lock_guard<std::mutex> lock(flusher_mu_);
    stop_ = true;
  }
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void ReadReceiptService::Drain(std::chrono::milliseconds timeout) {
  if (members_) members_->Stop();
  dispatcher_->Drain(timeout);
  StopFlusher();
  (void)Flush();  // the final flush (§6.7); a failure is logged and counted
}

}  // namespace chat::read_receipt_service
