import { describe, expect, it } from "vitest";
import { isAllowedStickerUrl } from "./messages";

// Mirrors libs/contracts IsAllowedStickerUrl (codec_test StickerUrls): only images under the
// sticker base are rendered (issue 11 item 14: no foreign tracking pixels).
describe("isAllowedStickerUrl", () => {
  it("accepts relative image paths under the base", () => {
    expect(isAllowedStickerUrl("/stickers/cats/wave.svg")).toBe(true);
    expect(
      isAllowedStickerUrl("https://chat.example/stickers/a.png", "https://chat.example/stickers/"),
    ).toBe(true);
  });
  it("refuses anything else", () => {
    for (const url of [
      "https://tracker.example/pixel.gif",
      "/stickers/",
      "/stickers/../auth/v1/credentials",
      "/stickers/a//b.svg",
      "/stickers/a.svg?x=1",
      "/stickers/a.svg#f",
      "//tracker.example/stickers/a.svg",
      "/stickersx/a.svg",
      "javascript:alert(1)",
    ]) {
      expect(isAllowedStickerUrl(url), url).toBe(false);
    }
  });
});
