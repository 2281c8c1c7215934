// The sticker picker's state machine and the alt text of sticker images.
import { describe, expect, it } from "vitest";
import { kClosed, pickerReducer, type PickerState, stickerAlt } from "./picker";

const party = { id: "party", name: "Party", thumbnailUrl: "/stickers/party/thumb.svg" };
const cats = { id: "cats", name: "Cats", thumbnailUrl: "/stickers/cats/thumb.svg" };
const cake = { id: "cake", imageUrl: "/stickers/party/cake.svg" };

describe("pickerReducer", () => {
  it("opens on the packs, loading, then shows them", () => {
    let s: PickerState = pickerReducer(kClosed, { type: "open" });
    expect(s).toEqual({ view: "packs", loading: true, packs: [], error: "" });
    s = pickerReducer(s, { type: "packs-loaded", packs: [cats, party] });
    expect(s).toEqual({ view: "packs", loading: false, packs: [cats, party], error: "" });
  });

  it("shows a failed pack load as an error", () => {
    const s = pickerReducer(pickerReducer(kClosed, { type: "open" }), {
      type: "packs-failed",
      error: "Stickers: no service is answering",
    });
    expect(s).toMatchObject({
      view: "packs",
      loading: false,
      error: "Stickers: no service is answering",
    });
  });

  it("goes from a pack to its stickers and back", () => {
    let s = pickerReducer(kClosed, { type: "open" });
    s = pickerReducer(s, { type: "packs-loaded", packs: [party] });
    s = pickerReducer(s, { type: "choose-pack", pack: party });
    expect(s).toEqual({ view: "stickers", pack: party, loading: true, stickers: [], error: "" });
    s = pickerReducer(s, { type: "stickers-loaded", pack: "party", stickers: [cake] });
    expect(s).toMatchObject({ view: "stickers", loading: false, stickers: [cake] });
    s = pickerReducer(s, { type: "back" });
    expect(s).toMatchObject({ view: "packs", loading: true });
  });

  it("ignores a late reply for a pack that is no longer shown", () => {
    let s = pickerReducer(kClosed, { type: "open" });
    s = pickerReducer(s, { type: "packs-loaded", packs: [party, cats] });
    s = pickerReducer(s, { type: "choose-pack", pack: cats });
    const before = s;
    expect(pickerReducer(s, { type: "stickers-loaded", pack: "party", stickers: [cake] })).toBe(
      before,
    );
    expect(pickerReducer(s, { type: "stickers-failed", pack: "party", error: "x" })).toBe(before);
    expect(pickerReducer(kClosed, { type: "packs-loaded", packs: [party] })).toBe(kClosed);
  });

  it("shows a failed sticker load and closes", () => {
    let s = pickerReducer(kClosed, { type: "open" });
    s = pickerReducer(s, { type: "packs-loaded", packs: [party] });
    s = pickerReducer(s, { type: "choose-pack", pack: party });
    s = pickerReducer(s, { type: "stickers-failed", pack: "party", error: "Stickers: timed out" });
    expect(s).toMatchObject({ loading: false, error: "Stickers: timed out" });
    expect(pickerReducer(s, { type: "close" })).toBe(kClosed);
  });
});

describe("stickerAlt", () => {
  it("names the sticker from its id or URL", () => {
    expect(stickerAlt("thumbs-up")).toBe("sticker: thumbs up");
    expect(stickerAlt("/stickers/party/party_popper.svg")).toBe("sticker: party popper");
    expect(stickerAlt("")).toBe("sticker");
  });
});
