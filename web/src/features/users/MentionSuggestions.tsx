// `@` autocomplete in the composer: the `@word` before the caret is searched (users.search.{user},
// debounced, from 2 characters) and picking a user replaces it with `@username `.
import { type RefObject, useState } from "react";
import { UserSuggestions, suggestionKey } from "./UserSuggestions";
import { insertMention, mentionAt, type SuggestState } from "./suggest";
import { useUserSuggestions } from "./useUserSuggestions";

export function useMentions(
  ref: RefObject<HTMLTextAreaElement | null>,
  text: string,
  setText: (t: string) => void,
  testId: string,
): {
  props: { state: SuggestState; active: number; onPick: (u: string) => void; testId: string };
  onInput: (value: string, caret: number) => void;
  onKeyDown: (key: string) => boolean;
  clear: () => void;
} {
  const { state, input, clear } = useUserSuggestions();
  const [active, setActive] = useState(0);
  const pick = (username: string) => {
    const el = ref.current;
    const caret = el?.selectionStart ?? text.length;
    const next = insertMention(text, caret, username);
    setText(next.text);
    clear();
    setActive(0);
    // Put the caret after the inserted mention once React has rendered the new value.
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(next.caret, next.caret);
    });
  };
  return {
    props: { state, active, onPick: pick, testId },
    onInput: (value, caret) => {
      setActive(0);
      const at = mentionAt(value, caret);
      if (at === null) clear();
      else input(at.query);
    },
    onKeyDown: (key) => {
      if (key === "Escape" && state.query !== "") {
        clear();
        return true;
      }
      return suggestionKey(key, state, active, setActive, pick);
    },
    clear,
  };
}

export function MentionSuggestions(props: {
  state: SuggestState;
  active: number;
  onPick: (u: string) => void;
  testId: string;
}) {
  return (
    <div className="mention-suggestions">
      <UserSuggestions {...props} />
    </div>
  );
}
