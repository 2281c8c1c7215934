// Whiteboard wire types (libs/contracts whiteboard.hpp/.cpp; system.md §3.3.10 "Whiteboard",
// requests on app.whiteboard.{room}.{action}.{user}). Elements are Excalidraw objects: opaque
// JSON objects with a non-empty string `id` and an integer `version` >= 1, kept as sent.
import { ValidationError, utf8Bytes } from "./ids";
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

export const kMaxWhiteboardNameBytes = 100;
export const kMaxWhiteboardIdBytes = 64;
export const kMaxWhiteboardElementIdBytes = 128;
export const kMaxWhiteboardElementBytes = 16384;

/** Board ids: 1-64 characters of [A-Za-z0-9_-]; null when valid. */
export function whiteboardIdProblem(id: string): string | null {
  if (id.length === 0 || id.length > kMaxWhiteboardIdBytes) {
    return "board id must be 1-64 characters";
  }
  if (!/^[A-Za-z0-9_-]+$/.test(id)) {
    return "board id may hold only letters, digits, '-' and '_'";
  }
  return null;
}

export interface WhiteboardElement {
  id: string;
  version: number;
  /** The whole element as sent (its key order is kept). */
  json: JsonObject;
}

function decodeElement(j: Json, path: string): WhiteboardElement {
  const o = expectObject(j, path);
  const r = new Reader(o, path);
  const id = r.str("id", Need.NonEmpty, kMaxWhiteboardElementIdBytes);
  const version = r.int("version", Need.Required, 1);
  r.check();
  if (utf8Bytes(JSON.stringify(o)) > kMaxWhiteboardElementBytes) {
    throw new ValidationError(`${path}: exceeds ${kMaxWhiteboardElementBytes} bytes`);
  }
  return { id, version, json: o };
}

function decodeElements(o: JsonObject, path: string, key: string): WhiteboardElement[] {
  const v = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
  if (v === undefined || v === null) {
    throw new ValidationError(`${path}: field '${key}' is required`);
  }
  return decodeArray(v, `${path}.${key}`, decodeElement);
}

function boardId(r: Reader): string {
  const id = r.str("boardId", Need.NonEmpty, kMaxWhiteboardIdBytes);
  if (r.ok) r.checkValid("boardId", whiteboardIdProblem(id));
  return id;
}

export const WhiteboardElementCodec: Codec<WhiteboardElement> = {
  type: "WhiteboardElement",
  decode: decodeElement,
  encode: (v) => v.json,
};

export interface WhiteboardCreateRequest {
  name: string;
  user: string;
}

export const WhiteboardCreateRequestCodec: Codec<WhiteboardCreateRequest> = {
  type: "WhiteboardCreateRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const name = r.str("name", Need.Optional, kMaxWhiteboardNameBytes);
    const user = r.user("user", Need.Optional);
    r.check();
    return { name, user };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "name", v.name);
    putStr(j, "user", v.user);
    return j;
  },
};

export interface WhiteboardBoardRequest {
  boardId: string;
  user: string;
}

export const WhiteboardBoardRequestCodec: Codec<WhiteboardBoardRequest> = {
  type: "WhiteboardBoardRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const id = boardId(r);
    const user = r.user("user", Need.Optional);
    r.check();
    return { boardId: id, user };
  },
  encode(v) {
    const j: JsonObject = { boardId: v.boardId };
    putStr(j, "user", v.user);
    return j;
  },
};

export interface WhiteboardDeltaRequest {
  boardId: string;
  elements: WhiteboardElement[];
  user: string;
}

export const WhiteboardDeltaRequestCodec: Codec<WhiteboardDeltaRequest> = {
  type: "WhiteboardDeltaRequest",
  decode(j, path) {
    const o = expectObject(j, path);
    const r = new Reader(o, path);
    const id = boardId(r);
    const user = r.user("user", Need.Optional);
    r.check();
    return { boardId: id, elements: decodeElements(o, path, "elements"), user };
  },
  encode(v) {
    const j: JsonObject = { boardId: v.boardId, elements: v.elements.map((e) => e.json) };
    putStr(j, "user", v.user);
    return j;
  },
};

