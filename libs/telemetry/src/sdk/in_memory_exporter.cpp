#include "chat/telemetry/sdk/in_memory_exporter.hpp"

namespace chat::telemetry::sdk {

void InMemorySpanStore::Add(const SpanData& span) {
  std::lock_guard lock(mu_);
  spans_.push_back(span);
}
std::vector<SpanData> InMemorySpanStore::Spans() const {
  std::lock_guard lock(mu_);
  return spans_;
}
size_t InMemorySpanStore::Count() const {
  std::lock_guard lock(mu_);
  return spans_.size();
}
void InMemorySpanStore::Clear() {
  std::lock_guard lock(mu_);
  spans_.clear();
}

void InMemoryLogStore::Add(const LogRecordData& record) {
  std::lock_guard lock(mu_);
  records_.push_back(record);
}
std::vector<LogRecordData> InMemoryLogStore::Records() const {
  std::lock_guard lock(mu_);
  return records_;
}
size_t InMemoryLogStore::Count() const {
  std::lock_guard lock(mu_);
  return records_.size();
}
void InMemoryLogStore::Clear() {
  std::lock_guard lock(mu_);
  records_.clear();
}

ExportResult InMemorySpanExporter::Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                                          std::chrono::milliseconds) {
  for (const auto& s : batch) store_->Add(*s);
  return ExportResult::kSuccess;
}

ExportResult InMemoryLogExporter::Export(const std::vector<std::unique_ptr<LogRecordData>>& batch,
                                         std::chrono::milliseconds) {
  for (const auto& r : batch) store_->Add(*r);
  return ExportResult::kSuccess;
}

const AttributeValue* FindAttribute(const std::vector<Attribute>& attrs, std::string_view key) {
  for (const Attribute& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

const AttributeValue* FindAttribute(const SpanData& span, std::string_view key) {
  return FindAttribute(span.attributes, key);
}

std::optional<std::string> StringAttribute(const SpanData& span, std::string_view key) {
  const AttributeValue* v = FindAttribute(span, key);
  if (v == nullptr) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return std::nullopt;
}

std::optional<int64_t> IntAttribute(const SpanData& span, std::string_view key) {
  const AttributeValue* v = FindAttribute(span, key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = std::get_if<int64_t>(v)) return *i;
  return std::nullopt;
}

const SpanEvent* FindEvent(const SpanData& span, std::string_view name) {
  for (const SpanEvent& e : span.events) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace chat::telemetry::sdk
