// Reply envelopes (libs/contracts replies.hpp/.cpp): ErrorReply {"error":{"code","message"}}
// (core::ErrorCode names; unknown codes decode as internal) and OkReply.
import { ValidationError } from "./ids";
import {
  type Codec,
  expectObject,
  isObject,
  type JsonObject,
  Need,
  parsePayload,
  putBool,
  Reader,
} from "./reader";

export const kErrorCodes = [
  "invalid_argument",
  "unauthenticated",
  "permission_denied",
  "not_found",
  "already_exists",
  "failed_precondition",
  "resource_exhausted",
  "deadline_exceeded",
  "unavailable",
  "internal",
] as const;
export type ErrorCode = (typeof kErrorCodes)[number];

export interface ErrorReply {
  code: ErrorCode;
  message: string;
}

const kMaxErrorMessageBytes = 1024;

export const ErrorReplyCodec: Codec<ErrorReply> = {
  type: "ErrorReply",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const err = r.find("error", Need.Required);
    r.check();
    if (!isObject(err)) {
      r.fail("error", "must be an object {code, message}");
      r.check();
      throw new ValidationError(`${path}: field 'error' must be an object {code, message}`);
    }
    const er = new Reader(err, r.sub("error"));
    const code = er.str("code", Need.NonEmpty);
    const message = er.str("message", Need.Required, kMaxErrorMessageBytes);
    er.check();
    if (code === "ok") {
      er.fail("code", "must not be ok");
      er.check();
    }
    const known = (kErrorCodes as readonly string[]).includes(code)
      ? (code as ErrorCode)
      : "internal";
    return { code: known, message };
  },
  encode(v) {
    return { error: { code: v.code, message: v.message } };
  },
};

export interface OkReply {
  ok: boolean;
  deleted: boolean;
}

export const OkReplyCodec: Codec<OkReply> = {
  type: "OkReply",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const ok = r.bool("ok", Need.Required);
    const deleted = r.bool("deleted", Need.Optional);
    r.check();
    return { ok, deleted };
  },
  encode(v) {
    const j: JsonObject = { ok: v.ok };
    putBool(j, "deleted", v.deleted);
    return j;
  },
};

/** True when the body is an object with an object `error` member (contracts::IsErrorReply). */
export function isErrorReply(text: string): boolean {
  try {
    const j = parsePayload(text, "reply");
    return isObject(j) && isObject(j.error);
  } catch {
    return false;
  }
}