export interface WhiteboardSummary {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
}

function decodeSummary(j: Json, path: string): WhiteboardSummary {
  const r = new Reader(expectObject(j, path), path);
  const id = r.str("id", Need.NonEmpty, kMaxWhiteboardIdBytes);
  const name = r.str("name", Need.Required, kMaxWhiteboardNameBytes);
  const createdBy = r.str("createdBy", Need.Required);
  const createdAt = r.str("createdAt", Need.Required);
  r.check();
  return { id, name, createdBy, createdAt };
}

function encodeSummary(v: WhiteboardSummary): JsonObject {
  return { id: v.id, name: v.name, createdBy: v.createdBy, createdAt: v.createdAt };
}

export const WhiteboardSummaryCodec: Codec<WhiteboardSummary> = {
  type: "WhiteboardSummary",
  decode: decodeSummary,
  encode: encodeSummary,
};

export interface WhiteboardListReply {
  boards: WhiteboardSummary[];
}

export const WhiteboardListReplyCodec: Codec<WhiteboardListReply> = {
  type: "WhiteboardListReply",
  decode(j, path) {
    const o = expectObject(j, path);
    const v = Object.prototype.hasOwnProperty.call(o, "boards") ? o.boards : undefined;
    if (v === undefined || v === null) {
      throw new ValidationError(`${path}: field 'boards' is required`);
    }
    return { boards: decodeArray(v, `${path}.boards`, decodeSummary) };
  },
  encode: (v) => ({ boards: v.boards.map(encodeSummary) }),
};

export interface WhiteboardCreateReply {
  id: string;
  name: string;
  createdBy: string;
}

export const WhiteboardCreateReplyCodec: Codec<WhiteboardCreateReply> = {
  type: "WhiteboardCreateReply",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const id = r.str("id", Need.NonEmpty, kMaxWhiteboardIdBytes);
    const name = r.str("name", Need.Required, kMaxWhiteboardNameBytes);
    const createdBy = r.str("createdBy", Need.Required);
    r.check();
    return { id, name, createdBy };
  },
  encode: (v) => ({ id: v.id, name: v.name, createdBy: v.createdBy }),
};

export interface WhiteboardBoard {
  id: string;
  name: string;
  elements: WhiteboardElement[];
  createdBy: string;
}

export const WhiteboardBoardCodec: Codec<WhiteboardBoard> = {
  type: "WhiteboardBoard",
  decode(j, path) {
    const o = expectObject(j, path);
    const r = new Reader(o, path);
    const id = r.str("id", Need.NonEmpty, kMaxWhiteboardIdBytes);
    const name = r.str("name", Need.Required, kMaxWhiteboardNameBytes);
    const createdBy = r.str("createdBy", Need.Required);
    r.check();
    return { id, name, elements: decodeElements(o, path, "elements"), createdBy };
  },
  encode: (v) => ({
    id: v.id,
    name: v.name,
    elements: v.elements.map((e) => e.json),
    createdBy: v.createdBy,
  }),
};

/** app.whiteboard.{room}.sync: only the changed elements, the board and the sender. */
export interface WhiteboardSync {
  boardId: string;
  elements: WhiteboardElement[];
  sender: string;
}

export const WhiteboardSyncCodec: Codec<WhiteboardSync> = {
  type: "WhiteboardSync",
  decode(j, path) {
    const o = expectObject(j, path);
    const r = new Reader(o, path);
    const id = boardId(r);
    const sender = r.str("sender", Need.NonEmpty);
    r.check();
    return { boardId: id, elements: decodeElements(o, path, "elements"), sender };
  },
  encode: (v) => ({
    boardId: v.boardId,
    elements: v.elements.map((e) => e.json),
    sender: v.sender,
  }),
};
