// Translation wire types (libs/contracts translate.hpp/.cpp). The translation service does not
// exist yet; the codecs are here so the golden fixtures are checked on both sides.
import { kMaxPayloadBytes, kMaxTextBytes } from "./ids";
import { type Codec, expectObject, type JsonObject, Need, putStr, Reader } from "./reader";

const kMaxLangBytes = 16;

function readLang(r: Reader): string {
  const v = r.str("targetLang", Need.NonEmpty, kMaxLangBytes);
  if (r.ok && !/^[A-Za-z-]*$/.test(v)) r.fail("targetLang", "must match [A-Za-z-]");
  return v;
}

export interface TranslateRequest {
  text: string;
  targetLang: string;
  user: string;
  msgKey: string;
}

export const TranslateRequestCodec: Codec<TranslateRequest> = {
  type: "TranslateRequest",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const text = r.str("text", Need.NonEmpty, kMaxTextBytes);
    const targetLang = readLang(r);
    const user = r.user("user", Need.Optional);
    const msgKey = r.str("msgKey", Need.NonEmpty);
    r.check();
    return { text, targetLang, user, msgKey };
  },
  encode(v) {
    const j: JsonObject = { text: v.text, targetLang: v.targetLang };
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
}

export const TranslateChunkCodec: Codec<TranslateChunk> = {
  type: "TranslateChunk",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const translatedText = r.str("translatedText", Need.Required, kMaxPayloadBytes);
    const targetLang = readLang(r);
    const msgKey = r.str("msgKey", Need.NonEmpty);
    const done = r.bool("done", Need.Required);
    r.check();
    return { translatedText, targetLang, msgKey, done };
  },
  encode: (v) => ({
    translatedText: v.translatedText,
    targetLang: v.targetLang,
    msgKey: v.msgKey,
    done: v.done,
  }),
};
