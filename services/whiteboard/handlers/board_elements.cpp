#include "handlers/board_elements.hpp"

#include <algorithm>
#include <utility>

namespace chat::whiteboard_service {
namespace {

int64_t Size(const contracts::WhiteboardElement& e) { return static_cast<int64_t>(e.json.size()); }

}  // namespace

BoardElements::BoardElements(std::vector<contracts::WhiteboardElement> elements)
    : elements_(std::move(elements)) {
  index_.reserve(elements_.size());
  for (size_t i = 0; i < elements_.size(); ++i) {
    index_[elements_[i].id] = i;
    bytes_ += Size(elements_[i]) + (i > 0 ? 1 : 0);
  }
}

core::Status BoardElements::Apply(const std::vector<contracts::WhiteboardElement>& incoming,
                                  int64_t max_bytes,
                                  std::vector<contracts::WhiteboardElement>& changed) {
  struct Replaced {
    size_t index;
    contracts::WhiteboardElement previous;
  };
  // What to undo when the delta does not fit.
  std::vector<Replaced> replaced;
  const size_t appended_from = elements_.size();
  const size_t changed_from = changed.size();
  int64_t bytes = bytes_;
  for (const auto& e : incoming) {
    auto it = index_.find(e.id);
    if (it == index_.end()) {
      bytes += Size(e) + (elements_.empty() ? 0 : 1);
      index_.emplace(e.id, elements_.size());
      elements_.push_back(e);
    } else if (e.version > elements_[it->second].version) {
      contracts::WhiteboardElement& current = elements_[it->second];
      bytes += Size(e) - Size(current);
      replaced.push_back({it->second, std::move(current)});
      current = e;
    } else {
      continue;  // not newer: the stored element wins
    }
    changed.push_back(e);
  }
  if (changed.size() > changed_from && bytes > max_bytes) {
    // Replacements first (one may have replaced an element this delta appended), then the
    // appended tail.
    std::for_each(replaced.rbegin(), replaced.rend(),
                  [this](Replaced& r) { elements_[r.index] = std::move(r.previous); });
    for (size_t i = appended_from; i < elements_.size(); ++i) index_.erase(elements_[i].id);
    elements_.resize(appended_from);
    changed.resize(changed_from);
    return core::ResourceExhausted("the board would exceed " + std::to_string(max_bytes) +
                                   " bytes");
  }
  bytes_ = bytes;
  return core::Status();
}

}  // namespace chat::whiteboard_service
