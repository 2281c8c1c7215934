// kb-service wire types (system.md §3.3.10 "Knowledge Base", issue 13): requests on
// app.kb.{room}.{action}.{user} (the acting user is the subject's, docs/adr/0001), the replies of
// list / create / load (save, delete, editing and stopedit answer OkReply) and the presence
// broadcast app.kb.{room}.presence. Timestamps are RFC 3339 UTC with milliseconds (the
// reference's database default form was not ISO-8601, system.md §10 item 19).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// Every action's body: {"pageId"?,"title"?,"content"?,"user"?}. Which fields an action needs is
// the service's rule (a missing pageId is "pageId required"); the codec bounds each field by the
// payload limit only, so the service can name its own title/content limits in the error.
struct KbRequest {
  std::string page_id;
  std::string title;
  std::string content;  // HTML from the editor; sanitised by the service before it is stored
  std::string user;     // optional; must equal the subject's user when present

  friend bool operator==(const KbRequest&, const KbRequest&) = default;
};

// One row of a list reply.
struct KbPageSummary {
  std::string id;
  std::string title;
  std::string updated_by;
  std::string updated_at;

  friend bool operator==(const KbPageSummary&, const KbPageSummary&) = default;
};

// list: {"pages":[{"id","title","updatedBy","updatedAt"}]}, most recently updated first.
struct KbPageList {
  std::vector<KbPageSummary> pages;

  friend bool operator==(const KbPageList&, const KbPageList&) = default;
};

// create: {"id": UUID,"title"}.
struct KbPageCreated {
  std::string id;
  std::string title;

  friend bool operator==(const KbPageCreated&, const KbPageCreated&) = default;
};

// load: {"id","title","content","createdBy","updatedBy","createdAt","updatedAt","editors":[…]}.
// `content` and `editors` are always written (possibly "" / []).
struct KbPage {
  std::string id;
  std::string title;
  std::string content;
  std::string created_by;
  std::string updated_by;
  std::string created_at;
  std::string updated_at;
  std::vector<std::string> editors;

  friend bool operator==(const KbPage&, const KbPage&) = default;
};

// app.kb.{room}.presence: {"pageId","editors":[…]} (editors may be empty: the last one left).
struct KbPresence {
  std::string page_id;
  std::vector<std::string> editors;

  friend bool operator==(const KbPresence&, const KbPresence&) = default;
};

std::string ToJson(const KbRequest& v);
std::string ToJson(const KbPageSummary& v);
std::string ToJson(const KbPageList& v);
std::string ToJson(const KbPageCreated& v);
std::string ToJson(const KbPage& v);
std::string ToJson(const KbPresence& v);

template <>
core::Result<KbRequest> FromJson<KbRequest>(std::string_view json);
template <>
core::Result<KbPageSummary> FromJson<KbPageSummary>(std::string_view json);
template <>
core::Result<KbPageList> FromJson<KbPageList>(std::string_view json);
template <>
core::Result<KbPageCreated> FromJson<KbPageCreated>(std::string_view json);
template <>
core::Result<KbPage> FromJson<KbPage>(std::string_view json);
template <>
core::Result<KbPresence> FromJson<KbPresence>(std::string_view json);

}  // namespace chat::contracts
