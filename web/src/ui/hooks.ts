import { createContext, useContext, useSyncExternalStore } from "react";
import type { ChatClient } from "../chat/client";
import type { ChatState } from "../chat/store";

export const ClientContext = createContext<ChatClient | null>(null);

export function useClient(): ChatClient {
  const c = useContext(ClientContext);
  if (c === null) throw new Error("ChatClient missing from context");
  return c;
}

export function useChatState(): ChatState {
  const client = useClient();
  return useSyncExternalStore(client.store.subscribe, client.store.getState);
}

// Wire timestamps are any safe integer (up to 2^53-1 ms) but a Date only reaches 8.64e15 ms:
// beyond it toISOString() throws a RangeError, which inside a render would unmount the app.
// A message with such a timestamp shows no time instead.
function validDate(ts: number): Date | null {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatTime(ts: number): string {
  const d = validDate(ts);
  if (d === null) return "";
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** The `dateTime` of a message's <time>; "" when the timestamp is not a representable date. */
export function isoTime(ts: number): string {
  return validDate(ts)?.toISOString() ?? "";
}

/** A stable colour per username for avatars. */
export function avatarColour(user: string): string {
  let h = 0;
  for (const c of user) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 42%)`;
}
