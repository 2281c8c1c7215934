// Parsing the chunk stream into the text shown under a message.
import { describe, expect, it } from "vitest";
import type { TranslateChunk } from "../../contracts/translate";
import {
  applyChunk,
  languageName,
  menuPairs,
  startTranslation,
  targetLangAttr,
  timedOut,
  translationErrorText,
} from "./stream";

const chunk = (over: Partial<TranslateChunk>): TranslateChunk => ({
  translatedText: "",
  targetLang: "es",
  msgKey: "1700000000000-bob",
  done: false,
  ...over,
});

describe("applyChunk", () => {
  const start = startTranslation("1700000000000-bob", { source: "en", target: "es" });

  it("appends chunks in order and ends on done (trailing newline dropped)", () => {
    let t = applyChunk(start, chunk({ translatedText: "Hola, " }));
    expect(t).toMatchObject({ text: "Hola, ", status: "streaming" });
    t = applyChunk(t, chunk({ translatedText: "¿cómo " }));
    t = applyChunk(t, chunk({ translatedText: "estás?\n", done: true }));
    expect(t).toMatchObject({ text: "Hola, ¿cómo estás?", status: "done", error: "" });
    // Nothing after done.
    expect(applyChunk(t, chunk({ translatedText: "x" }))).toBe(t);
  });

  it("ignores chunks of another message or another target language", () => {
    expect(applyChunk(start, chunk({ msgKey: "1-carol", translatedText: "x" }))).toBe(start);
    expect(applyChunk(start, chunk({ targetLang: "ca", translatedText: "x" }))).toBe(start);
  });

  it("ends with the error of a final error chunk, keeping the text so far", () => {
    let t = applyChunk(start, chunk({ translatedText: "Hola" }));
    t = applyChunk(
      t,
      chunk({ done: true, error: { code: "unavailable", message: "translation service busy" } }),
    );
    expect(t).toMatchObject({
      text: "Hola",
      status: "error",
      error: "Translation unavailable: translation service busy",
    });
  });

  it("times out only a stream still running", () => {
    const t = timedOut(start, 60);
    expect(t).toMatchObject({
      status: "timeout",
      error: "Translation timed out: no answer within 60 s.",
    });
    const done = applyChunk(start, chunk({ done: true }));
    expect(timedOut(done, 60)).toBe(done);
  });
});

describe("translationErrorText", () => {
  it("is a plain sentence per code", () => {
    expect(translationErrorText({ code: "invalid_argument", message: "text too long" })).toBe(
      "Translation refused: text too long",
    );
    expect(translationErrorText({ code: "internal", message: "" })).toBe(
      "Translation failed (internal).",
    );
  });
});

describe("menuPairs", () => {
  it("keeps only real pairs, once each, sorted", () => {
    expect(
      menuPairs([
        { source: "es", target: "en" },
        { source: "en", target: "es" },
        { source: "en", target: "ca" },
        { source: "en", target: "es" },
        { source: "en", target: "en" },
      ]),
    ).toEqual([
      { source: "en", target: "ca" },
      { source: "en", target: "es" },
      { source: "es", target: "en" },
    ]);
  });
});

describe("attributes and names", () => {
  it("maps the target to en, es or other", () => {
    expect(targetLangAttr("es")).toBe("es");
    expect(targetLangAttr("en")).toBe("en");
    expect(targetLangAttr("ca")).toBe("other");
  });
  it("names known languages and falls back to the tag", () => {
    expect(languageName("es")).toBe("Spanish");
    expect(languageName("xx")).toBe("xx");
  });
});
