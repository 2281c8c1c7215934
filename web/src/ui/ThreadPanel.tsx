import { useChatState, useClient } from "./hooks";
import { Composer } from "./Composer";
import { MessageItem } from "./MessageItem";

export function ThreadPanel() {
  const s = useChatState();
  const client = useClient();
  const t = s.thread;
  if (t === null) return null;
  const parent = s.rooms[t.room]?.messages.find(
    (m) => m.timestamp === t.parentTimestamp && m.threadId === "",
  );
  return (
    <aside
      className="thread"
      data-testid="thread-panel"
      data-thread-id={t.threadId}
      data-loaded={t.loaded}
      aria-label="Thread"
    >
      <div className="thread-head">
        <h2>Thread</h2>
        <button
          type="button"
          data-testid="thread-close"
          aria-label="Close thread"
          onClick={() => client.closeThread()}
        >
          ×
        </button>
      </div>
      {parent && (
        <div className="thread-parent" data-testid="thread-parent">
          <strong>{parent.user}</strong> {parent.deleted ? "This message was deleted" : parent.text}
        </div>
      )}
      <ul className="messages" data-testid="thread-messages">
        {t.messages.map((m) => (
          <MessageItem key={m.key} m={m} inThread />
        ))}
        {t.loaded && t.messages.length === 0 && <li className="empty">No replies yet.</li>}
      </ul>
      <Composer
        label="Reply in thread"
        placeholder="Reply…"
        testId="thread-composer-input"
        sendTestId="thread-send-button"
        onSend={(text) => void client.send(t.room, text, t)}
        onSticker={(url) => void client.send(t.room, "", t, url)}
      />
    </aside>
  );
}
