// PKCE (RFC 7636, S256) and the random values of an authorization request (state, nonce).
// Web Crypto only: the verifier never leaves sessionStorage and the browser.

const kUnreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/** A code verifier of `length` (43..128) characters from the unreserved set, uniformly drawn. */
export function createCodeVerifier(length = 64): string {
  if (length < 43 || length > 128) throw new RangeError("PKCE verifier length must be 43..128");
  const out: string[] = [];
  // Rejection sampling: 66 symbols; bytes >= 198 (3*66) are redrawn to avoid modulo bias.
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 198 && out.length < length) out.push(kUnreserved[b % 66]!);
    }
  }
  return out.join("");
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** BASE64URL(SHA-256(ASCII(verifier))). */
export async function codeChallengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

/** 32 random bytes, base64url: state and nonce values. */
export function randomToken(bytes = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}
