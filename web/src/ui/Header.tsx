import type { PresenceStatus } from "../contracts/presence";
import { kPresenceStatuses } from "../contracts/presence";
import { useChatState, useClient } from "./hooks";

const kConnectionText: Record<string, string> = {
  connected: "Connected",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
  closed: "Disconnected",
  "signed-out": "Signed out",
};

export function Header() {
  const s = useChatState();
  const client = useClient();
  return (
    <header className="header">
      <h1 className="brand">NATS Chat</h1>
      <span
        className={`conn conn-${s.connection}`}
        data-testid="connection-status"
        data-state={s.connection}
        role="status"
      >
        {kConnectionText[s.connection] ?? s.connection}
      </span>
      {s.notice && (
        <span className="notice" data-testid="session-notice">
          {s.notice}{" "}
          <button type="button" onClick={() => void client.signIn()}>
            Sign in again
          </button>
        </span>
      )}
      <span className="spacer" />
      <span
        className="me"
        data-testid="current-user"
        data-tier={s.tier}
        data-user={s.user}
        title={s.displayName}
      >
        {s.user}
        {s.roles.map((r) => (
          <span key={r} className="role">
            {r}
          </span>
        ))}
        {s.tier === "none" && <span className="role role-ro">read-only</span>}
      </span>
      <label className="status">
        <span className="sr-only">Status</span>
        <select
          data-testid="status-select"
          aria-label="Status"
          value={s.status}
          onChange={(e) => void client.setStatus(e.target.value as PresenceStatus)}
        >
          {kPresenceStatuses.map((st) => (
            <option key={st} value={st}>
              {st[0]!.toUpperCase() + st.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" data-testid="logout" onClick={() => void client.logout()}>
        Log out
      </button>
    </header>
  );
}
