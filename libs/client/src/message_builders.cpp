// Message builders: the ChatMessage of each action (send, edit, delete, react) with its
// validation, the never-repeating message timestamps (MessageClock) and the mentions of a text,
// and the public Send/Edit/Delete/React (…AndConfirm) calls that build one and hand it to
// PublishAction (echo_wait.cpp).
#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "chat/client/session.hpp"
#include "chat/contracts/ids.hpp"

namespace chat::client {

// ---- MessageClock ----

int64_t MessageClock::Next() {
  int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  int64_t last = last_.load();
  while (true) {
    int64_t next = std::max(now, last + 1);
    if (last_.compare_exchange_weak(last, next)) return next;
  }
}

std::vector<std::string> ExtractMentions(std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@') continue;
    size_t j = i + 1;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                               text[j] == '_' || text[j] == '-')) {
      ++j;
    }
    if (j > i + 1) {
      std::string name(text.substr(i + 1, j - i - 1));
      if (seen.insert(name).second) out.push_back(std::move(name));
    }
    i = j - 1;
  }
  return out;
}

core::Result<contracts::ChatMessage> Session::MakeSend(std::string_view room, std::string_view text,
                                                       std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (text.empty()) return core::InvalidArgument("message text is empty");
  if (text.size() > contracts::kMaxTextBytes) {
    return core::InvalidArgument("message text is longer than 4000 bytes");
  }
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.text = std::string(text);
  m.timestamp = message_clock_->Next();
  m.mentions = ExtractMentions(text);
  if (!thread_id.empty()) {
    auto parsed = contracts::ParseThreadId(thread_id);
    if (!parsed.ok()) return parsed.status();
    m.thread_id = std::string(thread_id);
    m.parent_timestamp = parsed->second;
  }
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeEdit(std::string_view room, int64_t timestamp,
                                                       std::string_view text,
                                                       std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (text.empty()) return core::InvalidArgument("edit text is empty");
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.text = std::string(text);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kEdit;
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeDelete(std::string_view room, int64_t timestamp,
                                                         std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kDelete;
  return m;
}

core::Result<contracts::ChatMessage> Session::MakeReact(std::string_view room, int64_t timestamp,
                                                        std::string_view target_user,
                                                        std::string_view emoji,
                                                        std::string_view thread_id) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  if (emoji.empty() || target_user.empty()) {
    return core::InvalidArgument("a reaction needs an emoji and the message's author");
  }
  contracts::ChatMessage m;
  m.user = user_;
  m.room = std::string(room);
  m.timestamp = timestamp;
  m.thread_id = std::string(thread_id);
  m.action = contracts::MessageAction::kReact;
  m.emoji = std::string(emoji);
  m.target_user = std::string(target_user);
  return m;
}

core::Result<SentMessage> Session::Send(std::string_view room, std::string_view text,
                                        std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeSend(room, text, thread_id));
  return PublishAction("send_message", std::move(m));
}

core::Result<SentMessage> Session::Edit(std::string_view room, int64_t timestamp,
                                        std::string_view text, std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeEdit(room, timestamp, text, thread_id));
  return PublishAction("edit_message", std::move(m));
}

core::Result<SentMessage> Session::Delete(std::string_view room, int64_t timestamp,
                                          std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeDelete(room, timestamp, thread_id));
  return PublishAction("delete_message", std::move(m));
}

core::Result<SentMessage> Session::React(std::string_view room, int64_t timestamp,
                                         std::string_view target_user, std::string_view emoji,
                                         std::string_view thread_id) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeReact(room, timestamp, target_user, emoji, thread_id));
  return PublishAction("react_message", std::move(m));
}

core::Result<SentMessage> Session::SendAndConfirm(std::string_view room, std::string_view text,
                                                  std::string_view thread_id,
                                                  std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeSend(room, text, thread_id));
  return PublishAction("send_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::EditAndConfirm(std::string_view room, int64_t timestamp,
                                                  std::string_view text, std::string_view thread_id,
                                                  std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeEdit(room, timestamp, text, thread_id));
  return PublishAction("edit_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::DeleteAndConfirm(std::string_view room, int64_t timestamp,
                                                    std::string_view thread_id,
                                                    std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeDelete(room, timestamp, thread_id));
  return PublishAction("delete_message", std::move(m), timeout);
}

core::Result<SentMessage> Session::ReactAndConfirm(std::string_view room, int64_t timestamp,
                                                   std::string_view target_user,
                                                   std::string_view emoji,
                                                   std::string_view thread_id,
                                                   std::chrono::milliseconds timeout) {
  CHAT_ASSIGN_OR_RETURN(auto m, MakeReact(room, timestamp, target_user, emoji, thread_id));
  return PublishAction("react_message", std::move(m), timeout);
}

}  // namespace chat::client
