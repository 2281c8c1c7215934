// The Excalidraw editor of an open board, a lazy chunk of the whiteboard bundle (React and
// Excalidraw load only when a board is opened). Its stylesheet is inlined here and added to the
// page once; fonts come from EXCALIDRAW_ASSET_PATH (set by whiteboard-app.ts to the local copy).
import { CaptureUpdateAction, Excalidraw, restoreElements } from "@excalidraw/excalidraw";
import type { ExcalidrawImperativeAPI } from "@excalidraw/excalidraw/types";
import excalidrawCss from "@excalidraw/excalidraw/index.css?inline";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import type { WbElement } from "./sync";

export interface EditorHandle {
  /** The whole scene, deleted elements included (a deletion is a new version with isDeleted). */
  elements(): readonly WbElement[];
  /** Replaces the scene with remote changes; not an undoable local change. */
  update(elements: readonly WbElement[]): void;
  destroy(): void;
}

export interface EditorOptions {
  initial: readonly WbElement[];
  onChange(elements: readonly WbElement[]): void;
}

type SceneElements = Parameters<ExcalidrawImperativeAPI["updateScene"]>[0]["elements"];

/**
 * Elements from the service or another user pass Excalidraw's own restore step before they
 * reach the scene: it fills missing fields and drops what it cannot repair, so one malformed
 * element from a peer cannot crash everybody's editor. Versions are kept (no local elements).
 */
function restored(elements: readonly WbElement[]): SceneElements {
  const opts = { refreshDimensions: false, repairBindings: true };
  // restoreElements itself throws on some malformed shapes (a line without points): an element
  // it cannot restore on its own is left out, then the rest is restored together (bindings).
  const usable = elements.filter((e) => {
    try {
      return restoreElements([e] as unknown as SceneElements, null, opts).length === 1;
    } catch {
      return false;
    }
  });
  return restoreElements(usable as unknown as SceneElements, null, opts);
}

function ensureStyles(): void {
  if (document.querySelector("style[data-room-app-whiteboard]")) return;
  const style = document.createElement("style");
  style.dataset.roomAppWhiteboard = "";
  style.textContent = excalidrawCss;
  document.head.appendChild(style);
}

export function mountEditor(container: HTMLElement, opts: EditorOptions): EditorHandle {
  ensureStyles();
  let api: ExcalidrawImperativeAPI | null = null;
  const root = createRoot(container);
  const current = (): readonly WbElement[] =>
    api === null ? opts.initial : api.getSceneElementsIncludingDeleted();
  root.render(
    <StrictMode>
      <Excalidraw
        excalidrawAPI={(a) => {
          api = a;
        }}
        initialData={{
          elements: restored(opts.initial),
          appState: { theme: "dark" },
          scrollToContent: true,
        }}
        theme="dark"
        onChange={() => opts.onChange(current())}
      />
    </StrictMode>,
  );
  return {
    elements: current,
    update(elements) {
      api?.updateScene({
        elements: restored(elements),
        captureUpdate: CaptureUpdateAction.NEVER,
      });
    },
    destroy() {
      root.unmount();
    },
  };
}
