// StickerCatalogue: the sticker images sticker-service knows, so that ingest admits a sticker
// message only when its stickerUrl is one of them (issue 14: "a sticker message references a
// sticker that the service knows; anything else is refused"). The base-URL shape check
// (contracts::IsAllowedStickerUrl) runs first and stays: it keeps arbitrary URLs out without a
// lookup; this adds "and the image exists in the catalogue".
//
// The set is loaded over the bus from sticker-service (stickers.products, then
// stickers.product.{id} per pack) the first time a sticker arrives, reloaded when older than
// `ttl`, and reloaded early on a miss — at most once per `miss_reload`, so a client sending
// made-up URLs cannot turn every message into catalogue requests. A failed reload keeps the
// previous set; with no set at all the answer is unavailable (the caller refuses: fail closed).
// Thread-safe: ingest handlers may call it concurrently; one load runs at a time.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/dispatcher.hpp"

namespace chat::fanout {

class StickerCatalogue {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::minutes(5)};
    std::chrono::milliseconds miss_reload{std::chrono::seconds(10)};
    std::chrono::milliseconds timeout{std::chrono::seconds(2)};  // per request
  };
  // Packs read per load; a catalogue larger than this is truncated (and logged).
  static constexpr std::size_t kMaxPacks = 100;

  StickerCatalogue(Options options, const core::Clock& clock);

  // true: `url` is the imageUrl of a sticker in the catalogue. false: it is not (after a reload
  // when the miss allowed one). unavailable: no catalogue could be loaded yet.
  core::Result<bool> Contains(std::string_view url, runtime::RequestContext& ctx);

  // Loaded URLs, for tests.
  std::size_t size() const;

 private:
  using UrlSet = std::unordered_set<std::string>;
  // Fetches the whole catalogue (children of the process span). Errors: the request's or the
  // reply's (an ErrorReply decodes to its status).
  core::Result<std::shared_ptr<const UrlSet>> Fetch(runtime::RequestContext& ctx) const;
  // Reloads unless another caller did so since `seen` (the load time the caller decided on).
  void Reload(runtime::RequestContext& ctx,
              std::optional<std::chrono::steady_clock::time_point> seen);

  const Options options_;
  const core::Clock& clock_;
  std::mutex load_mu_;  // one load at a time; held without mu_ while requesting
  mutable std::mutex mu_;
  std::shared_ptr<const UrlSet> urls_;                              // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> loaded_at_;  // guarded by mu_: last load
  std::optional<std::chrono::steady_clock::time_point> tried_at_;   // guarded by mu_: last try
};

}  // namespace chat::fanout
