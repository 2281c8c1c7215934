import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { kReactionEmojis, type MessageView } from "../chat/model";
import { StickerImage } from "../features/stickers/StickerImage";
import { TranslateMessage } from "../features/translate/TranslateMessage";
import { avatarColour, formatTime, isoTime, useChatState, useClient } from "./hooks";

/** Message text with @mentions highlighted (plain text otherwise; newlines kept by CSS). */
function MessageText({ text, me }: { text: string; me: string }) {
  const parts = text.split(/(@[\w-]+)/g);
  return (
    <span className="text" data-testid="message-text">
      {parts.map((p, i) =>
        p.startsWith("@") ? (
          <span key={i} className={p.slice(1) === me ? "mention mention-me" : "mention"}>
            {p}
          </span>
        ) : (
          p
        ),
      )}
    </span>
  );
}

export function MessageItem({
  m,
  inThread = false,
  allowThreads = true,
}: {
  m: MessageView;
  inThread?: boolean;
  allowThreads?: boolean;
}) {
  const client = useClient();
  const { user: me, tier } = useChatState();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.text);
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const editRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) editRef.current?.focus();
  }, [editing]);

  if (m.system) {
    return (
      <li
        className="system"
        data-testid="message"
        data-system="true"
        data-message-id={m.key}
        data-state={m.state}
      >
        <span>{m.text}</span>
      </li>
    );
  }
  const own = m.user === me;
  const canWrite = tier !== "none";
  const live = !m.deleted && m.state !== "failed";

  const onEditKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void client.edit(m, draft);
      setEditing(false);
    } else if (e.key === "Escape") {
      setEditing(false);
    }
  };

  return (
    <li
      className={`message${own ? " own" : ""}`}
      data-testid="message"
      data-message-id={m.key}
      data-state={m.state}
      data-user={m.user}
    >
      <span className="avatar" style={{ background: avatarColour(m.user) }} aria-hidden="true">
        {m.user[0]?.toUpperCase()}
      </span>
      <div className="body">
        <div className="meta">
          <span className="author" data-testid="message-author">
            {m.user}
          </span>
          <time dateTime={isoTime(m.timestamp)}>{formatTime(m.timestamp)}</time>
          {m.state === "pending" && <span className="state">sending…</span>}
          {m.state === "failed" && <span className="state failed">not delivered</span>}
        </div>
        {m.deleted ? (
          <span className="deleted" data-testid="message-deleted">
            This message was deleted
          </span>
        ) : editing ? (
          <textarea
            ref={editRef}
            className="edit-input"
            data-testid="edit-input"
            aria-label="Edit message (Enter saves, Escape cancels)"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onEditKey}
            onBlur={() => setEditing(false)}
          />
        ) : (
          <>
            <MessageText text={m.text} me={me} />
            {m.stickerUrl !== "" && <StickerImage url={m.stickerUrl} />}
            {m.edited && (
              <span className="edited" data-testid="message-edited">
                {" "}
                (edited)
              </span>
            )}
          </>
        )}
        {!editing && m.state !== "pending" && <TranslateMessage m={m} />}
        {m.reactions.length > 0 && !m.deleted && (
          <div className="reactions">
            {m.reactions.map((r) => (
              <button
                key={r.emoji}
                type="button"
                className={`reaction${r.users.includes(me) ? " mine" : ""}`}
                data-testid={`reaction-${r.emoji}`}
                title={r.users.join(", ")}
                aria-label={`${r.emoji} ${r.users.length}: ${r.users.join(", ")}`}
                disabled={!canWrite}
                onClick={() => void client.react(m, r.emoji)}
              >
                {r.emoji} <span className="count">{r.users.length}</span>
              </button>
            ))}
          </div>
        )}
        {!inThread && allowThreads && m.replyCount > 0 && (
          <button
            type="button"
            className="reply-count"
            data-testid="message-reply-count"
            onClick={() => void client.openThread(m.room, m)}
          >
            {m.replyCount} {m.replyCount === 1 ? "reply" : "replies"}
          </button>
        )}
      </div>
      {live && canWrite && (
        <div className="actions" role="toolbar" aria-label={`Actions for ${m.user}'s message`}>
          <button
            type="button"
            data-testid="message-react"
            aria-label="React"
            aria-expanded={picking}
            onClick={() => setPicking((p) => !p)}
          >
            ☺
          </button>
          {!inThread && allowThreads && (
            <button
              type="button"
              data-testid="message-reply"
              aria-label="Reply in thread"
              onClick={() => void client.openThread(m.room, m)}
            >
              ↩
            </button>
          )}
          {own && (
            <button
              type="button"
              data-testid="message-edit"
              aria-label="Edit"
              onClick={() => {
                setDraft(m.text);
                setEditing(true);
              }}
            >
              ✎
            </button>
          )}
          {own &&
            (confirming ? (
              <>
                <button
                  type="button"
                  className="danger"
                  data-testid="confirm-delete"
                  onClick={() => {
                    setConfirming(false);
                    void client.remove(m);
                  }}
                >
                  Delete
                </button>
                <button
                  type="button"
                  data-testid="cancel-delete"
                  onClick={() => setConfirming(false)}
                >
                  Keep
                </button>
              </>
            ) : (
              <button
                type="button"
                data-testid="message-delete"
                aria-label="Delete"
                onClick={() => setConfirming(true)}
              >
                🗑
              </button>
            ))}
          {picking && (
            <div className="picker" role="menu" aria-label="Choose a reaction">
              {kReactionEmojis.map((e) => (
                <button
                  key={e}
                  type="button"
                  role="menuitem"
                  data-testid={`reaction-choice-${e}`}
                  aria-label={`React with ${e}`}
                  onClick={() => {
                    setPicking(false);
                    void client.react(m, e);
                  }}
                >
                  {e}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
      {!live && !m.deleted && own && m.state === "failed" && (
        <span className="sr-only">This message was not delivered.</span>
      )}
      {!canWrite && !inThread && allowThreads && !m.deleted && (
        <div className="actions" role="toolbar" aria-label="Thread">
          <button
            type="button"
            data-testid="message-reply"
            aria-label="Open thread"
            onClick={() => void client.openThread(m.room, m)}
          >
            ↩
          </button>
        </div>
      )}
    </li>
  );
}
