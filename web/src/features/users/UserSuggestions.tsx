// The suggestion list under a user input (DM start, invite, `@` in the composer): a listbox of
// "username — First Last", the search state in words (searching, no match, errors such as the
// rate limit). Text only.
import type { SuggestState } from "./suggest";

export function UserSuggestions({
  state,
  active,
  onPick,
  testId,
}: {
  state: SuggestState;
  active: number;
  onPick: (username: string) => void;
  testId: string;
}) {
  if (state.query === "") return null;
  return (
    <div className="user-suggestions" data-testid={testId}>
      {state.error !== "" && (
        <p className="inline-error" role="alert" data-testid="user-search-error">
          {state.error}
        </p>
      )}
      {state.loading && state.users.length === 0 && <p className="hint">Searching…</p>}
      {!state.loading && state.error === "" && state.users.length === 0 && (
        <p className="hint">No user matches “{state.query}”.</p>
      )}
      {state.users.length > 0 && (
        <ul role="listbox" aria-label="Matching users">
          {state.users.map((u, i) => (
            <li
              key={u.username}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              data-testid={`user-suggestion-${u.username}`}
              // mousedown, not click: the input's blur would otherwise close the list first.
              onMouseDown={(e) => {
                e.preventDefault();
                onPick(u.username);
              }}
            >
              <span className="username">{u.username}</span>
              {(u.firstName !== "" || u.lastName !== "") && (
                <span className="full-name"> — {`${u.firstName} ${u.lastName}`.trim()}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Arrow keys move the highlight, Tab picks it (or the first), Enter picks the highlighted one
 * (`active` -1 = none: Enter then keeps its usual meaning, e.g. submitting the form with the
 * typed name). Returns true when the key was used.
 */
export function suggestionKey(
  key: string,
  state: SuggestState,
  active: number,
  setActive: (i: number) => void,
  onPick: (username: string) => void,
): boolean {
  const n = state.users.length;
  if (n === 0) return false;
  switch (key) {
    case "ArrowDown":
      setActive((active + 1) % n);
      return true;
    case "ArrowUp":
      setActive(active <= 0 ? n - 1 : active - 1);
      return true;
    case "Tab":
      onPick(state.users[Math.min(Math.max(active, 0), n - 1)]!.username);
      return true;
    case "Enter":
      if (active < 0) return false;
      onPick(state.users[Math.min(active, n - 1)]!.username);
      return true;
    default:
      return false;
  }
}
