// Entry point: read /config.json, start tracing (failure only disables tracing), render, then
// let the ChatClient finish a login callback or resume the tab's session.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ChatClient } from "./chat/client";
import { loadConfig } from "./config";
import { initTelemetry } from "./telemetry/setup";
import { App } from "./ui/App";
import { ErrorBoundary } from "./ui/ErrorBoundary";
import { ClientContext } from "./ui/hooks";
import "./styles.css";

async function main(): Promise<void> {
  const rootEl = document.getElementById("root")!;
  let config;
  try {
    config = await loadConfig();
  } catch (e) {
    rootEl.innerHTML = "";
    const p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.className = "fatal";
    p.textContent = `The app cannot start: ${(e as Error).message}`;
    rootEl.appendChild(p);
    return;
  }
  initTelemetry({
    otlpTracesUrl: config.otlpTracesUrl,
    version: config.version,
    environment: config.environment,
  });
  const client = new ChatClient();
  createRoot(rootEl).render(
    <StrictMode>
      <ErrorBoundary>
        <ClientContext.Provider value={client}>
          <App />
        </ClientContext.Provider>
      </ErrorBoundary>
    </StrictMode>,
  );
  await client.start(config);
}

void main();
