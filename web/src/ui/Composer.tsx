import { type KeyboardEvent, useRef, useState } from "react";
import { StickerPicker } from "../features/stickers/StickerPicker";
import { MentionSuggestions, useMentions } from "../features/users/MentionSuggestions";
import { useChatState } from "./hooks";

/**
 * Multi-line input: Enter sends, Shift+Enter inserts a newline (system.md §7.7); `@name`
 * autocomplete (users.search.{user}) and, with `onSticker`, the sticker picker.
 */
export function Composer({
  label,
  placeholder,
  onSend,
  onSticker,
  testId,
  sendTestId,
}: {
  label: string;
  placeholder: string;
  onSend: (text: string) => void;
  onSticker?: (imageUrl: string) => void;
  testId: string;
  sendTestId: string;
}) {
  const s = useChatState();
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const mentions = useMentions(ref, text, setText, `${testId}-mentions`);
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
    mentions.clear();
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return;
    if (mentions.onKeyDown(e.key)) {
      e.preventDefault();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  };
  return (
    <div className="composer">
      <MentionSuggestions {...mentions.props} />
      <textarea
        ref={ref}
        data-testid={testId}
        aria-label={label}
        placeholder={connected ? placeholder : "Connecting…"}
        rows={2}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          mentions.onInput(e.target.value, e.target.selectionStart);
        }}
        onKeyDown={onKey}
        onBlur={() => mentions.clear()}
      />
      {onSticker && <StickerPicker onPick={onSticker} disabled={!connected} />}
      <button type="button" data-testid={sendTestId} onClick={send} disabled={text.trim() === ""}>
        Send
      </button>
    </div>
  );
}
