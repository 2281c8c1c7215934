// The contract between the host (the chat page) and a room app (system.md §8.2): the immutable
// bridge object the host hands to `<room-app-{id}>` through `setBridge(bridge)`. App bundles
// (poll/, whiteboard/, kb/) import only this module from outside their folder, so they never
// reach the NATS connection, the chat client or the telemetry setup.

/** JSON as the bridge delivers it (replies and event payloads). */
export type AppJson = null | boolean | number | string | AppJson[] | { [key: string]: AppJson };
export type AppJsonObject = { [key: string]: AppJson };

export interface AppBridge {
  readonly appId: string;
  readonly room: string;
  readonly user: { readonly username: string };
  /**
   * Requests `app.{appId}.{room}.{action}.{user}` with `data` as the body (its `user` replaced
   * by the signed-in username). Resolves with the parsed reply, error replies included
   * (`{"error": …}` is returned, not thrown); rejects on a bad action name, a timeout (5 s), no
   * responders or once the bridge is closed.
   */
  request(action: string, data?: AppJsonObject): Promise<AppJson>;
  /**
   * Calls `cb` with the parsed payload of every `deliver.{user}.app.{appId}.{room}.{event}`
   * until the returned function is called or the host tears the app down.
   */
  subscribe(event: string, cb: (payload: AppJson) => void): () => void;
}

/** What `<room-app-{id}>` implements: the host calls it once after inserting the element. */
export interface RoomAppElement extends HTMLElement {
  setBridge(bridge: AppBridge): void;
}

export function isJsonObject(v: AppJson | undefined): v is AppJsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The error text of a reply, or null when it is not an error: the repository's
 * `{"error":{"code","message"}}` and system.md's `{"error":"text"}` are both understood.
 */
export function replyError(reply: AppJson): string | null {
  if (!isJsonObject(reply) || !("error" in reply)) return null;
  const e = reply.error;
  if (typeof e === "string") return e;
  if (isJsonObject(e) && typeof e.message === "string") return e.message;
  return "the request failed";
}

/**
 * An app's request through its bridge: the reply, or null after `showError` was given the error
 * reply's text or the transport failure (the apps show it in their error line).
 */
export async function callApp(
  bridge: AppBridge | null,
  action: string,
  data: Record<string, AppJson> | undefined,
  showError: (text: string) => void,
): Promise<AppJson | null> {
  if (bridge === null) return null;
  try {
    const reply = await bridge.request(action, data);
    const err = replyError(reply);
    if (err !== null) {
      showError(err);
      return null;
    }
    return reply;
  } catch (e) {
    showError(e instanceof Error ? e.message : "the request failed");
    return null;
  }
}

/** A string field of a reply object, or `fallback`. */
export function str(o: AppJsonObject, key: string, fallback = ""): string {
  const v = o[key];
  return typeof v === "string" ? v : fallback;
}

/** A finite number field of a reply object, or `fallback`. */
export function num(o: AppJsonObject, key: string, fallback = 0): number {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/** The array under `key` of an object reply, or the reply itself when it is an array. */
export function listOf(reply: AppJson, key: string): AppJson[] {
  if (Array.isArray(reply)) return reply;
  if (isJsonObject(reply) && Array.isArray(reply[key])) return reply[key];
  return [];
}

/** Defines `room-app-{id}` unless a bundle loaded twice already did. */
export function defineRoomApp(id: string, ctor: CustomElementConstructor): void {
  const tag = `room-app-${id}`;
  if (!customElements.get(tag)) customElements.define(tag, ctor);
}
