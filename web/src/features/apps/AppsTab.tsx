// The apps tab of a room (system.md §8.2, ★ install control): the installed apps as sub-tabs,
// the open one mounted as `<room-app-{id}>` with its bridge, and — for those allowed — install
// and uninstall. The parent keys this component by room, so a room change unmounts it: the
// effect's cleanup removes the element and closes its bridge (all its subscriptions).
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "../../chat/client";
import type { RoomView } from "../../chat/model";
import { useChatState, useClient } from "../../ui/hooks";
import { ensureAppDefined, mountApp } from "./host";
import { canManageApps } from "./permissions";
import { appsServiceFor } from "./service";
import type { AppInfo } from "../../contracts/apps";

export function AppsTab({ room }: { room: RoomView }) {
  const client = useClient();
  const { user, tier } = useChatState();
  const service = appsServiceFor(client);
  const manage = canManageApps(room, user, tier);
  const [installed, setInstalled] = useState<AppInfo[] | null>(null);
  const [catalogue, setCatalogue] = useState<AppInfo[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [choice, setChoice] = useState("");
  const [busy, setBusy] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const hostRef = useRef<HTMLDivElement>(null);

  const apply = useCallback((apps: AppInfo[], select?: string) => {
    setInstalled(apps);
    setLoadError(null);
    setActive((cur) => {
      if (select !== undefined && apps.some((a) => a.id === select)) return select;
      if (cur !== null && apps.some((a) => a.id === cur)) return cur;
      return apps[0]?.id ?? null;
    });
  }, []);
  const failed = useCallback((e: unknown) => {
    setInstalled([]);
    setLoadError(describeError("Could not load the room's apps", e));
  }, []);
  const reload = async (select?: string) => {
    try {
      apply(await service.list(room.key), select);
    } catch (e) {
      failed(e);
    }
  };

  useEffect(() => {
    let live = true;
    service.list(room.key).then(
      (apps) => {
        if (live) apply(apps);
      },
      (e: unknown) => {
        if (live) failed(e);
      },
    );
    return () => {
      live = false;
    };
  }, [service, room.key, apply, failed]);

  // Private rooms: the member list (and so our role) may not be loaded yet.
  const needMembers = room.kind === "private" && room.members === null;
  useEffect(() => {
    if (needMembers) void client.refreshMembers(room.key);
  }, [client, needMembers, room.key]);

  useEffect(() => {
    if (!manage) return;
    let live = true;
    service.list(null).then(
      (apps) => {
        if (live) setCatalogue(apps);
      },
      (e: unknown) => client.store.pushError(describeError("Could not load the app catalogue", e)),
    );
    return () => {
      live = false;
    };
  }, [client, service, manage]);

  const activeApp = installed?.find((a) => a.id === active) ?? null;
  const activeId = activeApp?.id ?? null;
  const activeUrl = activeApp?.componentUrl ?? "";

  // Mount the open app; the cleanup is the teardown on tab, app or room change.
  useEffect(() => {
    const container = hostRef.current;
    if (activeId === null || container === null) return;
    let teardown: (() => void) | null = null;
    let cancelled = false;
    ensureAppDefined(activeId, activeUrl)
      .then(() => {
        if (cancelled) return;
        teardown = mountApp(container, {
          appId: activeId,
          room: room.key,
          user,
          transport: service,
          hub: service.hub,
        });
      })
      .catch((e: unknown) => {
        if (!cancelled) client.store.pushError(describeError(`Could not open ${activeId}`, e));
      });
    return () => {
      cancelled = true;
      teardown?.();
    };
  }, [client, service, activeId, activeUrl, room.key, user]);

  const change = async (appId: string, install: boolean) => {
    setBusy(true);
    try {
      await service.setInstalled(room.key, appId, install);
      setChoice("");
      await reload(install ? appId : undefined);
    } catch (e) {
      client.store.pushError(
        describeError(`Could not ${install ? "install" : "uninstall"} ${appId}`, e),
      );
    } finally {
      setBusy(false);
    }
  };

  const installable = catalogue.filter((a) => !installed?.some((i) => i.id === a.id));
  const onInstall = (e: FormEvent) => {
    e.preventDefault();
    const id = choice || installable[0]?.id;
    if (id) void change(id, true);
  };

  return (
    <section className="apps" data-testid="apps-panel" aria-label="Room apps">
      <div className="apps-bar">
        <div role="tablist" aria-label="Installed apps" className="apps-tabs">
          {installed?.map((a) => (
            <span key={a.id} className="app-tab-wrap">
              <button
                type="button"
                role="tab"
                aria-selected={a.id === activeId}
                className={`app-tab${a.id === activeId ? " active" : ""}`}
                data-testid={`app-tab-${a.id}`}
                title={a.description || a.name}
                onClick={() => setActive(a.id)}
              >
                {a.name}
              </button>
              {manage && (
                <button
                  type="button"
                  className="app-uninstall"
                  data-testid={`app-uninstall-${a.id}`}
                  aria-label={`Uninstall ${a.name}`}
                  title={`Uninstall ${a.name}`}
                  disabled={busy}
                  onClick={() => void change(a.id, false)}
                >
                  ×
                </button>
              )}
            </span>
          ))}
        </div>
        <span className="spacer" />
        {manage && installable.length > 0 && (
          <form className="inline-form" onSubmit={onInstall}>
            <label className="sr-only" htmlFor="app-install-select">
              App to install
            </label>
            <select
              id="app-install-select"
              data-testid="app-install-select"
              value={choice || installable[0]?.id}
              onChange={(e) => setChoice(e.target.value)}
            >
              {installable.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
            <button type="submit" data-testid="app-install" disabled={busy}>
              Install
            </button>
          </form>
        )}
      </div>
      {loadError !== null && <p className="apps-empty">{loadError}</p>}
      {installed === null && <p className="apps-empty">Loading apps…</p>}
      {installed?.length === 0 && loadError === null && (
        <p className="apps-empty" data-testid="apps-empty">
          No apps in this room yet.
          {manage ? " Install one above." : " A room owner or admin can install one."}
        </p>
      )}
      <div className="app-host" ref={hostRef} data-testid="app-host" data-app={activeId ?? ""} />
    </section>
  );
}
