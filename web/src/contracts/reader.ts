// Decoding helpers for the wire codecs, a line-by-line port of libs/contracts/src/json_util.hpp
// and codec.cpp: bounded parse, a field reader that keeps the FIRST problem as
// "<Type>: field '<key>' <problem>" (the same messages as C++, so the golden fixtures' manifests
// hold for both), and writers that omit empty/zero/false values (canonical form).
import {
  kMaxPayloadBytes,
  roomKeyProblem,
  usernameProblem,
  utf8Bytes,
  ValidationError,
} from "./ids";

export const kMaxShortFieldBytes = 256;
export const kMaxUrlBytes = 2048;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export enum Need {
  Optional,
  Required,
  NonEmpty,
}

export function typeName(v: Json | undefined): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "object":
      return "an object";
    case "string":
      return "a string";
    case "boolean":
      return "a boolean";
    case "number":
      return Number.isInteger(v) ? "an integer" : "a fractional number";
    default:
      return "an unsupported value";
  }
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/** Parses a payload of at most 64 KiB; `allowEmpty`: a blank body decodes as `{}`. */
export function parsePayload(text: string, type: string, allowEmpty = false): Json {
  if (utf8Bytes(text) > kMaxPayloadBytes) {
    throw new ValidationError(`${type}: payload exceeds 65536 bytes`);
  }
  if (allowEmpty && isBlank(text)) return {};
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new ValidationError(`${type}: payload is not valid JSON`);
  }
}

export function expectObject(j: Json, path: string): JsonObject {
  if (!isObject(j)) {
    throw new ValidationError(`${path}: must be a JSON object, not ${typeName(j)}`);
  }
  return j;
}

/** Field reader; records only the first failure, like the C++ Reader. */
export class Reader {
  private problem: string | null = null;

  constructor(
    private readonly j: JsonObject,
    readonly path: string,
  ) {}

  get ok(): boolean {
    return this.problem === null;
  }

  /** Throws the recorded problem, if any. */
  check(): void {
    if (this.problem !== null) throw new ValidationError(this.problem);
  }

  sub(key: string): string {
    return `${this.path}.${key}`;
  }

  fail(key: string, problem: string): void {
    if (this.problem !== null) return;
    this.problem = `${this.path}: field '${key}' ${problem}`;
  }

  checkValid(key: string, problem: string | null): void {
    if (problem !== null) this.fail(key, `is invalid: ${problem}`);
  }

  /** Records a nested decoder's failure message as-is (C++ Reader::Check of a Status). */
  checkNested(key: string, fn: () => void): void {
    if (!this.ok) return;
    try {
      fn();
    } catch (e) {
      this.fail(key, `is invalid: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  find(key: string, need: Need): Json | undefined {
    if (!this.ok) return undefined;
    const v = Object.prototype.hasOwnProperty.call(this.j, key) ? this.j[key] : undefined;
    if (v === undefined || v === null) {
      if (need !== Need.Optional) this.fail(key, "is required");
      return undefined;
    }
    return v;
  }

  str(key: string, need: Need, maxBytes = kMaxShortFieldBytes): string {
    const v = this.find(key, need);
    if (v === undefined) return "";
    if (typeof v !== "string") {
      this.fail(key, `must be a string, not ${typeName(v)}`);
      return "";
    }
    if (need === Need.NonEmpty && v.length === 0) {
      this.fail(key, "must not be empty");
      return "";
    }
    if (utf8Bytes(v) > maxBytes) {
      this.fail(key, `exceeds ${maxBytes} bytes`);
      return "";
    }
    return v;
  }

  /** Integer >= min; absent → 0. */
  int(key: string, need: Need, min = 0): number {
    const v = this.find(key, need);
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(key, `must be an integer, not ${typeName(v)}`);
      return 0;
    }
    if (!Number.isSafeInteger(v)) {
      this.fail(key, "is out of range");
      return 0;
    }
    if (v < min) {
      this.fail(key, `must be >= ${min}`);
      return 0;
    }
    return v;
  }

  bool(key: string, need: Need): boolean {
    const v = this.find(key, need);
    if (v === undefined) return false;
    if (typeof v !== "boolean") {
      this.fail(key, `must be a boolean, not ${typeName(v)}`);
      return false;
    }
    return v;
  }

  strList(key: string, need: Need, maxItems = 1000): string[] {
    const v = this.find(key, need);
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.fail(key, `must be an array of strings, not ${typeName(v)}`);
      return [];
    }
    if (v.length > maxItems) {
      this.fail(key, `has more than ${maxItems} elements`);
      return [];
    }
    const items: string[] = [];
    for (const e of v) {
      if (typeof e !== "string") {
        this.fail(key, "must be an array of strings");
        return [];
      }
      items.push(e);
    }
    if (need === Need.NonEmpty && items.length === 0) {
      this.fail(key, "must not be empty");
      return [];
    }
    return items;
  }

  user(key: string, need: Need): string {
    const v = this.str(key, need === Need.Optional ? Need.Optional : Need.NonEmpty);
    if (!this.ok || v === "") return "";
    this.checkValid(key, usernameProblem(v));
    return this.ok ? v : "";
  }

  room(key: string, need: Need): string {
    const v = this.str(key, need === Need.Optional ? Need.Optional : Need.NonEmpty);
    if (!this.ok || v === "") return "";
    this.checkValid(key, roomKeyProblem(v));
    return this.ok ? v : "";
  }
}

/** Bare JSON arrays (list replies), decoded with the element decoder. */
export function decodeArray<T>(
  j: Json,
  path: string,
  decode: (e: Json, path: string) => T,
  maxItems = 10000,
): T[] {
  if (!Array.isArray(j)) throw new ValidationError(`${path}: must be an array`);
  if (j.length > maxItems) throw new ValidationError(`${path}: too many elements`);
  return j.map((e, i) => decode(e, `${path}[${i}]`));
}

// Writers: omit the key when the value is empty/zero/false (system.md conventions).
export function putStr(j: JsonObject, key: string, v: string): void {
  if (v !== "") j[key] = v;
}
export function putInt(j: JsonObject, key: string, v: number): void {
  if (v !== 0) j[key] = v;
}
export function putBool(j: JsonObject, key: string, v: boolean): void {
  if (v) j[key] = true;
}
export function putStrList(j: JsonObject, key: string, v: string[]): void {
  if (v.length > 0) j[key] = [...v];
}

/** A codec: text ⇄ value, canonical encoding. */
export interface Codec<T> {
  readonly type: string;
  decode(j: Json, path: string): T;
  encode(v: T): Json;
  readonly allowEmpty?: boolean;
}

export function fromJson<T>(codec: Codec<T>, text: string): T {
  const parsed = parsePayload(text, codec.type, codec.allowEmpty ?? false);
  return codec.decode(parsed, codec.type);
}

export function toJson<T>(codec: Codec<T>, v: T): string {
  return JSON.stringify(codec.encode(v));
}
