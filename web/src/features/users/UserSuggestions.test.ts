// Keyboard handling of the suggestion list: arrows move, Tab picks (the first by default),
// Enter picks only a highlighted user so a typed name still submits its form.
import { describe, expect, it } from "vitest";
import { suggestionKey } from "./UserSuggestions";
import type { SuggestState } from "./suggest";

const state: SuggestState = {
  query: "fi",
  loading: false,
  error: "",
  users: [
    { username: "finn", firstName: "", lastName: "" },
    { username: "fiona", firstName: "Fiona", lastName: "F" },
  ],
};

function press(key: string, active: number, s: SuggestState = state) {
  const out = { used: false, active, picked: "" };
  out.used = suggestionKey(
    key,
    s,
    active,
    (i) => (out.active = i),
    (u) => (out.picked = u),
  );
  return out;
}

describe("suggestionKey", () => {
  it("moves the highlight with the arrows, wrapping", () => {
    expect(press("ArrowDown", -1).active).toBe(0);
    expect(press("ArrowDown", 1).active).toBe(0);
    expect(press("ArrowUp", -1).active).toBe(1);
    expect(press("ArrowUp", 1).active).toBe(0);
  });
  it("Enter picks only a highlighted user", () => {
    expect(press("Enter", -1)).toMatchObject({ used: false, picked: "" });
    expect(press("Enter", 1)).toMatchObject({ used: true, picked: "fiona" });
  });
  it("Tab picks the highlighted or the first user", () => {
    expect(press("Tab", -1).picked).toBe("finn");
    expect(press("Tab", 1).picked).toBe("fiona");
  });
  it("does nothing without suggestions", () => {
    expect(press("ArrowDown", -1, { ...state, users: [] }).used).toBe(false);
    expect(press("x", 0).used).toBe(false);
  });
});
