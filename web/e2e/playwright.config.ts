// Browser end-to-end tests against a running stack (./nats-chat test brings one up on shifted
// ports and passes its URLs in the environment; see lib/env.ts). Debian's chromium is driven
// through executablePath: no browser is downloaded.
import { defineConfig } from "@playwright/test";
import { env } from "./lib/env.js";

export default defineConfig({
  testDir: "./tests",
  // The specs share one stack and assert on its trace store: run them one after another.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  retries: 0,
  outputDir: `${env.outputDir}/results`,
  reporter: [["list"], ["html", { outputFolder: `${env.outputDir}/report`, open: "never" }]],
  use: {
    baseURL: env.webUrl,
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: env.chromiumPath,
      // Root cannot use chromium's sandbox; CI runs as root.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    },
  },
});
