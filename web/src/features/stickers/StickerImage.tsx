// A sticker message's image: only same-origin /stickers/ URLs (contracts isAllowedStickerUrl),
// at a fixed size with width/height set so the timeline does not shift when it loads.
import { isAllowedStickerUrl } from "../../contracts/messages";
import { kStickerSizePx, stickerAlt } from "./picker";

export function StickerImage({ url }: { url: string }) {
  if (!isAllowedStickerUrl(url)) return null;
  return (
    <img
      className="sticker"
      data-testid="message-sticker"
      src={url}
      width={kStickerSizePx}
      height={kStickerSizePx}
      alt={stickerAlt(url)}
      loading="lazy"
      decoding="async"
    />
  );
}
