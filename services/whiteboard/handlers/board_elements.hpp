// A board's elements while deltas merge into it (system.md §6.13, last writer wins per element),
// with the stored JSON's size kept as it changes, so a batch of deltas checks the bytes-per-board
// limit per delta without serialising the board after each one.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/contracts/whiteboard.hpp"
#include "chat/core/result.hpp"

namespace chat::whiteboard_service {

class BoardElements {
 public:
  explicit BoardElements(std::vector<contracts::WhiteboardElement> elements);

  // Merges one delta: each incoming element is kept when its id is new or its version is
  // strictly greater than the stored one (equal versions keep the stored element); `changed`
  // receives the kept elements in request order. When something changed and the board's JSON
  // would then exceed `max_bytes`, none of `incoming` is kept (the board and `changed` are as
  // before): resource_exhausted.
  core::Status Apply(const std::vector<contracts::WhiteboardElement>& incoming, int64_t max_bytes,
                     std::vector<contracts::WhiteboardElement>& changed);

  // The JSON array as stored (contracts::WhiteboardElementsToJson); its size is bytes().
  std::string ToJson() const { return contracts::WhiteboardElementsToJson(elements_); }
  int64_t bytes() const { return bytes_; }
  const std::vector<contracts::WhiteboardElement>& elements() const { return elements_; }

 private:
  std::vector<contracts::WhiteboardElement> elements_;
  std::unordered_map<std::string, size_t> index_;  // id → position in elements_
  int64_t bytes_ = 2;                              // "[" + elements joined by "," + "]"
};

}  // namespace chat::whiteboard_service
