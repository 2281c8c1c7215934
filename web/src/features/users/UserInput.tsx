// A username input with as-you-type suggestions (users.search.{user}): the DM-start box in the
// sidebar and the invite box of a private room. Picking a suggestion calls `onPick`; typing a name and
// submitting the surrounding form still works without a pick.
import { useState } from "react";
import { UserSuggestions, suggestionKey } from "./UserSuggestions";
import { useUserSuggestions } from "./useUserSuggestions";

export function UserInput({
  id,
  testId,
  placeholder,
  value,
  onChange,
  onPick,
  exclude,
}: {
  id: string;
  testId: string;
  placeholder: string;
  value: string;
  onChange: (v: string) => void;
  onPick: (username: string) => void;
  exclude?: readonly string[];
}) {
  const { state, input, clear } = useUserSuggestions(exclude);
  const [active, setActive] = useState(-1);
  const pick = (u: string) => {
    clear();
    setActive(-1);
    onPick(u);
  };
  return (
    <div className="user-input">
      <input
        id={id}
        data-testid={testId}
        placeholder={placeholder}
        autoComplete="off"
        role="combobox"
        aria-expanded={state.users.length > 0}
        aria-autocomplete="list"
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          setActive(-1);
          input(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") clear();
          else if (suggestionKey(e.key, state, active, setActive, pick)) e.preventDefault();
        }}
        onBlur={() => clear()}
      />
      <UserSuggestions
        state={state}
        active={active}
        onPick={pick}
        testId={`${testId}-suggestions`}
      />
    </div>
  );
}
