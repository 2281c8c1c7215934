// kb-service wire types (libs/contracts kb.hpp/.cpp; system.md §3.3.10 "Knowledge Base", issue
// 13): the request body of app.kb.{room}.{action}.{user}, the list / create / load replies
// (save, delete, editing and stopedit answer OkReply) and the app.kb.{room}.presence broadcast.
// Timestamps are RFC 3339 UTC with milliseconds.
import { kMaxPayloadBytes, usernameProblem } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  type JsonObject,
  Need,
  putStr,
  Reader,
} from "./reader";

const kMaxEditors = 1000;

export interface KbRequest {
  pageId: string;
  title: string;
  content: string;
  user: string;
}

export const KbRequestCodec: Codec<KbRequest> = {
  type: "KbRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const pageId = r.str("pageId", Need.Optional);
    const title = r.str("title", Need.Optional, kMaxPayloadBytes);
    const content = r.str("content", Need.Optional, kMaxPayloadBytes);
    const user = r.user("user", Need.Optional);
    r.check();
    return { pageId, title, content, user };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "pageId", v.pageId);
    putStr(j, "title", v.title);
    putStr(j, "content", v.content);
    putStr(j, "user", v.user);
    return j;
  },
};

export interface KbPageSummary {
  id: string;
  title: string;
  updatedBy: string;
  updatedAt: string;
}

function decodeSummary(j: Json, path: string): KbPageSummary {
  const r = new Reader(expectObject(j, path), path);
  const id = r.str("id", Need.NonEmpty);
  const title = r.str("title", Need.Required, kMaxPayloadBytes);
  const updatedBy = r.user("updatedBy", Need.Required);
  const updatedAt = r.str("updatedAt", Need.NonEmpty);
  r.check();
  return { id, title, updatedBy, updatedAt };
}

function encodeSummary(v: KbPageSummary): JsonObject {
  return { id: v.id, title: v.title, updatedBy: v.updatedBy, updatedAt: v.updatedAt };
}

export const KbPageSummaryCodec: Codec<KbPageSummary> = {
  type: "KbPageSummary",
  decode: decodeSummary,
  encode: encodeSummary,
};

export interface KbPageList {
  pages: KbPageSummary[];
}

export const KbPageListCodec: Codec<KbPageList> = {
  type: "KbPageList",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const pages = r.find("pages", Need.Required);
    r.check();
    return { pages: decodeArray(pages as Json, r.sub("pages"), decodeSummary) };
  },
  encode: (v) => ({ pages: v.pages.map(encodeSummary) }),
};

export interface KbPageCreated {
  id: string;
  title: string;
}

export const KbPageCreatedCodec: Codec<KbPageCreated> = {
  type: "KbPageCreated",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const id = r.str("id", Need.NonEmpty);
    const title = r.str("title", Need.Required, kMaxPayloadBytes);
    r.check();
    return { id, title };
  },
  encode: (v) => ({ id: v.id, title: v.title }),
};

function readEditors(r: Reader): string[] {
  const editors = r.strList("editors", Need.Required, kMaxEditors);
  for (const e of editors) {
    if (!r.ok) break;
    r.checkValid("editors", usernameProblem(e));
  }
  return editors;
}

export interface KbPage {
  id: string;
  title: string;
  content: string;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
  editors: string[];
}

export const KbPageCodec: Codec<KbPage> = {
  type: "KbPage",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const id = r.str("id", Need.NonEmpty);
    const title = r.str("title", Need.Required, kMaxPayloadBytes);
    const content = r.str("content", Need.Required, kMaxPayloadBytes);
    const createdBy = r.user("createdBy", Need.Required);
    const updatedBy = r.user("updatedBy", Need.Required);
    const createdAt = r.str("createdAt", Need.NonEmpty);
    const updatedAt = r.str("updatedAt", Need.NonEmpty);
    const editors = readEditors(r);
    r.check();
    return { id, title, content, createdBy, updatedBy, createdAt, updatedAt, editors };
  },
  encode: (v) => ({
    id: v.id,
    title: v.title,
    content: v.content,
    createdBy: v.createdBy,
    updatedBy: v.updatedBy,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    editors: [...v.editors],
  }),
};

export interface KbPresence {
  pageId: string;
  editors: string[];
}

export const KbPresenceCodec: Codec<KbPresence> = {
  type: "KbPresence",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const pageId = r.str("pageId", Need.NonEmpty);
    const editors = readEditors(r);
    r.check();
    return { pageId, editors };
  },
  encode: (v) => ({ pageId: v.pageId, editors: [...v.editors] }),
};
