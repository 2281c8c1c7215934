// Vite build + dev server + Vitest configuration. The dev server (port 5173; nginx owns 3000)
// proxies the same paths nginx does (deploy/local/nginx.conf), so the app's same-origin URLs
// from /config.json work unchanged: /auth/ → auth-service, /otlp/v1/traces → the trace sink
// (observability.md §8.7), /nats → the NATS websocket port. Targets follow docs/ports.md and
// can be moved with the NATS_CHAT_* environment variables.
import { defineConfig } from "vitest/config";
import type { Plugin } from "vite";
import react from "@vitejs/plugin-react";

const host = process.env.NATS_CHAT_HOST ?? "127.0.0.1";
const authPort = process.env.CHAT_AUTH_HTTP_PORT ?? "9430";
const sinkPort = process.env.NATS_CHAT_SINK_PORT ?? "4318";
const natsWsPort = process.env.NATS_CHAT_NATS_WS_PORT ?? "4223";

/**
 * Dev server only: the room apps' component URLs (/apps/<id>/<id>-app.js, built for nginx by
 * vite.apps.config.ts) are answered from their sources, so `npm run dev` loads them too.
 */
function roomAppsFromSource(): Plugin {
  return {
    name: "nats-chat-room-apps-dev",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const m = /^\/apps\/([a-z]+)\/\1-app\.js(\?.*)?$/.exec(req.url ?? "");
        if (m) req.url = `/src/features/apps/${m[1]}/${m[1]}-app.ts${m[2] ?? ""}`;
        next();
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), roomAppsFromSource()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: {
      "/auth/": { target: `http://${host}:${authPort}`, changeOrigin: false },
      "/otlp/v1/traces": {
        target: `http://${host}:${sinkPort}`,
        rewrite: () => "/v1/traces",
      },
      "/nats": { target: `ws://${host}:${natsWsPort}`, ws: true, rewrite: () => "/" },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
    target: "es2022",
    chunkSizeWarningLimit: 800,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
    watch: false,
  },
});
