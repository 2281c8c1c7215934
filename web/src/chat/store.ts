// A small observable store for the chat state (React reads it with useSyncExternalStore).
// `afterRender` queues callbacks that the App runs in an effect after the next commit, which is
// how action spans learn that their echo is on screen (event echo_rendered / message_rendered).
import type { Tier } from "../auth/credentials";
import type { PresenceStatus } from "../contracts/presence";
import type { RoomView, ThreadView } from "./model";

export type ConnectionState =
  "signed-out" | "connecting" | "connected" | "reconnecting" | "disconnected" | "closed";

export interface ErrorItem {
  id: number;
  message: string;
}

export interface ChatState {
  phase: "loading" | "signed-out" | "signing-in" | "ready" | "fatal";
  connection: ConnectionState;
  user: string;
  tier: Tier;
  displayName: string;
  roles: string[];
  status: PresenceStatus;
  rooms: Record<string, RoomView>;
  roomOrder: string[];
  activeRoom: string | null;
  thread: ThreadView | null;
  threads: Record<string, ThreadView>;
  errors: ErrorItem[];
  notice: string | null;
  version: number;
}

export function initialState(): ChatState {
  return {
    phase: "loading",
    connection: "signed-out",
    user: "",
    tier: "none",
    displayName: "",
    roles: [],
    status: "online",
    rooms: {},
    roomOrder: [],
    activeRoom: null,
    thread: null,
    threads: {},
    errors: [],
    notice: null,
    version: 0,
  };
}

export class Store {
  private state: ChatState = initialState();
  private listeners = new Set<() => void>();
  private rendered: Array<() => void> = [];
  private nextErrorId = 1;

  getState = (): ChatState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  update(fn: (s: ChatState) => Partial<ChatState>): void {
    const patch = fn(this.state);
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    for (const l of this.listeners) l();
  }

  updateRoom(key: string, fn: (r: RoomView) => Partial<RoomView>): void {
    const room = this.state.rooms[key];
    if (!room) return;
    this.update((s) => ({ rooms: { ...s.rooms, [key]: { ...room, ...fn(room) } } }));
  }

  /** Runs `cb` once the current state has been committed to the DOM. */
  afterRender(cb: () => void): void {
    this.rendered.push(cb);
    this.update(() => ({}));
  }

  /** Called by the App's effect after each commit. */
  flushRendered(): void {
    const cbs = this.rendered;
    this.rendered = [];
    for (const cb of cbs) {
      try {
        cb();
      } catch {
        // A telemetry callback must never break rendering.
      }
    }
  }

  pushError(message: string): void {
    const id = this.nextErrorId++;
    this.update((s) => ({
      errors: [...s.errors.filter((e) => e.message !== message), { id, message }].slice(-5),
    }));
  }

  dismissError(id: number): void {
    this.update((s) => ({ errors: s.errors.filter((e) => e.id !== id) }));
  }
}
