// ChatClient: everything the browser does on the bus, with the tracing contract of
// observability.md §4.5 (one INTERNAL root span per user action, its context passed explicitly
// to every wrapper call) and the flows of libs/client (login, send/edit/delete/react, history,
// rooms, join/leave, create, watch) plus the browser-only parts of system.md §7 (presence,
// read positions, threads, DMs, private-room management, the admin channel).
//
// Subjects follow ADR 0001: mutations carry `.{user}` last; read-only requests are answered to
// the `_INBOX.{user}.` inbox the connection uses. All traffic goes through TracedNats.
import { type Context, ROOT_CONTEXT, type Tracer, trace } from "@opentelemetry/api";
import { type NatsCredentials, fetchCredentials } from "../auth/credentials";
import {
  AuthError,
  beginLogin,
  claimsOf,
  clearTokens,
  completeLogin,
  isCallback,
  loadTokens,
  logout as oidcLogout,
  refreshTokens,
  type Tokens,
} from "../auth/oidc";
import type { AppConfig } from "../config";
import {
  dmRoomKey,
  isDmParticipant,
  isDmRoom,
  kAdminMembershipRoom,
  kAdminRoom,
  kMaxTextBytes,
  kSystemUser,
  messageId,
  roomKeyProblem,
  threadId as makeThreadId,
  usernameProblem,
  utf8Bytes,
} from "../contracts/ids";
import {
  type ChatMessage,
  ChatMessageCodec,
  chatMessage,
  DmListReplyCodec,
  HistoryPageCodec,
  HistoryRequestCodec,
  HistoryThreadReplyCodec,
  MsgGetRequestCodec,
  type Notification,
  NotificationCodec,
} from "../contracts/messages";
import {
  type PresenceStatus,
  PresenceDiffCodec,
  PresenceHeartbeatCodec,
  PresenceRoomReplyCodec,
  PresenceUpdateCodec,
} from "../contracts/presence";
import { fromJson, toJson } from "../contracts/reader";
import { ReadStateReplyCodec, ReadUpdateCodec } from "../contracts/receipts";
import { OkReplyCodec } from "../contracts/replies";
import {
  isReservedRoomName,
  RoomCreateRequestCodec,
  RoomDepartRequestCodec,
  RoomInfoCodec,
  RoomListReplyCodec,
  RoomListRequestCodec,
  RoomMembershipRequestCodec,
  RoomTargetRequestCodec,
} from "../contracts/rooms";
import { parseSubject, Subjects } from "../contracts/subjects";
import {
  connectNats,
  createUserKey,
  DebugEvents,
  Events,
  type Msg,
  type NatsConnection,
  refusalOf,
  type Subscription,
  type UserKey,
} from "../nats/connection";
import { type Delivery, NatsCallError, TracedNats } from "../nats/traced";
import { Action, errorTypeOf } from "../telemetry/actions";
import { Attr, SpanNames } from "../telemetry/attributes";
import { flushTelemetry, getTracer } from "../telemetry/setup";
import {
  applyUpdate,
  capLive,
  extractMentions,
  fromChat,
  fromHistory,
  kDefaultRooms,
  mergeHistory,
  type MessageView,
  newRoom,
  type RoomKind,
  roomKindOf,
  sanitizeRoomName,
  type ThreadView,
  upsertMessage,
} from "./model";
import { Store } from "./store";

const kEchoTimeoutMs = 10_000;
const kHeartbeatMs = 10_000;
const kMarkReadDebounceMs = 3_000;
const kMsgGetTimeoutMs = 5_000;

type EchoKey = string;

