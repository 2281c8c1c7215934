// Golden fixtures (libs/contracts/fixtures/<Type>/), the same files the C++ golden test reads:
// every ok case decodes, re-encodes to JSON deep-equal to the fixture (and byte-identical: the
// fixtures are stored canonically, which proves key order), and decoding the re-encoded text
// gives the same value; every invalid case is rejected with the message its manifest names.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Codecs } from "./index";
import { ValidationError } from "./ids";
import { fromJson, toJson } from "./reader";

const kFixtures = resolve(__dirname, "../../../libs/contracts/fixtures");

function read(path: string): string {
  return readFileSync(path, "utf8").replace(/[\r\n]+$/, "");
}

function jsonStems(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter(
        (f) => f.endsWith(".json") && f !== "manifest.json" && statSync(join(dir, f)).isFile(),
      )
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

const types = readdirSync(kFixtures)
  .filter((d) => statSync(join(kFixtures, d)).isDirectory())
  .sort();

describe("contract fixtures", () => {
  it("has a TypeScript codec for every fixture directory and fixtures for every codec", () => {
    expect(types.length).toBeGreaterThanOrEqual(30);
    expect(types).toEqual(Object.keys(Codecs).sort());
  });

  let okChecked = 0;
  let invalidChecked = 0;
  for (const type of types) {
    const codec = Codecs[type]!;
    for (const stem of jsonStems(join(kFixtures, type))) {
      it(`${type}/${stem} round-trips to the canonical JSON`, () => {
        const text = read(join(kFixtures, type, `${stem}.json`));
        const decoded = fromJson(codec, text);
        const encoded = toJson(codec, decoded);
        expect(JSON.parse(encoded)).toEqual(JSON.parse(text));
        expect(encoded).toBe(text);
        expect(fromJson(codec, encoded)).toEqual(decoded);
        okChecked++;
      });
    }
    const invalidDir = join(kFixtures, type, "invalid");
    const manifest = JSON.parse(readFileSync(join(invalidDir, "manifest.json"), "utf8")) as Record<
      string,
      string
    >;
    it(`${type}: invalid manifest lists exactly the invalid files`, () => {
      expect(Object.keys(manifest).sort()).toEqual(jsonStems(invalidDir));
    });
    for (const [stem, expected] of Object.entries(manifest)) {
      it(`${type}/invalid/${stem} is rejected: ${expected}`, () => {
        const text = read(join(invalidDir, `${stem}.json`));
        let error: unknown;
        try {
          fromJson(codec, text);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).message).toContain(expected);
        invalidChecked++;
      });
    }
  }
  it("checked at least as many fixtures as the C++ golden test requires", () => {
    // Runs last in file order: vitest runs the cases above first.
    expect(okChecked).toBeGreaterThanOrEqual(60);
    expect(invalidChecked).toBeGreaterThanOrEqual(70);
  });
});
