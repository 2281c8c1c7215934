// The host side of room apps on the bus: registry requests (apps.list, apps.room.{room},
// apps.install/uninstall.{room}.{user}), the bridge transport (app.{app}.{room}.{action}.{user})
// and the dispatch of deliver.{user}.app.{app}.{room}.{event} to the bridges' callbacks.
// Tracing (observability.md §4.5): `install_app` / `app_request` are INTERNAL roots with
// chat.app.id / chat.app.action; their `request …` CLIENT child injects traceparent into the
// NATS headers (TracedNats), so the trace continues into app-registry/poll/kb/whiteboard.
// An inbound app event is a CONSUMER root `process deliver.{user}.app.{app}.{room}.{event}`
// linked to the publisher's context, ended once the app's callbacks have run.
import { type Tracer } from "@opentelemetry/api";
import {
  type AppInfo,
  AppInstallRequestCodec,
  appIdProblem,
  AppListCodec,
  AppUninstallRequestCodec,
  RoomAppListCodec,
} from "../../contracts/apps";
import { OkReplyCodec } from "../../contracts/replies";
import { parseSubject, Subjects } from "../../contracts/subjects";
import type { Msg } from "../../nats/connection";
import { NatsCallError, type TracedNats } from "../../nats/traced";
import { Action, errorTypeOf } from "../../telemetry/actions";
import { Attr, SpanNames } from "../../telemetry/attributes";
import { getTracer } from "../../telemetry/setup";
import { AppEventHub, type AppTransport } from "./bridge";
import type { AppJson, AppJsonObject } from "./sdk";
import { AnyJsonCodec, appActionAttr, appIdAttr } from "./wire";

/** What the apps feature needs from the chat client. */
export interface AppsHost {
  readonly nats: TracedNats | null;
  readonly user: string;
  onAppEvent(handler: (msg: Msg) => void): () => void;
}

const decoder = new TextDecoder();

function connection(host: AppsHost): TracedNats {
  const t = host.nats;
  if (t === null) throw new NatsCallError("connection_closed", "not connected");
  return t;
}

export class AppsService implements AppTransport {
  readonly hub = new AppEventHub();
  private detach: (() => void) | null = null;

  constructor(
    private readonly host: AppsHost,
    private readonly tracer: Tracer = getTracer(),
  ) {
    this.detach = host.onAppEvent((msg) => this.onEvent(msg));
  }

  close(): void {
    this.detach?.();
    this.detach = null;
  }

  /** `app_request` root + `request app.{app}.{room}.{action}.{user}`; error replies returned. */
  async request(
    appId: string,
    room: string,
    action: string,
    body: AppJsonObject,
    timeoutMs: number,
  ): Promise<AppJson> {
    const span = new Action(this.tracer, SpanNames.appRequest, {
      [Attr.appId]: appIdAttr(appId),
      [Attr.appAction]: appActionAttr(appId, action),
      [Attr.room]: room,
    });
    try {
      const t = connection(this.host);
      const reply = await t.request(
        span.ctx,
        Subjects.appRequest,
        { app: appId, room, action, user: this.host.user },
        JSON.stringify(body),
        AnyJsonCodec,
        { timeoutMs, attributes: { [Attr.room]: room } },
      );
      span.end();
      return reply;
    } catch (e) {
      span.fail(errorTypeOf(e), e);
      // An error reply is the app's answer (§8.2: returned, not thrown); transport failures throw.
      if (e instanceof NatsCallError && e.code !== undefined)
        return { error: { code: e.code, message: e.message } };
      throw e;
    }
  }

  /** apps.list (the catalogue) or apps.room.{room} (installed, in install order). */
  async list(room: string | null): Promise<AppInfo[]> {
    const action = new Action(
      this.tracer,
      SpanNames.loadApps,
      room === null ? {} : { [Attr.room]: room },
    );
    try {
      const t = connection(this.host);
      const list =
        room === null
          ? await t.request(action.ctx, Subjects.appsList, {}, "", AppListCodec)
          : await t.request(action.ctx, Subjects.appsRoom, { room }, "", RoomAppListCodec);
      action.end();
      return list.apps;
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      throw e;
    }
  }

  /**
   * `install_app` / `uninstall_app`: apps.{install|uninstall}.{room}.{user}. A refusal arrives as
   * the error envelope and is thrown as a NatsCallError carrying its code.
   */
  async setInstalled(room: string, appId: string, install: boolean): Promise<void> {
    const action = new Action(
      this.tracer,
      install ? SpanNames.installApp : SpanNames.uninstallApp,
      { [Attr.appId]: appIdAttr(appId), [Attr.room]: room },
    );
    try {
      const problem = appIdProblem(appId);
      if (problem !== null) throw new NatsCallError("invalid_argument", problem);
      const t = connection(this.host);
      const user = this.host.user;
      const body = install
        ? AppInstallRequestCodec.encode({ appId, config: null, user })
        : AppUninstallRequestCodec.encode({ appId, user });
      await t.request(
        action.ctx,
        install ? Subjects.appsInstall : Subjects.appsUninstall,
        { room, user },
        JSON.stringify(body),
        OkReplyCodec,
        { attributes: { [Attr.room]: room } },
      );
      action.end();
    } catch (e) {
      action.fail(errorTypeOf(e), e);
      throw e;
    }
  }

  /** deliver.{user}.app.{app}.{room}.{event} → the callbacks registered for it. */
  onEvent(msg: Msg): void {
    const p = parseSubject(Subjects.deliverApp, msg.subject);
    if (p === null) return;
    const appId = p.app!;
    const room = p.room!;
    const event = p.event!;
    const t = this.host.nats;
    const delivery = t?.startDelivery(Subjects.deliverApp, msg, {
      [Attr.appId]: appIdAttr(appId),
      [Attr.room]: room,
    });
    let payload: AppJson;
    try {
      payload = JSON.parse(decoder.decode(msg.data)) as AppJson;
    } catch (e) {
      delivery?.fail("invalid_payload", e);
      return;
    }
    this.hub.dispatch(appId, room, event, payload);
    delivery?.rendered();
  }
}

const services = new WeakMap<AppsHost, AppsService>();

/** The one AppsService of a chat client (created on first use). */
export function appsServiceFor(host: AppsHost): AppsService {
  let s = services.get(host);
  if (s === undefined) {
    s = new AppsService(host);
    services.set(host, s);
  }
  return s;
}
