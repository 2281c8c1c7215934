import { type FormEvent, useEffect, useRef, useState } from "react";
import { sanitizeRoomName } from "../chat/model";
import { useClient } from "./hooks";

export function CreateRoomDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const ok = await client.createRoom(name, displayName);
    setBusy(false);
    if (ok) onClose();
  };

  return (
    <div className="dialog-backdrop" onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="create-room-title"
        data-testid="create-room-dialog"
        onSubmit={(e) => void submit(e)}
      >
        <h2 id="create-room-title">Create a private room</h2>
        <label>
          Name (lowercase letters, digits, dashes)
          <input
            ref={first}
            data-testid="create-room-name"
            value={name}
            onChange={(e) => setName(sanitizeRoomName(e.target.value.replace(/\s/g, "-")))}
            required
            maxLength={64}
          />
        </label>
        <label>
          Display name (optional)
          <input
            data-testid="create-room-display-name"
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
            maxLength={100}
          />
        </label>
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" data-testid="create-room-submit" disabled={busy || name === ""}>
            Create
          </button>
        </div>
      </form>
    </div>
  );
}
