// Formatting helpers used inside renders must never throw on a timestamp the wire contract
// accepts (any safe integer): a throw in a render would unmount the whole app.
import { describe, expect, it } from "vitest";
import { formatTime, isoTime } from "./hooks";

describe("message time formatting", () => {
  it("formats ordinary timestamps", () => {
    expect(isoTime(1740650000123)).toBe("2025-02-27T09:53:20.123Z");
    expect(formatTime(1740650000123)).toMatch(/^\d\d:\d\d$/);
  });

  it("does not throw for timestamps beyond the Date range (valid on the wire)", () => {
    const huge = Number.MAX_SAFE_INTEGER;
    expect(() => new Date(huge).toISOString()).toThrow(RangeError);
    expect(isoTime(huge)).toBe("");
    expect(formatTime(huge)).toBe("");
  });
});
