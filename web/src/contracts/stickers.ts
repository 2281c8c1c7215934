// Sticker catalogue wire types (libs/contracts stickers.hpp/.cpp; system.md §3.3.7): the packs
// (stickers.products) and one pack's stickers (stickers.product.{product}), both bare arrays.
import { utf8Bytes } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  kMaxUrlBytes,
  Need,
  Reader,
} from "./reader";

export const kMaxStickerIdBytes = 64;

/** null when `id` is a valid pack or sticker id (1-64 bytes of [a-z0-9-]), else the problem. */
export function stickerIdProblem(id: string, what = "sticker id"): string | null {
  if (id.length === 0 || utf8Bytes(id) > kMaxStickerIdBytes) return `${what} must be 1-64 bytes`;
  if (!/^[a-z0-9-]+$/.test(id)) return `${what} may contain only a-z, 0-9 and '-'`;
  return null;
}

function idField(r: Reader, what: string): string {
  const id = r.str("id", Need.NonEmpty, kMaxStickerIdBytes);
  if (r.ok) r.checkValid("id", stickerIdProblem(id, what));
  return id;
}

export interface StickerProduct {
  id: string;
  name: string;
  thumbnailUrl: string;
}

function decodeProduct(j: Json, path: string): StickerProduct {
  const r = new Reader(expectObject(j, path), path);
  const id = idField(r, "sticker pack id");
  const name = r.str("name", Need.NonEmpty);
  const thumbnailUrl = r.str("thumbnailUrl", Need.NonEmpty, kMaxUrlBytes);
  r.check();
  return { id, name, thumbnailUrl };
}

export interface StickerProductList {
  products: StickerProduct[];
}

export const StickerProductListCodec: Codec<StickerProductList> = {
  type: "StickerProductList",
  decode: (j, path) => ({ products: decodeArray(j, path, decodeProduct) }),
  encode: (v) => v.products.map((p) => ({ id: p.id, name: p.name, thumbnailUrl: p.thumbnailUrl })),
};

export interface Sticker {
  id: string;
  imageUrl: string;
}

function decodeSticker(j: Json, path: string): Sticker {
  const r = new Reader(expectObject(j, path), path);
  const id = idField(r, "sticker id");
  const imageUrl = r.str("imageUrl", Need.NonEmpty, kMaxUrlBytes);
  r.check();
  return { id, imageUrl };
}

export interface StickerList {
  stickers: Sticker[];
}

export const StickerListCodec: Codec<StickerList> = {
  type: "StickerList",
  decode: (j, path) => ({ stickers: decodeArray(j, path, decodeSticker) }),
  encode: (v) => v.stickers.map((s) => ({ id: s.id, imageUrl: s.imageUrl })),
};