function echoKey(
  action: string,
  room: string,
  timestamp: number,
  user: string,
  emoji = "",
): EchoKey {
  return `${action}|${room}|${timestamp}|${user}|${emoji}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A child failure the parent absorbs (`fallback`) or retries (`retry`) leaves the parent UNSET
 * with that event (observability.md §4.4); the failed child span itself already says why.
 */
function parentEvent(ctx: Context, name: "retry" | "fallback", e: unknown): void {
  trace.getSpan(ctx)?.addEvent(name, { [Attr.errorType]: errorTypeOf(e) });
}

/**
 * Inbound messages are handled off the subscription callback; nothing they throw may escape
 * into nats.ws or the page (robustness: a bad message is dropped and noted at debug level).
 */
function guarded(what: string, run: () => Promise<void> | void): void {
  try {
    const p = run();
    if (p) p.catch(() => console.debug(`${what}: message dropped (handler failed)`));
  } catch {
    console.debug(`${what}: message dropped (handler failed)`);
  }
}

/** Human text for an error shown in the banner (never tokens or payloads). */
export function describeError(what: string, e: unknown): string {
  if (e instanceof NatsCallError) {
    switch (e.type) {
      case "timeout":
        return `${what}: the service did not answer in time.`;
      case "no_responders":
        return `${what}: no service is answering right now.`;
      case "permission_denied":
        return `${what}: not allowed (${e.message}).`;
      default:
        return `${what}: ${e.message}`;
    }
  }
  if (e instanceof Error) return `${what}: ${e.message}`;
  return `${what}: unexpected error.`;
}

export class ChatClient {
  readonly store = new Store();
  private readonly tracer: Tracer = getTracer();
  private config: AppConfig | null = null;
  private tokens: Tokens | null = null;
  private key: UserKey | null = null;
  private creds: NatsCredentials | null = null;
  private nc: NatsConnection | null = null;
  private traced: TracedNats | null = null;
  private readonly connId = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  // Actions waiting for their echo, oldest first per key: the same change can be in flight twice
  // (a reaction toggled on and off, an edit saved twice) and each echo settles one of them.
  private readonly echoes = new Map<EchoKey, Action[]>();
  private readonly roomSubs = new Map<string, Subscription[]>();
  private readonly joined = new Set<string>();
  private readonly markReadTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private lastTimestamp = 0;
  private refreshAction: Action | null = null;
  // Handlers of deliver.{user}.app.… (src/features/apps dispatches them to the app bridges).
  private readonly appEventHandlers = new Set<(msg: Msg) => void>();
  // Handlers of deliver.{user}.translate.response (src/features/translate).
  private readonly translateHandlers = new Set<(msg: Msg) => void>();

  get user(): string {
    return this.store.getState().user;
  }

  get readOnly(): boolean {
    return this.store.getState().tier === "none";
  }

  /** The traced connection once signed in (null before): for src/features/ (room apps). */
  get nats(): TracedNats | null {
    return this.traced;
  }

  /** Registers a handler for `deliver.{user}.app.…` deliveries; returns its removal. */
  onAppEvent(handler: (msg: Msg) => void): () => void {
    this.appEventHandlers.add(handler);
    return () => this.appEventHandlers.delete(handler);
  }

  /** Registers a handler for `deliver.{user}.translate.response` chunks; returns its removal. */
  onTranslateChunk(handler: (msg: Msg) => void): () => void {
    this.translateHandlers.add(handler);
    return () => this.translateHandlers.delete(handler);
  }

  // ---------------------------------------------------------------- login and connection

  async start(config: AppConfig): Promise<void> {
    this.config = config;
    if (isCallback()) {
      await this.login("callback");
      return;
    }
    const t = loadTokens();
    if (t !== null && (t.expiresAt > Date.now() + 15_000 || t.refreshToken !== null)) {
      this.tokens = t;
      await this.login("resume");
      return;
    }
    this.store.update(() => ({ phase: "signed-out" }));
  }

  async signIn(): Promise<void> {
    const c = this.config!;
    try {
      await beginLogin(c.issuer, c.clientId);
    } catch (e) {
      this.store.pushError(describeError("Sign-in failed", e));
    }
  }

  /** `login` root span: token exchange (or resume), credentials, NATS connection (§5.5). */
  private async login(mode: "callback" | "resume"): Promise<void> {
    const c = this.config!;
    this.store.update(() => ({ phase: "signing-in", connection: "connecting" }));
    const action = new Action(this.tracer, SpanNames.login);
    try {
      if (mode === "callback") {
        this.tokens = await completeLogin(this.tracer, action.ctx, c.issuer, c.clientId);
      } else if (this.tokens!.expiresAt < Date.now() + 15_000) {
        this.tokens = await refreshTokens(
          this.tracer,
          action.ctx,
          c.issuer,
          c.clientId,
          this.tokens!,
        );
      }
      const claims = claimsOf(this.tokens!.accessToken);
      this.key = createUserKey();
      this.creds = await fetchCredentials(
        this.tracer,
        action.ctx,
        c.credentialsUrl,
        this.tokens!.accessToken,
        this.key,
      );
      action.setAttributes({ [Attr.user]: this.creds.user });
      this.store.update(() => ({
        user: this.creds!.user,
        tier: this.creds!.tier,
        displayName: claims.name || this.creds!.user,
        roles: claims.roles,
      }));
      const seed = this.key.seed;
      this.nc = await connectNats(this.tracer, action.ctx, {
        url: c.natsUrl,
        user: this.creds.user,
        name: `web-frontend:${this.creds.user}`,
        jwt: () => this.creds!.jwt,
        seed,
      });
      this.traced = new TracedNats(this.nc, this.tracer, `web-frontend:${this.creds.user}`);
      (window as unknown as { natsChat: unknown }).natsChat = {
        connection: this.nc,
        user: this.creds.user,
      };
      this.store.update(() => ({ phase: "ready", connection: "connected" }));
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      if (e instanceof AuthError || mode === "resume") clearTokens();
      this.store.update(() => ({ phase: "signed-out", connection: "signed-out" }));
      this.store.pushError(describeError("Sign-in failed", e));
      return;
    }
    this.watchStatus();
    this.subscribeDeliver();
    this.scheduleRefresh();
    window.addEventListener("pagehide", () => this.onUnload());
    await this.onConnected(true);
  }

  private watchStatus(): void {
    const nc = this.nc!;
    void (async () => {
      for await (const s of nc.status()) {
        switch (s.type) {
          case Events.Disconnect:
            this.store.update(() => ({ connection: "reconnecting" }));
            break;
          case DebugEvents.Reconnecting:
            this.store.update(() => ({ connection: "reconnecting" }));
            break;
          case Events.Reconnect:
            this.store.update(() => ({ connection: "connected" }));
            if (this.refreshAction !== null) {
              this.refreshAction.event("reconnected").end();
              this.refreshAction = null;
            }
            void this.onConnected(false);
            break;
          case Events.Error: {
            // nats.ws reports the error code in `data` and, for permission errors, the refused
            // operation and subject in `permissionContext`.
            const refusal = refusalOf(s.data);
            const ctx = (s as { permissionContext?: { operation?: string; subject?: string } })
              .permissionContext;
            if (refusal === "permission") {
              const what = ctx?.subject
                ? ` (${ctx.operation ?? "operation"} to ${ctx.subject})`
                : "";
              this.store.pushError(
                `The chat server refused an operation: permission denied${what}.`,
              );
            } else if (refusal === "credentials") {
              this.store.pushError("The chat server refused the credentials; reconnecting…");
            }
            break;
          }
          default:
            break;
        }
      }
    })();
    void nc.closed().then((err) => {
      this.store.update(() => ({ connection: "closed" }));
      if (err) this.store.pushError("The connection to the chat server was closed.");
    });
  }

  /** system.md §7.3, on every (re)connection. */
  private async onConnected(first: boolean): Promise<void> {
    const t = this.traced!;
    const me = this.user;
    try {
      t.publishUntraced(
        Subjects.presenceUpdate,
        { user: me },
        toJson(PresenceUpdateCodec, { userId: me, status: this.store.getState().status }),
      );
      this.sendHeartbeat();
    } catch {
      // Presence is best effort; the heartbeat timer retries.
    }
    if (this.heartbeat === null)
      this.heartbeat = setInterval(() => this.sendHeartbeat(), kHeartbeatMs);

    if (!first) {
      // Notifications published while we were away are lost: re-join (presence-service may have
      // issued leaves) and reload the newest page of the open room.
      for (const room of [...this.joined]) void this.joinRoom(room, { background: true });
      const active = this.store.getState().activeRoom;
      if (active !== null && this.store.getState().rooms[active]?.historyLoaded)
        void this.reloadNewest(active);
      return;
    }
    const initial: Array<{ key: string; kind: RoomKind; displayName?: string }> = kDefaultRooms.map(
      (k) => ({ key: k, kind: "public" as const }),
    );
    if (this.store.getState().tier === "admin") initial.push({ key: kAdminRoom, kind: "admin" });
    for (const r of initial) this.addRoom(r.key, r.kind, r.displayName ?? "");
    this.store.update(() => ({ activeRoom: "general" }));
    void this.openRoom("general");
    for (const r of initial)
      if (r.key !== "general") void this.joinRoom(r.key, { background: true });
    void this.discoverRooms();
  }

  private sendHeartbeat(): void {
    const me = this.user;
    try {
      this.traced?.publishUntraced(
        Subjects.presenceHeartbeat,
        { user: me },
        toJson(PresenceHeartbeatCodec, { userId: me, connId: this.connId }),
      );
    } catch {
      // Closed connection: the next (re)connect resumes heartbeats.
    }
  }

  /** Private rooms (room.list) and DMs (history.dms + this browser's list). */
  private async discoverRooms(): Promise<void> {
    const t = this.traced!;
    const me = this.user;
    const action = new Action(this.tracer, "load_rooms");
    try {
      const [list, dms] = await Promise.allSettled([
        t.request(
          action.ctx,
          Subjects.roomList,
          {},
          toJson(RoomListRequestCodec, { user: me }),
          RoomListReplyCodec,
        ),
        t.request(action.ctx, Subjects.historyDms, {}, "", DmListReplyCodec),
      ]);
      if (list.status === "fulfilled") {
        for (const info of list.value.rooms) {
          this.addRoom(info.name, roomKindOf(info.name, info.type), info.displayName);
          void this.joinRoom(info.name, { background: true });
        }
      } else {
        this.store.pushError(describeError("Could not list your private rooms", list.reason));
      }
      const dmKeys = new Set<string>(this.localDms());
      if (dms.status === "fulfilled") for (const k of dms.value.rooms) dmKeys.add(k);
      else this.store.pushError(describeError("Could not list your direct messages", dms.reason));
      for (const k of dmKeys) {
        if (!isDmParticipant(k, me)) continue;
        this.addRoom(k, "dm");
        void this.joinRoom(k, { background: true });
      }
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
    }
  }

  private localDmKey(): string {
    return `nats-chat.dm-rooms.${this.user}`;
  }

  private localDms(): string[] {
    try {
      const v = JSON.parse(localStorage.getItem(this.localDmKey()) ?? "[]") as unknown;
      return Array.isArray(v)
        ? v.filter((x): x is string => typeof x === "string" && roomKeyProblem(x) === null)
        : [];
    } catch {
      return [];
    }
  }

  private rememberDm(key: string): void {
    const list = new Set(this.localDms());
    list.add(key);
    try {
      localStorage.setItem(this.localDmKey(), JSON.stringify([...list]));
    } catch {
      // Storage full or disabled: the DM is still discovered through history.dms.
    }
  }

  // -------------------------------------------------------------------- credentials refresh

  private scheduleRefresh(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    const expiry = Math.min(this.tokens?.expiresAt ?? Infinity, this.creds?.expiresAt ?? Infinity);
    if (!Number.isFinite(expiry)) return;
    const delay = Math.max(10_000, expiry - Date.now() - 60_000);
    this.refreshTimer = setTimeout(() => void this.refreshCredentials(), delay);
  }

  /** `refresh_credentials` root: refresh grant, new user JWT for the same nkey, reconnect. */
  private async refreshCredentials(): Promise<void> {
    const c = this.config!;
    const action = new Action(this.tracer, SpanNames.refreshCredentials);
    try {
      this.tokens = await refreshTokens(
        this.tracer,
        action.ctx,
        c.issuer,
        c.clientId,
        this.tokens!,
      );
      this.creds = await fetchCredentials(
        this.tracer,
        action.ctx,
        c.credentialsUrl,
        this.tokens.accessToken,
        this.key!,
      );
      // The authenticator reads this.creds on every (re)connect; reconnect now so the new JWT is
      // in use before the old one expires. The span ends when the reconnect completes.
      this.refreshAction = action;
      action.deadline(
        15_000,
        "reconnect_timeout",
        "reconnect with the new credentials did not complete",
      );
      this.scheduleRefresh();
      if (this.nc !== null && typeof this.nc.reconnect === "function") {
        await this.nc.reconnect();
      } else {
        action.end();
      }
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.refreshAction = null;
      this.store.update(() => ({
        notice: "Your session has expired. Sign in again to keep chatting.",
      }));
      this.store.pushError(describeError("Could not renew the session", e));
    }
  }

  async logout(): Promise<void> {
    const c = this.config!;
    this.onUnload();
    try {
      await this.nc?.drain();
    } catch {
      // Already closed.
    }
    await flushTelemetry();
    await oidcLogout(c.issuer, c.clientId);
  }

  private onUnload(): void {
    const me = this.user;
    if (!me || this.traced === null) return;
    try {
      this.traced.publishUntraced(
        Subjects.presenceDisconnect,
        { user: me },
        toJson(PresenceHeartbeatCodec, { userId: me, connId: this.connId }),
      );
      void this.nc?.flush();
    } catch {
      // Closing anyway.
    }
    void flushTelemetry();
  }

  // ------------------------------------------------------------------------------- rooms

  private addRoom(key: string, kind: RoomKind, displayName = ""): void {
    if (roomKeyProblem(key) !== null) return;
    const s = this.store.getState();
    if (s.rooms[key]) {
      if (displayName && !s.rooms[key].displayName)
        this.store.updateRoom(key, () => ({ displayName }));
      return;
    }
    this.store.update((st) => ({
      rooms: { ...st.rooms, [key]: newRoom(key, kind, displayName) },
      roomOrder: [...st.roomOrder, key],
    }));
  }

  private removeRoom(key: string): void {
    for (const sub of this.roomSubs.get(key) ?? []) sub.unsubscribe();
    this.roomSubs.delete(key);
    this.joined.delete(key);
    this.store.update((s) => {
      const rooms = { ...s.rooms };
      delete rooms[key];
      return {
        rooms,
        roomOrder: s.roomOrder.filter((k) => k !== key),
        activeRoom: s.activeRoom === key ? "general" : s.activeRoom,
        thread: s.thread?.room === key ? null : s.thread,
      };
    });
  }

  /** The ROOMS membership key of a room (the admin channel joins `__admin__chat`). */
  private membershipKey(room: string): string {
    return room === kAdminRoom ? kAdminMembershipRoom : room;
  }

  /**
   * `join_room`: publish room.join.{room}.{user}, subscribe the room's public subjects, read the
   * read position (unread count). With `open`, the room's presence and history load inside it.
   */
  async joinRoom(key: string, opts: { background?: boolean; open?: boolean } = {}): Promise<void> {
    const t = this.traced;
    const room = this.store.getState().rooms[key];
    if (!t || !room) return;
    const me = this.user;
    const action = new Action(this.tracer, SpanNames.joinRoom, {
      [Attr.room]: key,
      [Attr.roomType]: room.kind,
    });
    try {
      await t.publish(
        action.ctx,
        Subjects.roomJoin,
        { room: this.membershipKey(key), user: me },
        toJson(RoomMembershipRequestCodec, { userId: me }),
        {
          attributes: { [Attr.room]: key },
        },
      );
      this.joined.add(key);
      this.subscribeRoom(key);
      this.store.updateRoom(key, () => ({ joined: true }));
      if (opts.open) {
        await this.loadRoom(key, action);
      } else {
        await this.loadReadState(action.ctx, key, true);
      }
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      if (!opts.background) this.store.pushError(describeError(`Could not join ${key}`, e));
    }
  }

  /** Public rooms have their own notify/presence subjects; the rest arrive on deliver.{user}.> */
  private subscribeRoom(key: string): void {
    if (this.roomSubs.has(key) || this.nc === null) return;
    const room = this.store.getState().rooms[key];
    if (!room || room.kind !== "public") {
      this.roomSubs.set(key, []);
      return;
    }
    const notify = this.nc.subscribe(`room.notify.${key}`, {
      callback: (err, msg) => {
        if (!err) guarded("room.notify", () => this.onNotification(Subjects.roomNotify, msg));
      },
    });
    const presence = this.nc.subscribe(`room.presence.${key}`, {
      callback: (err, msg) => {
        if (!err) guarded("room.presence", () => this.onPresenceDiff(key, msg));
      },
    });
    this.roomSubs.set(key, [notify, presence]);
  }

  /** One wildcard subscription deliver.{user}.>, dispatched on token 3 (system.md §3.4). */
  private subscribeDeliver(): void {
    const me = this.user;
    this.nc!.subscribe(`deliver.${me}.>`, {
      callback: (err, msg) => {
        if (err) return;
        guarded("deliver", () => this.onDeliver(msg));
      },
    });
  }

  private onDeliver(msg: Msg): Promise<void> | void {
    const kind = msg.subject.split(".")[2];
    switch (kind) {
      case "notify":
        return this.onNotification(Subjects.deliverNotify, msg);
      case "admin":
        return this.onAdminMessage(msg);
      case "presence": {
        const p = parseSubject(Subjects.deliverPresence, msg.subject);
        if (p) this.onPresenceDiff(p.room === kAdminMembershipRoom ? kAdminRoom : p.room!, msg);
        return;
      }
      case "app":
        for (const h of this.appEventHandlers) h(msg);
        return;
      case "translate":
        for (const h of this.translateHandlers) h(msg);
        return;
      default:
        // send (our own ingest echo): not used by this client.
        return;
    }
  }

  /** Opens a room: joins it first if needed, else loads what is missing (root load_history). */
  async openRoom(key: string): Promise<void> {
    const room = this.store.getState().rooms[key];
    if (!room) return;
    this.store.update((s) => ({
      activeRoom: key,
      thread: s.thread?.room === key ? s.thread : null,
    }));
    this.store.updateRoom(key, () => ({ unread: 0 }));
    if (!this.joined.has(key)) {
      await this.joinRoom(key, { open: true });
    } else if (!room.historyLoaded) {
      const action = new Action(this.tracer, SpanNames.loadHistory, { [Attr.room]: key });
      try {
        await this.loadRoom(key, null, action);
        action.end();
      } catch (e) {
        action.fail(errorTypeOf(e), e);
        this.store.pushError(describeError(`Could not load ${key}`, e));
      }
    }
    this.scheduleMarkRead(key);
  }

  /**
   * Presence and history of a room being opened (§5.4): `parent` is the join_room action
   * (load_history becomes its child) or null when `own` is already the root load_history.
   */
  private async loadRoom(key: string, parent: Action | null, own?: Action): Promise<void> {
    const t = this.traced!;
    const room = this.store.getState().rooms[key];
    if (!room) return;
    // presence.room under join_room (§5.4), or under the root load_history. It runs alongside the
    // history requests but the action ends only once presence is loaded too (§4.5 join_room:
    // "subscriptions, presence and history loaded"); loadPresence never rejects.
    const presenceCtx = parent?.ctx ?? own?.ctx;
    const presence = presenceCtx ? this.loadPresence(presenceCtx, key) : Promise.resolve();
    const history =
      own ?? new Action(this.tracer, SpanNames.loadHistory, { [Attr.room]: key }, parent!.ctx);
    try {
      if (room.kind === "private") {
        const info = await this.withMembershipRetry(history.ctx, () =>
          t.request(history.ctx, Subjects.roomInfo, { room: key }, "", RoomInfoCodec),
        );
        if (!info.members.some((m) => m.username === this.user)) {
          this.store.pushError(`You are no longer a member of ${key}.`);
          this.removeRoom(key);
          await presence;
          if (!own) history.end();
          return;
        }
        this.store.updateRoom(key, () => ({
          members: info.members,
          displayName: info.displayName,
        }));
      }
      await this.loadReadState(history.ctx, key, false);
      const page = await this.withMembershipRetry(history.ctx, () =>
        t.request(
          history.ctx,
          Subjects.history,
          { room: key },
          toJson(HistoryRequestCodec, { before: 0, limit: 0 }),
          HistoryPageCodec,
        ),
      );
      history.setAttributes({ "chat.history.returned": page.messages.length });
      this.store.updateRoom(key, (r) => ({
        messages: mergeHistory(r.messages, page.messages.map(fromHistory)),
        hasMore: page.hasMore,
        historyLoaded: true,
      }));
      await new Promise<void>((resolve) => this.store.afterRender(resolve));
      history.event("history_rendered");
      if (!own) history.end();
      await presence;
    } catch (e) {
      if (!own) history.fail(errorTypeOf(e), e);
      throw e;
    }
  }

  /**
   * Membership-checked requests right after our own join may reach a service before it has seen
   * the join (room.changed is asynchronous): retry a permission_denied twice, shortly after.
   */
  private async withMembershipRetry<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof NatsCallError) || e.type !== "permission_denied" || attempt >= 2)
          throw e;
        parentEvent(ctx, "retry", e);
        await sleep(300 * (attempt + 1));
      }
    }
  }

  private async loadPresence(ctx: Context, key: string): Promise<void> {
    try {
      const reply = await this.withMembershipRetry(ctx, () =>
        this.traced!.request(
          ctx,
          Subjects.presenceRoom,
          { room: this.membershipKey(key) },
          "",
          PresenceRoomReplyCodec,
        ),
      );
      const presence: Record<string, PresenceStatus> = {};
      for (const e of reply.members) presence[e.userId] = e.status;
      this.store.updateRoom(key, () => ({ presence }));
    } catch (e) {
      // Presence is decoration: the failed request span records why, the action goes on.
      parentEvent(ctx, "fallback", e);
    }
  }

  /** read.state.{room}: own lastRead and (on the own entry) the unread count. */
  private async loadReadState(ctx: Context, key: string, quiet: boolean): Promise<void> {
    try {
      const reply = await this.withMembershipRetry(ctx, () =>
        this.traced!.request(ctx, Subjects.readState, { room: key }, "", ReadStateReplyCodec),
      );
      const own = reply.entries.find((e) => e.userId === this.user);
      const active = this.store.getState().activeRoom === key;
      this.store.updateRoom(key, (r) => ({
        lastRead: own?.lastRead ?? r.lastRead,
        unread: active ? 0 : (own?.unread ?? r.unread),
      }));
    } catch (e) {
      if (!quiet) throw e;
      parentEvent(ctx, "fallback", e);
    }
  }

  /** `load_history` root after a reconnect: merges the newest page into what is shown. */
  private async reloadNewest(key: string): Promise<void> {
    const t = this.traced!;
    const action = new Action(this.tracer, SpanNames.loadHistory, { [Attr.room]: key });
    try {
      const page = await this.withMembershipRetry(action.ctx, () =>
        t.request(
          action.ctx,
          Subjects.history,
          { room: key },
          toJson(HistoryRequestCodec, { before: 0, limit: 0 }),
          HistoryPageCodec,
        ),
      );
      action.setAttributes({ "chat.history.returned": page.messages.length });
      this.store.updateRoom(key, (r) => ({
        messages: mergeHistory(r.messages, page.messages.map(fromHistory)),
      }));
      this.store.afterRender(() => action.end());
    } catch (e) {
      action.fail(errorTypeOf(e), e);
    }
  }

  async loadMoreHistory(key: string): Promise<void> {
    const t = this.traced;
    const room = this.store.getState().rooms[key];
    if (!t || !room || !room.hasMore || room.loadingMore) return;
    const oldest = room.messages[0]?.timestamp ?? 0;
    const action = new Action(this.tracer, SpanNames.loadMoreHistory, { [Attr.room]: key });
    this.store.updateRoom(key, () => ({ loadingMore: true }));
    try {
      const page = await t.request(
        action.ctx,
        Subjects.history,
        { room: key },
        toJson(HistoryRequestCodec, { before: oldest, limit: 0 }),
        HistoryPageCodec,
      );
      action.setAttributes({ "chat.history.returned": page.messages.length });
      this.store.updateRoom(key, (r) => ({
        messages: mergeHistory(r.messages, page.messages.map(fromHistory)),
        hasMore: page.hasMore,
        loadingMore: false,
      }));
      this.store.afterRender(() => action.end());
    } catch (e) {
      this.store.updateRoom(key, () => ({ loadingMore: false }));
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError("Could not load older messages", e));
    }
  }

  /** `leave_room` (public rooms): publish room.leave.{room}.{user}; the room leaves the sidebar. */
  async leaveRoom(key: string): Promise<void> {
    const t = this.traced;
    if (!t) return;
    const me = this.user;
    const action = new Action(this.tracer, SpanNames.leaveRoom, { [Attr.room]: key });
    try {
      await t.publish(
        action.ctx,
        Subjects.roomLeave,
        { room: this.membershipKey(key), user: me },
        toJson(RoomMembershipRequestCodec, { userId: me }),
      );
      action.end();
      this.removeRoom(key);
      if (this.store.getState().activeRoom === "general") void this.openRoom("general");
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError(`Could not leave ${key}`, e));
    }
  }

  /** Adds (and opens) a public room by name, sanitised like the reference's "Add room…" box. */
  async addPublicRoom(name: string): Promise<void> {
    const key = sanitizeRoomName(name);
    if (key === "" || roomKeyProblem(key) !== null || isDmRoom(key) || key === kAdminRoom) {
      this.store.pushError(
        "Room names use lowercase letters, digits and dashes, and may not start with dm-.",
      );
      return;
    }
    this.addRoom(key, "public");
    await this.openRoom(key);
  }

  /** `create_room`: request room.create.{user}; the new private room is joined and opened. */
  async createRoom(name: string, displayName: string): Promise<boolean> {
    const t = this.traced;
    if (!t) return false;
    const key = sanitizeRoomName(name);
    if (key === "" || roomKeyProblem(key) !== null || isReservedRoomName(key)) {
      this.store.pushError(
        "Room names use lowercase letters, digits and dashes; general, random, help and dm-… are reserved.",
      );
      return false;
    }
    const action = new Action(this.tracer, SpanNames.createRoom, {
      [Attr.room]: key,
      [Attr.roomType]: "private",
    });
    try {
      const info = await t.request(
        action.ctx,
        Subjects.roomCreate,
        { user: this.user },
        toJson(RoomCreateRequestCodec, {
          name: key,
          displayName: displayName.trim(),
          user: this.user,
        }),
        RoomInfoCodec,
      );
      action.end();
      this.addRoom(info.name, "private", info.displayName);
      await this.openRoom(info.name);
      return true;
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError(`Could not create ${key}`, e));
      return false;
    }
  }

  /** Refreshes the member list of a private room (room.info.{room}). */
  async refreshMembers(key: string, parent?: Action): Promise<void> {
    const t = this.traced;
    if (!t) return;
    const action = parent ?? new Action(this.tracer, "load_members", { [Attr.room]: key });
    try {
      const info = await t.request(action.ctx, Subjects.roomInfo, { room: key }, "", RoomInfoCodec);
      this.store.updateRoom(key, () => ({ members: info.members }));
      if (!parent) action.end();
    } catch (e) {
      if (!parent) action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError("Could not load the member list", e));
    }
  }

  private async memberChange(
    spanName: string,
    template: string,
    key: string,
    target: string,
    verb: string,
  ): Promise<boolean> {
    const t = this.traced;
    if (!t) return false;
    if (usernameProblem(target) !== null) {
      this.store.pushError("Enter a valid username (no dots, spaces, * or >).");
      return false;
    }
    const action = new Action(this.tracer, spanName, {
      [Attr.room]: key,
      [Attr.targetUser]: target,
    });
    try {
      await t.request(
        action.ctx,
        template,
        { room: key, user: this.user },
        toJson(RoomTargetRequestCodec, { target, user: this.user }),
        OkReplyCodec,
      );
      await this.refreshMembers(key, action);
      action.end();
      return true;
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError(`Could not ${verb} ${target}`, e));
      return false;
    }
  }

  invite(key: string, target: string): Promise<boolean> {
    return this.memberChange(
      SpanNames.inviteMember,
      Subjects.roomInvite,
      key,
      target.trim(),
      "invite",
    );
  }

  kick(key: string, target: string): Promise<boolean> {
    return this.memberChange(SpanNames.kickMember, Subjects.roomKick, key, target, "remove");
  }

  /** `depart_room`: request room.depart.{room}.{user} (private rooms); the room disappears. */
  async departRoom(key: string): Promise<void> {
    const t = this.traced;
    if (!t) return;
    const action = new Action(this.tracer, SpanNames.departRoom, { [Attr.room]: key });
    try {
      await t.request(
        action.ctx,
        Subjects.roomDepart,
        { room: key, user: this.user },
        toJson(RoomDepartRequestCodec, { user: this.user }),
        OkReplyCodec,
      );
      action.end();
      this.removeRoom(key);
      void this.openRoom("general");
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError(`Could not leave ${key}`, e));
    }
  }

  /** Starts (or opens) the DM with `other`: only our own join (ADR 0001: never the other party). */
  async openDm(other: string): Promise<void> {
    let key: string;
    try {
      key = dmRoomKey(this.user, other.trim());
    } catch (e) {
      this.store.pushError(describeError("Cannot start this conversation", e));
      return;
    }
    if (other.trim() === this.user) {
      this.store.pushError("Choose somebody else to message.");
      return;
    }
    this.rememberDm(key);
    this.addRoom(key, "dm");
    await this.openRoom(key);
  }

  // --------------------------------------------------------------------- presence / read

  /** `set_status`: publish presence.update.{user}. */
  async setStatus(status: PresenceStatus): Promise<void> {
    const t = this.traced;
    if (!t) return;
    const me = this.user;
    const action = new Action(this.tracer, SpanNames.setStatus, { [Attr.presenceStatus]: status });
    try {
      await t.publish(
        action.ctx,
        Subjects.presenceUpdate,
        { user: me },
        toJson(PresenceUpdateCodec, { userId: me, status }),
      );
      this.store.update(() => ({ status }));
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError("Could not change your status", e));
    }
  }

  private onPresenceDiff(room: string, msg: Msg): void {
    let diff;
    try {
      diff = fromJson(PresenceDiffCodec, msg.string());
    } catch {
      // Presence diffs are untraced (§4.5): a rejected one is only noted at debug level.
      console.debug("presence diff rejected: invalid payload");
      return;
    }
    const status: PresenceStatus =
      diff.action === "offline" ? "offline" : (diff.status ?? "online");
    this.store.updateRoom(room, (r) => ({ presence: { ...r.presence, [diff.userId]: status } }));
  }

  /** Debounced `mark_read` (system.md §7.4: 3 s after the last change of the open room). */
  scheduleMarkRead(key: string): void {
    const old = this.markReadTimers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.markReadTimers.set(
      key,
      setTimeout(() => {
        this.markReadTimers.delete(key);
        void this.markRead(key);
      }, kMarkReadDebounceMs),
    );
  }

  private async markRead(key: string): Promise<void> {
    const t = this.traced;
    const room = this.store.getState().rooms[key];
    if (!t || !room || this.store.getState().activeRoom !== key) return;
    const newest = room.messages.reduce((m, x) => Math.max(m, x.timestamp), 0);
    if (newest <= room.lastRead) return;
    const me = this.user;
    const action = new Action(this.tracer, SpanNames.markRead, { [Attr.room]: key });
    try {
      await t.publish(
        action.ctx,
        Subjects.readUpdate,
        { room: key, user: me },
        toJson(ReadUpdateCodec, { userId: me, lastRead: newest }),
      );
      this.store.updateRoom(key, () => ({ lastRead: newest, unread: 0 }));
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
    }
  }

  // ------------------------------------------------------------------------------ threads

  /** `open_thread`: request chat.history.{room}.thread.{thread_id}; ends when rendered. */
  async openThread(room: string, parent: MessageView): Promise<void> {
    const t = this.traced;
    if (!t) return;
    const id = makeThreadId(room === kAdminRoom ? room : parent.room, parent.timestamp);
    const existing = this.store.getState().threads[id];
    const view: ThreadView = existing ?? {
      threadId: id,
      room,
      parentTimestamp: parent.timestamp,
      messages: [],
      loaded: false,
    };
    this.store.update((s) => ({ thread: view, threads: { ...s.threads, [id]: view } }));
    const action = new Action(this.tracer, SpanNames.openThread, {
      [Attr.room]: room,
      [Attr.threadId]: id,
    });
    try {
      const reply = await t.request(
        action.ctx,
        Subjects.historyThread,
        { room, thread_id: id },
        "",
        HistoryThreadReplyCodec,
      );
      this.store.update((s) => {
        const cur = s.threads[id] ?? view;
        const next: ThreadView = {
          ...cur,
          messages: mergeHistory(cur.messages, reply.messages.map(fromHistory)),
          loaded: true,
        };
        return {
          threads: { ...s.threads, [id]: next },
          thread: s.thread?.threadId === id ? next : s.thread,
        };
      });
      this.store.afterRender(() => action.end());
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      this.store.pushError(describeError("Could not load the thread", e));
    }
  }

  closeThread(): void {
    this.store.update(() => ({ thread: null }));
  }

  // ---------------------------------------------------------------------------- messages

  /** Message timestamps never repeat for this tab (messages are keyed by (room, ts, user)). */
  private nextTimestamp(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  private canWrite(): boolean {
    if (this.readOnly) {
      this.store.pushError("Your account has read-only access: sending is not allowed.");
      return false;
    }
    return this.traced !== null;
  }

  /** Publishes a ChatMessage on its ingest subject (the admin channel goes to admin.chat.{user}). */
  private async publishMessage(action: Action, m: ChatMessage): Promise<void> {
    const t = this.traced!;
    const body = toJson(ChatMessageCodec, m);
    if (m.room === kAdminRoom) {
      await t.publish(action.ctx, Subjects.adminRoom, { room: "chat", user: this.user }, body, {
        attributes: { [Attr.room]: m.room },
      });
    } else if (m.threadId !== "") {
      await t.publish(
        action.ctx,
        Subjects.deliverSendThread,
        { user: this.user, room: m.room, thread_id: m.threadId },
        body,
      );
    } else {
      await t.publish(action.ctx, Subjects.deliverSend, { user: this.user, room: m.room }, body);
    }
  }

  /**
   * Starts a message action (send/edit/delete/react): the span ends when our own copy of the
   * change is rendered (event echo_rendered) or fails after 10 s with delivery_timeout.
   */
  private async messageAction(
    spanName: string,
    m: ChatMessage,
    echo: EchoKey,
    onFail: () => void,
  ): Promise<void> {
    const mid = messageId(m.timestamp, m.action === "react" ? m.targetUser : m.user);
    const attrs: Record<string, string> = {
      [Attr.room]: m.room,
      [Attr.action]: m.action,
      [Attr.messageId]: mid,
      [Attr.messageKind]: m.stickerUrl !== "" ? "sticker" : "text",
    };
    if (m.threadId !== "") attrs[Attr.threadId] = m.threadId;
    const action = new Action(this.tracer, spanName, attrs);
    this.echoes.set(echo, [...(this.echoes.get(echo) ?? []), action]);
    action.deadline(
      kEchoTimeoutMs,
      "delivery_timeout",
      "the message was not echoed back within 10 s",
      () => {
        this.dropEcho(echo, action);
        onFail();
        this.store.pushError("The chat server did not confirm your change within 10 seconds.");
      },
    );
    try {
      await this.publishMessage(action, m);
    } catch (e) {
      this.dropEcho(echo, action);
      action.fail(errorTypeOf(e), e);
      onFail();
      this.store.pushError(describeError("Could not send", e));
    }
  }

  /**
   * `send_message` in the open room, or as a reply of `thread`; `stickerUrl` (an imageUrl of the
   * sticker-service catalogue, src/features/stickers) makes it a sticker message.
   */
  async send(room: string, text: string, thread?: ThreadView, stickerUrl = ""): Promise<void> {
    const body = text.trim();
    if ((body === "" && stickerUrl === "") || !this.canWrite()) return;
    if (utf8Bytes(body) > kMaxTextBytes) {
      this.store.pushError("Messages are limited to 4000 bytes.");
      return;
    }
    const me = this.user;
    const m = chatMessage({
      user: me,
      text: body,
      timestamp: this.nextTimestamp(),
      room,
      stickerUrl,
      mentions: extractMentions(body).filter((u) => usernameProblem(u) === null),
      ...(thread ? { threadId: thread.threadId, parentTimestamp: thread.parentTimestamp } : {}),
    });
    const pending = fromChat(m, "pending");
    if (thread) this.updateThread(thread.threadId, (list) => upsertMessage(list, pending));
    else this.store.updateRoom(room, (r) => ({ messages: upsertMessage(r.messages, pending) }));
    const markFailed = () => {
      const fail = (list: MessageView[]) =>
        list.map((x) =>
          x.key === pending.key && x.state === "pending" ? { ...x, state: "failed" as const } : x,
        );
      if (thread) this.updateThread(thread.threadId, fail);
      else this.store.updateRoom(room, (r) => ({ messages: fail(r.messages) }));
    };
    await this.messageAction(
      SpanNames.sendMessage,
      m,
      echoKey("send", room, m.timestamp, me),
      markFailed,
    );
  }

  async edit(target: MessageView, text: string): Promise<void> {
    const body = text.trim();
    if (body === "" || body === target.text || !this.canWrite() || target.user !== this.user)
      return;
    const m = chatMessage({
      user: this.user,
      text: body,
      timestamp: target.timestamp,
      room: target.room,
      action: "edit",
      threadId: target.threadId,
    });
    await this.messageAction(
      SpanNames.editMessage,
      m,
      echoKey("edit", target.room, target.timestamp, this.user),
      () => {},
    );
  }

  async remove(target: MessageView): Promise<void> {
    if (!this.canWrite() || target.user !== this.user) return;
    const m = chatMessage({
      user: this.user,
      timestamp: target.timestamp,
      room: target.room,
      action: "delete",
      threadId: target.threadId,
    });
    await this.messageAction(
      SpanNames.deleteMessage,
      m,
      echoKey("delete", target.room, target.timestamp, this.user),
      () => {},
    );
  }

  async react(target: MessageView, emoji: string): Promise<void> {
    if (!this.canWrite()) return;
    const m = chatMessage({
      user: this.user,
      timestamp: target.timestamp,
      room: target.room,
      action: "react",
      emoji,
      targetUser: target.user,
      threadId: target.threadId,
    });
    await this.messageAction(
      SpanNames.reactMessage,
      m,
      echoKey("react", target.room, target.timestamp, this.user, emoji),
      () => {},
    );
  }

  // ---------------------------------------------------------------------------- receiving

  /** room.notify.{room} / deliver.{user}.notify.{room}: CONSUMER root, msg.get, render (§5.2). */
  private async onNotification(template: string, msg: Msg): Promise<void> {
    const t = this.traced!;
    let n: Notification;
    try {
      n = fromJson(NotificationCodec, msg.string());
    } catch (e) {
      t.startDelivery(template, msg).fail("invalid_payload", e);
      return;
    }
    const attrs: Record<string, string> = {
      [Attr.room]: n.room,
      [Attr.messageId]: messageId(n.timestamp, n.action === "react" ? n.targetUser : n.user),
    };
    if (n.threadId !== "") attrs[Attr.threadId] = n.threadId;
    const d = t.startDelivery(template, msg, attrs);
    try {
      await this.ensureRoomKnown(d, n.room);
      if (!this.store.getState().rooms[n.room]) {
        // Not a room of ours (or not visible to us): nothing is rendered.
        d.end();
        return;
      }
      if (n.action === "delete" || n.action === "react") {
        // Applied straight from the notification (system.md §3.5), no msg.get.
        this.apply(
          chatMessage({
            user: n.user,
            timestamp: n.timestamp,
            room: n.room,
            action: n.action,
            emoji: n.emoji,
            targetUser: n.targetUser,
            threadId: n.threadId,
          }),
        );
      } else {
        let full: ChatMessage;
        try {
          full = await t.request(
            d.ctx,
            Subjects.msgGet,
            {},
            toJson(MsgGetRequestCodec, { notifyId: n.notifyId, room: n.room }),
            ChatMessageCodec,
            {
              timeoutMs: kMsgGetTimeoutMs,
            },
          );
        } catch (e) {
          // system.md §7.5: a failed fetch is not retried; the message is skipped. The event
          // carries error.type (a registered key), the request span the full error (§4.3, §4.4).
          parentEvent(d.ctx, "fallback", e);
          d.end();
          return;
        }
        this.apply(full);
      }
      this.store.afterRender(() => d.rendered());
    } catch (e) {
      d.fail(errorTypeOf(e), e);
    }
  }

  /** deliver.{user}.admin.{room}: the full admin-channel message (no msg.get). */
  private async onAdminMessage(msg: Msg): Promise<void> {
    const t = this.traced!;
    let m: ChatMessage;
    try {
      m = fromJson(ChatMessageCodec, msg.string());
    } catch (e) {
      t.startDelivery(Subjects.deliverAdmin, msg).fail("invalid_payload", e);
      return;
    }
    const d = t.startDelivery(Subjects.deliverAdmin, msg, {
      [Attr.room]: m.room,
      [Attr.messageId]: messageId(m.timestamp, m.action === "react" ? m.targetUser : m.user),
    });
    if (!this.store.getState().rooms[m.room]) {
      d.end();
      return;
    }
    try {
      this.apply(m);
      this.store.afterRender(() => d.rendered());
    } catch (e) {
      d.fail(errorTypeOf(e), e);
    }
  }

  /** Invitation/DM discovery (system.md §7.5): a message for a room we do not list. */
  private async ensureRoomKnown(d: Delivery, room: string): Promise<void> {
    if (this.store.getState().rooms[room]) return;
    if (isDmRoom(room)) {
      if (!isDmParticipant(room, this.user)) return;
      this.rememberDm(room);
      this.addRoom(room, "dm");
      void this.joinRoom(room, { background: true });
      return;
    }
    try {
      const info = await this.traced!.request(
        d.ctx,
        Subjects.roomInfo,
        { room },
        "",
        RoomInfoCodec,
      );
      if (info.type === "private" && info.members.some((m) => m.username === this.user)) {
        this.addRoom(room, "private", info.displayName);
        void this.joinRoom(room, { background: true });
      }
    } catch (e) {
      // Not visible to us: ignore the message.
      parentEvent(d.ctx, "fallback", e);
    }
  }

  private updateThread(id: string, fn: (list: MessageView[]) => MessageView[]): boolean {
    const cur = this.store.getState().threads[id];
    if (!cur) return false;
    const next = { ...cur, messages: fn(cur.messages) };
    this.store.update((s) => ({
      threads: { ...s.threads, [id]: next },
      thread: s.thread?.threadId === id ? next : s.thread,
    }));
    return true;
  }

  /** Applies one message/change (system.md §3.5, §7.5) and settles a matching echo. */
  apply(m: ChatMessage): void {
    const s = this.store.getState();
    const room = s.rooms[m.room];
    if (!room) return;
    const me = this.user;
    const inThread = m.threadId !== "";
    const key = messageId(m.timestamp, m.action === "react" ? m.targetUser : m.user);
    switch (m.action) {
      case "send":
      case "system": {
        const view = fromChat(m, "sent");
        if (inThread) {
          const thread = s.threads[m.threadId];
          const isNew = !thread?.messages.some((x) => x.key === view.key && x.state === "sent");
          // Only threads this page has opened keep their replies (open_thread loads the rest
          // from history): replies to never-opened threads must not pile up in memory.
          this.updateThread(m.threadId, (list) => upsertMessage(list, view));
          if (isNew) {
            this.store.updateRoom(m.room, (r) => ({
              messages: r.messages.map((x) =>
                x.timestamp === m.parentTimestamp && x.threadId === ""
                  ? { ...x, replyCount: x.replyCount + 1 }
                  : x,
              ),
            }));
          }
        } else {
          const isNew = !room.messages.some((x) => x.key === view.key && x.state === "sent");
          this.store.updateRoom(m.room, (r) => ({
            messages: capLive(
              upsertMessage(r.messages, view),
              r.historyLoaded ? r.messages.length : 0,
            ),
            unread:
              isNew && s.activeRoom !== m.room && m.user !== me && m.user !== kSystemUser
                ? r.unread + 1
                : r.unread,
          }));
        }
        if (s.activeRoom === m.room) this.scheduleMarkRead(m.room);
        this.settleEcho(echoKey("send", m.room, m.timestamp, m.user));
        break;
      }
      case "edit":
      case "delete":
      case "react": {
        const update =
          m.action === "edit"
            ? ({ action: "edit", text: m.text } as const)
            : m.action === "delete"
              ? ({ action: "delete" } as const)
              : ({ action: "react", emoji: m.emoji, user: m.user } as const);
        if (inThread)
          this.updateThread(m.threadId, (list) => applyUpdate(list, key, update) ?? list);
        this.store.updateRoom(m.room, (r) => ({
          messages: applyUpdate(r.messages, key, update) ?? r.messages,
        }));
        this.settleEcho(
          echoKey(m.action, m.room, m.timestamp, m.user, m.action === "react" ? m.emoji : ""),
        );
        break;
      }
    }
  }

  /** Our own change is on screen: echo_rendered, end the action (§4.5). */
  private settleEcho(key: EchoKey): void {
    const waiting = this.echoes.get(key);
    const action = waiting?.shift();
    if (waiting?.length === 0) this.echoes.delete(key);
    if (!action) return;
    this.store.afterRender(() => {
      action.event("echo_rendered");
      action.end();
    });
  }

  private dropEcho(key: EchoKey, action: Action): void {
    const rest = (this.echoes.get(key) ?? []).filter((a) => a !== action);
    if (rest.length > 0) this.echoes.set(key, rest);
    else this.echoes.delete(key);
  }

  dismissError(id: number): void {
    this.store.dismissError(id);
  }
}

export { ROOT_CONTEXT };
