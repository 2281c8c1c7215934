// The sticker picker's state, free of React so it can be unit-tested: closed → packs (loading,
// loaded or failed) → one pack's stickers (loading, loaded or failed) → a sticker picked.
import type { Sticker, StickerProduct } from "../../contracts/stickers";

export type PickerState =
  | { view: "closed" }
  | { view: "packs"; loading: boolean; packs: StickerProduct[]; error: string }
  | {
      view: "stickers";
      pack: StickerProduct;
      loading: boolean;
      stickers: Sticker[];
      error: string;
    };

export type PickerEvent =
  | { type: "open" }
  | { type: "close" }
  | { type: "packs-loaded"; packs: StickerProduct[] }
  | { type: "packs-failed"; error: string }
  | { type: "choose-pack"; pack: StickerProduct }
  | { type: "stickers-loaded"; pack: string; stickers: Sticker[] }
  | { type: "stickers-failed"; pack: string; error: string }
  | { type: "back" };

export const kClosed: PickerState = { view: "closed" };

export function pickerReducer(s: PickerState, e: PickerEvent): PickerState {
  switch (e.type) {
    case "open":
      return { view: "packs", loading: true, packs: [], error: "" };
    case "close":
      return kClosed;
    case "packs-loaded":
      return s.view === "packs" ? { ...s, loading: false, packs: e.packs, error: "" } : s;
    case "packs-failed":
      return s.view === "packs" ? { ...s, loading: false, error: e.error } : s;
    case "choose-pack":
      return s.view === "packs"
        ? { view: "stickers", pack: e.pack, loading: true, stickers: [], error: "" }
        : s;
    case "stickers-loaded":
      // A late reply for a pack the user already left is ignored.
      return s.view === "stickers" && s.pack.id === e.pack
        ? { ...s, loading: false, stickers: e.stickers, error: "" }
        : s;
    case "stickers-failed":
      return s.view === "stickers" && s.pack.id === e.pack
        ? { ...s, loading: false, error: e.error }
        : s;
    case "back":
      return s.view === "stickers" ? { view: "packs", loading: true, packs: [], error: "" } : s;
  }
}

/** The alt text of a sticker image: its id in words ("thumbs-up" → "thumbs up"). */
export function stickerAlt(idOrUrl: string): string {
  const name = idOrUrl.split("/").pop() ?? idOrUrl;
  const base = name
    .replace(/\.[a-z0-9]+$/i, "")
    .replace(/[-_]+/g, " ")
    .trim();
  return base === "" ? "sticker" : `sticker: ${base}`;
}

/** The fixed size stickers are shown at (the img has width/height, so no layout shift). */
export const kStickerSizePx = 96;
export const kStickerThumbPx = 48;
