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

export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A stable colour per username for avatars. */
export function avatarColour(user: string): string {
  let h = 0;
  for (const c of user) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 42%)`;
}
