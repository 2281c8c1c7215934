#include "chat/contracts/polls.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

core::Status ValidatePollId(std::string_view poll_id) {
  if (poll_id.empty() || poll_id.size() > kMaxPollIdBytes) {
    return core::InvalidArgument("poll id must be 1-64 bytes");
  }
  for (char c : poll_id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return core::InvalidArgument("poll id may contain only a-z and 0-9");
    }
  }
  return core::Status();
}

namespace {

void PollIdField(Reader& r, std::string& out, Need need) {
  r.Str("pollId", out, need, kMaxPollIdBytes);
  if (r.ok() && !out.empty()) r.Check("pollId", ValidatePollId(out));
}

// Options: each 1..kMaxPollOptionBytes; at most kMaxPollOptions (the minimum is the service's).
void OptionsField(Reader& r, std::vector<std::string>& out, Need need) {
  r.StrList("options", out, need, kMaxPollOptions);
  if (!r.ok()) return;
  for (const auto& o : out) {
    if (o.empty()) {
      r.Fail("options", "must not contain an empty option");
      return;
    }
    if (o.size() > kMaxPollOptionBytes) {
      r.Fail("options", "has an option over " + std::to_string(kMaxPollOptionBytes) + " bytes");
      return;
    }
  }
}

core::Status DecodePoll(const Json& j, const std::string& path, Poll& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("id", v.id, Need::kNonEmpty, kMaxPollIdBytes);
  if (r.ok()) r.Check("id", ValidatePollId(v.id));
  r.Room("room", v.room, Need::kRequired);
  r.Str("question", v.question, Need::kNonEmpty, kMaxPollQuestionBytes);
  OptionsField(r, v.options, Need::kRequired);
  r.User("createdBy", v.created_by, Need::kRequired);
  r.Str("createdAt", v.created_at, Need::kNonEmpty);
  r.Bool("closed", v.closed, Need::kOptional);
  return r.status();
}

Json EncodePoll(const Poll& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["room"] = v.room;
  j["question"] = v.question;
  j["options"] = v.options;
  j["createdBy"] = v.created_by;
  j["createdAt"] = v.created_at;
  internal::PutBool(j, "closed", v.closed);
  return j;
}

core::Status DecodeCount(const Json& j, const std::string& path, PollVoteCount& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Int("optionIdx", v.option_idx, Need::kRequired, 0);
  r.Int("count", v.count, Need::kRequired, 0);
  return r.status();
}

}  // namespace

std::string ToJson(const PollRequest& v) {
  Json j = Json::object();
  internal::PutStr(j, "pollId", v.poll_id);
  if (v.option_idx.has_value()) j["optionIdx"] = *v.option_idx;
  internal::PutStr(j, "question", v.question);
  internal::PutStrList(j, "options", v.options);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const PollRef& v) {
  Json j = Json::object();
  j["pollId"] = v.poll_id;
  return internal::Dump(j);
}

std::string ToJson(const PollList& v) {
  Json a = Json::array();
  for (const auto& p : v.polls) a.push_back(EncodePoll(p));
  return internal::Dump(a);
}

std::string ToJson(const PollResults& v) {
  Json j = Json::object();
  j["poll"] = EncodePoll(v.poll);
  Json votes = Json::array();
  for (const auto& c : v.votes) {
    Json e = Json::object();
    e["optionIdx"] = c.option_idx;
    e["count"] = c.count;
    votes.push_back(std::move(e));
  }
  j["votes"] = std::move(votes);
  if (v.user_vote.has_value()) j["userVote"] = *v.user_vote;
  j["totalVotes"] = v.total_votes;
  return internal::Dump(j);
}

template <>
core::Result<PollRequest> FromJson<PollRequest>(std::string_view json) {
  return internal::DecodeTop<PollRequest>(
      json, "PollRequest",
      [](const Json& j, const std::string& path, PollRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        PollIdField(r, v.poll_id, Need::kOptional);
        if (r.Find("optionIdx", Need::kOptional) != nullptr) {
          std::int64_t idx = 0;
          r.Int("optionIdx", idx, Need::kOptional, 0);
          if (r.ok()) v.option_idx = idx;
        }
        r.Str("question", v.question, Need::kOptional, kMaxPollQuestionBytes);
        OptionsField(r, v.options, Need::kOptional);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      },
      /*allow_empty=*/true);
}

template <>
core::Result<PollRef> FromJson<PollRef>(std::string_view json) {
  return internal::DecodeTop<PollRef>(json, "PollRef",
                                      [](const Json& j, const std::string& path, PollRef& v) {
                                        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
                                        Reader r(j, path);
                                        PollIdField(r, v.poll_id, Need::kNonEmpty);
                                        return r.status();
                                      });
}

template <>
core::Result<PollList> FromJson<PollList>(std::string_view json) {
  return internal::DecodeTop<PollList>(json, "PollList",
                                       [](const Json& j, const std::string& path, PollList& v) {
                                         return internal::DecodeArray(j, path, v.polls, DecodePoll);
                                       });
}

template <>
core::Result<PollResults> FromJson<PollResults>(std::string_view json) {
  return internal::DecodeTop<PollResults>(
      json, "PollResults", [](const Json& j, const std::string& path, PollResults& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        const Json* poll = r.Find("poll", Need::kRequired);
        const Json* votes = r.Find("votes", Need::kRequired);
        if (r.Find("userVote", Need::kOptional) != nullptr) {
          std::int64_t uv = 0;
          r.Int("userVote", uv, Need::kOptional, 0);
          if (r.ok()) v.user_vote = uv;
        }
        r.Int("totalVotes", v.total_votes, Need::kRequired, 0);
        CHAT_RETURN_IF_ERROR(r.status());
        CHAT_RETURN_IF_ERROR(DecodePoll(*poll, r.Sub("poll"), v.poll));
        return internal::DecodeArray(*votes, r.Sub("votes"), v.votes, DecodeCount, kMaxPollOptions);
      });
}

}  // namespace chat::contracts
