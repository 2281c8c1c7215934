// Streamed translations, free of React and NATS so they can be unit-tested: one entry per
// message key, built from the TranslateChunk stream (system.md §6.8, §7.8): each chunk's
// translatedText is appended, `done:true` ends it, a final chunk with `error` ends it as an
// error (the text so far is kept), and no `done` within the deadline ends it as a timeout.
import type { TranslateChunk, TranslatePair } from "../../contracts/translate";

export type TranslationStatus = "streaming" | "done" | "error" | "timeout";

export interface Translation {
  msgKey: string;
  source: string;
  target: string;
  text: string;
  status: TranslationStatus;
  /** Plain-text error shown under the message ("" unless status is error/timeout). */
  error: string;
}

export function startTranslation(msgKey: string, pair: TranslatePair): Translation {
  return {
    msgKey,
    source: pair.source,
    target: pair.target,
    text: "",
    status: "streaming",
    error: "",
  };
}

/**
 * The translation after `chunk`; the same object when the chunk is not for it (another message,
 * another target language, or a stream that already ended).
 */
export function applyChunk(t: Translation, chunk: TranslateChunk): Translation {
  if (chunk.msgKey !== t.msgKey || chunk.targetLang !== t.target || t.status !== "streaming")
    return t;
  const text = t.text + chunk.translatedText;
  if (chunk.error !== undefined) {
    return { ...t, text, status: "error", error: translationErrorText(chunk.error) };
  }
  return {
    ...t,
    text: chunk.done ? text.replace(/\n+$/, "") : text,
    status: chunk.done ? "done" : "streaming",
  };
}

export function timedOut(t: Translation, seconds: number): Translation {
  if (t.status !== "streaming") return t;
  return {
    ...t,
    status: "timeout",
    error: `Translation timed out: no answer within ${seconds} s.`,
  };
}

/** The error chunk as a plain sentence: code and the service's message (never HTML). */
export function translationErrorText(err: { code: string; message: string }): string {
  const what =
    err.code === "unavailable"
      ? "Translation unavailable"
      : err.code === "invalid_argument"
        ? "Translation refused"
        : "Translation failed";
  return err.message !== "" ? `${what}: ${err.message}` : `${what} (${err.code}).`;
}

const kLanguageNames: Record<string, string> = {
  ca: "Catalan",
  de: "German",
  en: "English",
  es: "Spanish",
  fr: "French",
  hi: "Hindi",
  it: "Italian",
  ja: "Japanese",
  pl: "Polish",
  pt: "Portuguese",
  "zh-TW": "Traditional Chinese",
};

export function languageName(tag: string): string {
  return kLanguageNames[tag] ?? tag;
}

/**
 * The language menu. A chat message carries no language, so the source is unknown: the menu
 * lists every pair the backend really has ("English → Spanish"), the user picks the one that
 * matches, and the request names that source. Pairs from the service are deduplicated and
 * sorted by source, then target; a pair whose source equals its target is skipped.
 */
export function menuPairs(pairs: readonly TranslatePair[]): TranslatePair[] {
  const seen = new Set<string>();
  const out: TranslatePair[] = [];
  for (const p of pairs) {
    const k = `${p.source}>${p.target}`;
    if (p.source === p.target || seen.has(k)) continue;
    seen.add(k);
    out.push({ source: p.source, target: p.target });
  }
  return out.sort((a, b) =>
    a.source === b.source ? a.target.localeCompare(b.target) : a.source.localeCompare(b.source),
  );
}

/** chat.translate.target_lang: the configured codes (en, es), else `other` (observability §4.3). */
export function targetLangAttr(tag: string): string {
  return tag === "en" || tag === "es" ? tag : "other";
}
