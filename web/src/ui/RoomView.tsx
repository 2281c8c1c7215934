import { type FormEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { roomLabel, type RoomView as Room } from "../chat/model";
import { AppsTab } from "../features/apps/AppsTab";
import { roomHasApps } from "../features/apps/permissions";
import { Composer } from "./Composer";
import { useChatState, useClient } from "./hooks";
import { MessageItem } from "./MessageItem";
import { UserInput } from "../features/users/UserInput";

function PresenceBar({ room }: { room: Room }) {
  const entries = Object.entries(room.presence).sort(([a], [b]) => a.localeCompare(b));
  const online = entries.filter(([, st]) => st !== "offline").length;
  return (
    <div className="presence" data-testid="presence-bar" aria-label="Who is here">
      <span data-testid="online-count">{online} online</span>
      {entries.map(([u, st]) => (
        <span
          key={u}
          className={`pill pill-${st}`}
          data-testid={`presence-${u}`}
          data-status={st}
          title={st}
        >
          {u}
        </span>
      ))}
    </div>
  );
}

function MembersPanel({ room }: { room: Room }) {
  const client = useClient();
  const { user: me, tier } = useChatState();
  const [target, setTarget] = useState("");
  const members = room.members ?? [];
  const myRole = members.find((m) => m.username === me)?.role;
  const manage = tier !== "none" && (myRole === "owner" || myRole === "admin");
  const invite = async (e: FormEvent) => {
    e.preventDefault();
    if (await client.invite(room.key, target)) setTarget("");
  };
  return (
    <section className="members" data-testid="members-panel" aria-label="Members">
      <ul>
        {members.map((m) => (
          <li key={m.username} data-testid={`member-${m.username}`}>
            {m.username} <span className="role">{m.role}</span>
            {manage && m.role !== "owner" && m.username !== me && (
              <button
                type="button"
                data-testid={`kick-${m.username}`}
                onClick={() => void client.kick(room.key, m.username)}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {manage && (
        <form className="inline-form" onSubmit={(e) => void invite(e)}>
          <label className="sr-only" htmlFor="invite-user">
            Invite a user
          </label>
          <UserInput
            id="invite-user"
            testId="invite-input"
            placeholder="Invite username…"
            value={target}
            onChange={setTarget}
            onPick={setTarget}
            exclude={members.map((m) => m.username)}
          />
          <button type="submit" data-testid="invite-button">
            Invite
          </button>
        </form>
      )}
    </section>
  );
}

export function RoomView({ room }: { room: Room }) {
  const client = useClient();
  const s = useChatState();
  const listRef = useRef<HTMLUListElement>(null);
  const [showMembers, setShowMembers] = useState(false);
  // The members panel closes when another room is shown (state adjusted while rendering, as
  // React recommends over a setState in an effect: no render with the stale value).
  const [membersRoom, setMembersRoom] = useState(room.key);
  // Chat or apps (public and private rooms); back to chat in another room.
  const [tab, setTab] = useState<"chat" | "apps">("chat");
  if (membersRoom !== room.key) {
    setMembersRoom(room.key);
    setShowMembers(false);
    setTab("chat");
  }
  const withApps = roomHasApps(room);
  const showApps = withApps && tab === "apps";
  const stick = useRef(true);
  const prevHeight = useRef(0);
  const prevFirst = useRef<string | undefined>(undefined);

  // Keep the view pinned to the bottom for new messages; keep the position when older ones load.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const first = room.messages[0]?.key;
    if (prevFirst.current !== undefined && first !== prevFirst.current && !stick.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
    // `tab`: the list is mounted again when the chat tab comes back.
  }, [room.messages, tab]);
  useEffect(() => {
    stick.current = true;
  }, [room.key]);

  const onScroll = () => {
    const el = listRef.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (el.scrollTop < 100 && room.hasMore && !room.loadingMore)
      void client.loadMoreHistory(room.key);
  };

  const prefix =
    room.kind === "dm" ? "@" : room.kind === "private" ? "🔒 " : room.kind === "admin" ? "★ " : "#";
  const label = roomLabel(room, s.user);
  const subject =
    room.kind === "admin" ? `admin.chat.${s.user}` : `deliver.${s.user}.send.${room.key}`;
  return (
    <main className="room" aria-label={`Room ${label}`}>
      <div className="room-head">
        <h2 data-testid="room-title" data-room={room.key}>
          {prefix}
          {label}
          {label !== room.key && room.kind !== "admin" && (
            <span className="room-key"> ({room.key})</span>
          )}
        </h2>
        <code className="subject" title="Publish subject">
          {subject}
        </code>
        <span className="spacer" />
        {room.kind === "private" && (
          <>
            <button
              type="button"
              data-testid="members-toggle"
              aria-expanded={showMembers}
              onClick={() => {
                setShowMembers((v) => !v);
                if (!showMembers) void client.refreshMembers(room.key);
              }}
            >
              {room.members?.length ?? "?"} {room.members?.length === 1 ? "member" : "members"}
            </button>
            {s.tier !== "none" && (
              <button
                type="button"
                data-testid="leave-room"
                onClick={() => void client.departRoom(room.key)}
              >
                Leave
              </button>
            )}
          </>
        )}
        {room.kind === "public" && (
          <button
            type="button"
            data-testid="leave-room"
            onClick={() => void client.leaveRoom(room.key)}
          >
            Leave
          </button>
        )}
      </div>
      <PresenceBar room={room} />
      {showMembers && room.kind === "private" && <MembersPanel room={room} />}
      {withApps && (
        <div className="room-tabs" role="tablist" aria-label="Room views">
          <button
            type="button"
            role="tab"
            aria-selected={!showApps}
            data-testid="room-tab-chat"
            onClick={() => setTab("chat")}
          >
            Chat
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={showApps}
            data-testid="room-tab-apps"
            onClick={() => setTab("apps")}
          >
            Apps
          </button>
        </div>
      )}
      {showApps ? (
        <AppsTab key={room.key} room={room} />
      ) : (
        <>
          <ul
            className="messages"
            ref={listRef}
            onScroll={onScroll}
            data-testid="message-list"
            data-loaded={room.historyLoaded}
            aria-live="polite"
          >
            {room.hasMore && (
              <li className="more">
                <button
                  type="button"
                  data-testid="load-more"
                  disabled={room.loadingMore}
                  onClick={() => void client.loadMoreHistory(room.key)}
                >
                  {room.loadingMore ? "Loading…" : "Load older messages"}
                </button>
              </li>
            )}
            {room.historyLoaded && room.messages.length === 0 && (
              <li className="empty">No messages yet.</li>
            )}
            {!room.historyLoaded && <li className="empty">Loading…</li>}
            {room.messages.map((m) => (
              <MessageItem key={m.key} m={m} allowThreads={room.kind !== "admin"} />
            ))}
          </ul>
          <Composer
            label={`Message ${prefix}${label}`}
            placeholder={`Message ${prefix}${label}`}
            testId="composer-input"
            sendTestId="send-button"
            onSend={(text) => void client.send(room.key, text)}
            onSticker={(url) => void client.send(room.key, "", undefined, url)}
          />
        </>
      )}
    </main>
  );
}
