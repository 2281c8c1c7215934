// Where the stack under test is. `./nats-chat test` sets every variable for its test stack;
// the defaults are the developer's own `./nats-chat up` (docs/ports.md).
import { execFileSync } from "node:child_process";
import * as path from "node:path";

function chromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium not found: install Debian's chromium package (./nats-chat up does)");
  }
}

const root = path.resolve(import.meta.dirname, "..", "..");

export const env = {
  webUrl: process.env.WEB_URL ?? "http://127.0.0.1:3000",
  sinkUrl: process.env.SINK_URL ?? "http://127.0.0.1:4318",
  prometheusUrl: process.env.PROMETHEUS_URL ?? "http://127.0.0.1:9090",
  natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  natsCreds: process.env.NATS_CREDS ?? path.join(root, "var/nats/creds/dev-admin.creds"),
  pgDsn: process.env.PG_DSN ?? "postgresql://postgres@127.0.0.1:5433/chatdb",
  outputDir: process.env.E2E_OUTPUT_DIR ?? path.join(root, "var/log/web-e2e"),
  chromiumPath: chromium(),
};
