// The composer's sticker button and picker: packs from `stickers.products`, then the chosen
// pack's stickers from `stickers.product.{id}`; choosing one calls `onPick(imageUrl)`, which
// sends a sticker message (ChatClient.send with stickerUrl). Images are shown at a fixed size.
import { useEffect, useReducer } from "react";
import { describeError } from "../../chat/client";
import { useClient } from "../../ui/hooks";
import { kClosed, kStickerThumbPx, pickerReducer, stickerAlt } from "./picker";
import { stickerServiceFor } from "./service";

export function StickerPicker({
  onPick,
  disabled,
}: {
  onPick: (imageUrl: string) => void;
  disabled?: boolean;
}) {
  const client = useClient();
  const [state, dispatch] = useReducer(pickerReducer, kClosed);
  const loadingPacks = state.view === "packs" && state.loading;
  const loadingPack = state.view === "stickers" && state.loading ? state.pack.id : null;

  useEffect(() => {
    if (!loadingPacks) return;
    let live = true;
    stickerServiceFor(client)
      .loadPacks()
      .then(
        (packs) => live && dispatch({ type: "packs-loaded", packs }),
        (e: unknown) =>
          live && dispatch({ type: "packs-failed", error: describeError("Stickers", e) }),
      );
    return () => {
      live = false;
    };
  }, [client, loadingPacks]);

  useEffect(() => {
    if (loadingPack === null) return;
    let live = true;
    stickerServiceFor(client)
      .loadStickers(loadingPack)
      .then(
        (stickers) => live && dispatch({ type: "stickers-loaded", pack: loadingPack, stickers }),
        (e: unknown) =>
          live &&
          dispatch({
            type: "stickers-failed",
            pack: loadingPack,
            error: describeError("Stickers", e),
          }),
      );
    return () => {
      live = false;
    };
  }, [client, loadingPack]);

  const open = state.view !== "closed";
  return (
    <div className="sticker-picker-anchor">
      <button
        type="button"
        data-testid="sticker-button"
        aria-label="Stickers"
        aria-expanded={open}
        disabled={disabled}
        onClick={() => dispatch({ type: open ? "close" : "open" })}
      >
        🖼
      </button>
      {open && (
        <div
          className="sticker-picker"
          data-testid="sticker-picker"
          role="dialog"
          aria-label="Choose a sticker"
          onKeyDown={(e) => e.key === "Escape" && dispatch({ type: "close" })}
        >
          {state.view === "packs" && (
            <>
              <p className="sticker-picker-title">Sticker packs</p>
              {state.loading && <p className="hint">Loading…</p>}
              {state.error !== "" && (
                <p className="inline-error" role="alert" data-testid="sticker-error">
                  {state.error}
                </p>
              )}
              {!state.loading && state.error === "" && state.packs.length === 0 && (
                <p className="hint">No sticker packs.</p>
              )}
              <ul className="sticker-packs">
                {state.packs.map((p) => (
                  <li key={p.id}>
                    <button
                      type="button"
                      data-testid={`sticker-pack-${p.id}`}
                      onClick={() => dispatch({ type: "choose-pack", pack: p })}
                    >
                      <img
                        src={p.thumbnailUrl}
                        width={kStickerThumbPx}
                        height={kStickerThumbPx}
                        alt=""
                      />
                      <span>{p.name}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          {state.view === "stickers" && (
            <>
              <p className="sticker-picker-title">
                <button
                  type="button"
                  data-testid="sticker-back"
                  aria-label="Back to the packs"
                  onClick={() => dispatch({ type: "back" })}
                >
                  ←
                </button>{" "}
                {state.pack.name}
              </p>
              {state.loading && <p className="hint">Loading…</p>}
              {state.error !== "" && (
                <p className="inline-error" role="alert" data-testid="sticker-error">
                  {state.error}
                </p>
              )}
              <ul className="sticker-grid">
                {state.stickers.map((s) => (
                  <li key={s.id}>
                    <button
                      type="button"
                      data-testid={`sticker-${s.id}`}
                      data-sticker-url={s.imageUrl}
                      aria-label={stickerAlt(s.id)}
                      onClick={() => {
                        dispatch({ type: "close" });
                        onPick(s.imageUrl);
                      }}
                    >
                      <img
                        src={s.imageUrl}
                        width={kStickerThumbPx}
                        height={kStickerThumbPx}
                        alt=""
                      />
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </div>
  );
}
