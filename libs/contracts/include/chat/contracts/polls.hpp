// poll-service wire types (system.md §3.3.10 "Poll" with ADR 0001's
// app.poll.{room}.{action}.{user}): one request body for every action (the fields an action needs
// are checked by the service), the {"pollId"} reference (create reply and the `updated`
// broadcast), the poll list and the results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// Bounds (services/poll/README.md): a question of 1-500 bytes, 2-10 options of 1-200 bytes each,
// poll ids of 1-64 bytes of [a-z0-9].
inline constexpr std::size_t kMaxPollQuestionBytes = 500;
inline constexpr std::size_t kMaxPollOptionBytes = 200;
inline constexpr std::size_t kMinPollOptions = 2;
inline constexpr std::size_t kMaxPollOptions = 10;
inline constexpr std::size_t kMaxPollIdBytes = 64;

core::Status ValidatePollId(std::string_view poll_id);

// Body of app.poll.{room}.{action}.{user}: create {"question","options"}, vote
// {"pollId","optionIdx"}, results/close {"pollId"}, list {} — each with the bridge's "user".
struct PollRequest {
  std::string poll_id;
  std::optional<std::int64_t> option_idx;
  std::string question;
  std::vector<std::string> options;
  std::string user;

  friend bool operator==(const PollRequest&, const PollRequest&) = default;
};

// {"pollId"}: the create reply and the app.poll.{room}.updated event.
struct PollRef {
  std::string poll_id;
  friend bool operator==(const PollRef&, const PollRef&) = default;
};

struct Poll {
  std::string id;
  std::string room;
  std::string question;
  std::vector<std::string> options;
  std::string created_by;
  std::string created_at;  // RFC 3339
  bool closed = false;

  friend bool operator==(const Poll&, const Poll&) = default;
};

// list reply: a bare array of polls, newest first.
struct PollList {
  std::vector<Poll> polls;
  friend bool operator==(const PollList&, const PollList&) = default;
};

struct PollVoteCount {
  std::int64_t option_idx = 0;
  std::int64_t count = 0;
  friend bool operator==(const PollVoteCount&, const PollVoteCount&) = default;
};

// results reply: {"poll","votes":[{"optionIdx","count"}] (one per option),"userVote"?,
// "totalVotes"}; userVote is omitted (never null) when the caller has not voted.
struct PollResults {
  Poll poll;
  std::vector<PollVoteCount> votes;
  std::optional<std::int64_t> user_vote;
  std::int64_t total_votes = 0;

  friend bool operator==(const PollResults&, const PollResults&) = default;
};

std::string ToJson(const PollRequest& v);
std::string ToJson(const PollRef& v);
std::string ToJson(const PollList& v);
std::string ToJson(const PollResults& v);

template <>
core::Result<PollRequest> FromJson<PollRequest>(std::string_view json);
template <>
core::Result<PollRef> FromJson<PollRef>(std::string_view json);
template <>
core::Result<PollList> FromJson<PollList>(std::string_view json);
template <>
core::Result<PollResults> FromJson<PollResults>(std::string_view json);

}  // namespace chat::contracts
