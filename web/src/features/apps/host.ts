// Loading and mounting a room app (system.md §8.2): make sure `room-app-{id}` is defined (else
// add its same-origin module script once per page and wait for the definition), create the
// element in the tab's container, give it its bridge; the returned teardown removes the element
// and closes the bridge (all of its subscriptions go with it).
import { type AppTransport, type AppEventHub, createBridge } from "./bridge";
import type { RoomAppElement } from "./sdk";
import { appIdProblem } from "../../contracts/apps";
import { sameOriginUrl } from "./wire";

const kDefineTimeoutMs = 15_000;
const loading = new Map<string, Promise<void>>();

export function appTag(appId: string): string {
  return `room-app-${appId}`;
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms));
}

/** Resolves once `room-app-{id}` is defined, loading `componentUrl` as a module if needed. */
export async function ensureAppDefined(appId: string, componentUrl: string): Promise<void> {
  const problem = appIdProblem(appId);
  if (problem !== null) throw new Error(problem);
  const tag = appTag(appId);
  if (customElements.get(tag)) return;
  const url = sameOriginUrl(componentUrl, window.location.href);
  if (url === null) throw new Error(`the ${appId} app is not served by this site`);
  let p = loading.get(url);
  if (p === undefined) {
    p = new Promise<void>((resolve, reject) => {
      const script = document.createElement("script");
      script.type = "module";
      script.src = url;
      script.dataset.roomApp = appId;
      script.onload = () => resolve();
      script.onerror = () => {
        loading.delete(url);
        script.remove();
        reject(new Error(`the ${appId} app could not be loaded`));
      };
      document.head.appendChild(script);
    });
    loading.set(url, p);
  }
  await Promise.race([p, timeout(kDefineTimeoutMs, `the ${appId} app did not load in time`)]);
  await Promise.race([
    customElements.whenDefined(tag),
    timeout(kDefineTimeoutMs, `the ${appId} app did not define <${tag}>`),
  ]);
}

export interface MountOptions {
  appId: string;
  room: string;
  user: string;
  transport: AppTransport;
  hub: AppEventHub;
}

/** Mounts the app into `container`; call the result to tear it down. */
export function mountApp(container: HTMLElement, opts: MountOptions): () => void {
  const handle = createBridge(opts);
  const el = document.createElement(appTag(opts.appId)) as RoomAppElement;
  el.dataset.testid = `room-app-${opts.appId}`;
  container.appendChild(el);
  try {
    if (typeof el.setBridge !== "function") throw new Error("the app has no setBridge()");
    el.setBridge(handle.bridge);
  } catch (e) {
    handle.dispose();
    el.remove();
    throw e;
  }
  // The element goes first: its disconnectedCallback may still send (KB `stopedit`, a pending
  // whiteboard delta) through the bridge; then the bridge closes and drops its subscriptions.
  return () => {
    el.remove();
    handle.dispose();
  };
}
