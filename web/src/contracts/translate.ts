// Translation wire types (libs/contracts translate.hpp/.cpp; system.md §3.3.6): the request
// published on translate.request.{user}, the chunks streamed to deliver.{user}.translate.response
// (the last has done:true, and an error when the translation was refused or failed), and the
// translate.ping reply listing the language pairs the service's backend really has.
import { kMaxPayloadBytes, kMaxTextBytes } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  type JsonObject,
  kMaxShortFieldBytes,
  Need,
  putStr,
  Reader,
} from "./reader";
import { type ErrorReply, ErrorReplyCodec } from "./replies";

export const kMaxTranslateLangBytes = 16;

/** True when `tag` is a wire language tag (1-16 bytes of [A-Za-z-]). */
export function isValidLanguageTag(tag: string): boolean {
  return tag.length > 0 && tag.length <= kMaxTranslateLangBytes && /^[A-Za-z-]+$/.test(tag);
}

function readLang(r: Reader, key: string, need: Need): string {
  const v = r.str(key, need, kMaxTranslateLangBytes);
  if (r.ok && v !== "" && !isValidLanguageTag(v)) r.fail(key, "must match [A-Za-z-]");
  return v;
}

export interface TranslateRequest {
  text: string;
  targetLang: string;
  /** "" = the service's default source language (English). */
  sourceLang: string;
  user: string;
  msgKey: string;
}

export const TranslateRequestCodec: Codec<TranslateRequest> = {
  type: "TranslateRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const text = r.str("text", Need.NonEmpty, kMaxTextBytes);
    const targetLang = readLang(r, "targetLang", Need.NonEmpty);
    const sourceLang = readLang(r, "sourceLang", Need.Optional);
    const user = r.user("user", Need.Optional);
    const msgKey = r.str("msgKey", Need.NonEmpty, kMaxShortFieldBytes);
    r.check();
    return { text, targetLang, sourceLang, user, msgKey };
  },
  encode(v) {
    const j: JsonObject = { text: v.text, targetLang: v.targetLang };
    putStr(j, "sourceLang", v.sourceLang);
    putStr(j, "user", v.user);
    j.msgKey = v.msgKey;
    return j;
  },
};

export interface TranslateChunk {
  translatedText: string;
  targetLang: string;
  msgKey: string;
  done: boolean;
  /** Only on the final chunk of a refused or failed translation. */
  error?: ErrorReply;
}

export const TranslateChunkCodec: Codec<TranslateChunk> = {
  type: "TranslateChunk",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const translatedText = r.str("translatedText", Need.Required, kMaxPayloadBytes);
    const targetLang = readLang(r, "targetLang", Need.Required);
    const msgKey = r.str("msgKey", Need.Required, kMaxShortFieldBytes);
    const done = r.bool("done", Need.Required);
    r.check();
    const chunk: TranslateChunk = { translatedText, targetLang, msgKey, done };
    const err = r.find("error", Need.Optional);
    if (err !== undefined) {
      r.checkNested("error", () => {
        chunk.error = ErrorReplyCodec.decode({ error: err }, "ErrorReply");
      });
      if (r.ok && !done) r.fail("error", "is only allowed on the final chunk (done:true)");
      r.check();
    }
    return chunk;
  },
  encode(v) {
    const j: JsonObject = {
      translatedText: v.translatedText,
      targetLang: v.targetLang,
      msgKey: v.msgKey,
      done: v.done,
    };
    if (v.error !== undefined) j.error = { code: v.error.code, message: v.error.message };
    return j;
  },
};

export interface TranslatePair {
  source: string;
  target: string;
}

export interface TranslatePingReply {
  available: boolean;
  languages: TranslatePair[];
}

function decodePair(j: Json, path: string): TranslatePair {
  const r = new Reader(expectObject(j, path), path);
  const source = readLang(r, "source", Need.NonEmpty);
  const target = readLang(r, "target", Need.NonEmpty);
  r.check();
  return { source, target };
}

export const TranslatePingReplyCodec: Codec<TranslatePingReply> = {
  type: "TranslatePingReply",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const available = r.bool("available", Need.Required);
    const langs = r.find("languages", Need.Required);
    r.check();
    return {
      available,
      languages: decodeArray(langs as Json, r.sub("languages"), decodePair, 1000),
    };
  },
  encode: (v) => ({
    available: v.available,
    languages: v.languages.map((p) => ({ source: p.source, target: p.target })),
  }),
};
