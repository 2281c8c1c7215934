import { type FormEvent, useState } from "react";
import type { RoomView } from "../chat/model";
import { roomLabel } from "../chat/model";
import { useChatState, useClient } from "./hooks";
import { CreateRoomDialog } from "./CreateRoomDialog";
import { UserInput } from "../features/users/UserInput";

function RoomItem({ room, me, active }: { room: RoomView; me: string; active: boolean }) {
  const client = useClient();
  const prefix =
    room.kind === "dm" ? "@" : room.kind === "private" ? "🔒" : room.kind === "admin" ? "★" : "#";
  return (
    <li>
      <button
        type="button"
        className={`room-item${active ? " active" : ""}`}
        data-testid={`room-item-${room.key}`}
        data-room={room.key}
        aria-current={active ? "page" : undefined}
        onClick={() => void client.openRoom(room.key)}
      >
        <span className="prefix" aria-hidden="true">
          {prefix}
        </span>
        <span className="name">{roomLabel(room, me)}</span>
        {room.unread > 0 && (
          <span
            className="badge"
            data-testid={`unread-${room.key}`}
            aria-label={`${room.unread} unread`}
          >
            {room.unread > 99 ? "99+" : room.unread}
          </span>
        )}
      </button>
    </li>
  );
}

export function Sidebar() {
  const s = useChatState();
  const client = useClient();
  const [creating, setCreating] = useState(false);
  const [dmUser, setDmUser] = useState("");
  const [addRoom, setAddRoom] = useState("");
  const rooms = s.roomOrder.map((k) => s.rooms[k]).filter((r): r is RoomView => r !== undefined);
  const section = (kind: RoomView["kind"]) =>
    rooms
      .filter((r) => r.kind === kind)
      .map((r) => <RoomItem key={r.key} room={r} me={s.user} active={s.activeRoom === r.key} />);
  const canWrite = s.tier !== "none";

  const startDm = (e: FormEvent) => {
    e.preventDefault();
    if (dmUser.trim() === "") return;
    void client.openDm(dmUser);
    setDmUser("");
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    if (addRoom.trim() === "") return;
    void client.addPublicRoom(addRoom);
    setAddRoom("");
  };

  return (
    <nav className="sidebar" aria-label="Rooms">
      <h2>Rooms</h2>
      <ul data-testid="room-list">{section("public")}</ul>
      <form className="inline-form" onSubmit={add}>
        <label className="sr-only" htmlFor="add-room">
          Add a public room
        </label>
        <input
          id="add-room"
          data-testid="add-room-input"
          placeholder="Add room…"
          value={addRoom}
          onChange={(e) => setAddRoom(e.target.value)}
        />
        <button type="submit" data-testid="add-room-button" aria-label="Add room">
          +
        </button>
      </form>
      {s.tier === "admin" && (
        <>
          <h2>Admin Channel</h2>
          <ul>{section("admin")}</ul>
        </>
      )}
      <h2>
        Private Rooms
        {canWrite && (
          <button
            type="button"
            className="icon"
            data-testid="create-room"
            aria-label="Create a private room"
            onClick={() => setCreating(true)}
          >
            +
          </button>
        )}
      </h2>
      <ul data-testid="private-room-list">{section("private")}</ul>
      <h2>Direct Messages</h2>
      <ul data-testid="dm-list">{section("dm")}</ul>
      <form className="inline-form" onSubmit={startDm}>
        <label className="sr-only" htmlFor="dm-user">
          Message a user
        </label>
        <UserInput
          id="dm-user"
          testId="dm-user-input"
          placeholder="Message user…"
          value={dmUser}
          onChange={setDmUser}
          onPick={(u) => {
            setDmUser("");
            void client.openDm(u);
          }}
        />
        <button type="submit" data-testid="dm-start" aria-label="Start direct message">
          →
        </button>
      </form>
      <p className="hint">Room apps are on each room&apos;s Apps tab.</p>
      {creating && <CreateRoomDialog onClose={() => setCreating(false)} />}
    </nav>
  );
}
