import { describe, expect, it } from "vitest";
import { base64UrlEncode, codeChallengeS256, createCodeVerifier, randomToken } from "./pkce";

describe("PKCE", () => {
  it("makes verifiers of the requested length from the unreserved set only", () => {
    for (const n of [43, 64, 128]) {
      const v = createCodeVerifier(n);
      expect(v).toHaveLength(n);
      expect(v).toMatch(/^[A-Za-z0-9\-._~]+$/);
    }
    expect(createCodeVerifier()).toHaveLength(64);
    expect(createCodeVerifier()).not.toBe(createCodeVerifier());
  });
  it("refuses lengths outside 43..128", () => {
    expect(() => createCodeVerifier(42)).toThrow(RangeError);
    expect(() => createCodeVerifier(129)).toThrow(RangeError);
  });
  it("computes the S256 challenge of RFC 7636 appendix B", async () => {
    expect(await codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });
  it("base64url-encodes without padding", () => {
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
