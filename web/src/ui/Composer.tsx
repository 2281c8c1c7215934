import { type KeyboardEvent, useState } from "react";
import { useChatState } from "./hooks";

/** Multi-line input: Enter sends, Shift+Enter inserts a newline (system.md §7.7). */
export function Composer({
  label,
  placeholder,
  onSend,
  testId,
  sendTestId,
}: {
  label: string;
  placeholder: string;
  onSend: (text: string) => void;
  testId: string;
  sendTestId: string;
}) {
  const s = useChatState();
  const [text, setText] = useState("");
  if (s.tier === "none") {
    return (
      <p className="read-only" data-testid="read-only-note">
        Your account has read-only access: you can read rooms but not post.
      </p>
    );
  }
  const connected = s.connection === "connected";
  const send = () => {
    if (text.trim() === "") return;
    onSend(text);
    setText("");
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };
  return (
    <div className="composer">
      <textarea
        data-testid={testId}
        aria-label={label}
        placeholder={connected ? placeholder : "Connecting…"}
        rows={2}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
      />
      <button type="button" data-testid={sendTestId} onClick={send} disabled={text.trim() === ""}>
        Send
      </button>
    </div>
  );
}
