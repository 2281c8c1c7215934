// The room app bundles (src/features/apps/{poll,whiteboard,kb}), built after the chat client
// into dist/apps/ and served by the same nginx at /apps/<id>/<id>-app.js — the component_url
// the registry stores (db migration of app-registry). Each entry is an ES module that only
// defines `<room-app-{id}>`; the heavy editors (Excalidraw with its own React, TipTap) are
// dynamic imports in chunks/, fetched when a board or page is opened, never by the chat bundle.
// Excalidraw's fonts are copied next to the whiteboard bundle (whiteboard-app.ts points
// EXCALIDRAW_ASSET_PATH there): the browser never needs the public CDN.
import { cpSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const kAppsDir = resolve(import.meta.dirname, "src/features/apps");
const kOut = resolve(import.meta.dirname, "dist/apps");

/** Copies @excalidraw/excalidraw's fonts to dist/apps/whiteboard/fonts after the build. */
function excalidrawFonts(): Plugin {
  return {
    name: "nats-chat-excalidraw-fonts",
    apply: "build",
    closeBundle() {
      const entry = createRequire(import.meta.url).resolve("@excalidraw/excalidraw");
      const fonts = resolve(dirname(entry), "fonts");
      if (!existsSync(fonts)) throw new Error(`Excalidraw fonts not found at ${fonts}`);
      cpSync(fonts, resolve(kOut, "whiteboard/fonts"), { recursive: true });
    },
  };
}

export default defineConfig({
  base: "/apps/",
  publicDir: false,
  plugins: [react(), excalidrawFonts()],
  build: {
    outDir: kOut,
    emptyOutDir: true,
    sourcemap: true,
    target: "es2022",
    // Excalidraw alone is ~1.5 MB minified; it is lazy (opened boards only).
    chunkSizeWarningLimit: 2500,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        poll: resolve(kAppsDir, "poll/poll-app.ts"),
        whiteboard: resolve(kAppsDir, "whiteboard/whiteboard-app.ts"),
        kb: resolve(kAppsDir, "kb/kb-app.ts"),
      },
      preserveEntrySignatures: "exports-only",
      output: {
        entryFileNames: "[name]/[name]-app.js",
        chunkFileNames: "chunks/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
});
