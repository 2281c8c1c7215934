// React binding of SuggestController: one controller per input, searching through the chat
// client's UserSearchService.
import { useEffect, useMemo, useRef, useState } from "react";
import { useClient } from "../../ui/hooks";
import { userSearchFor } from "./service";
import { kIdle, SuggestController, type SuggestState } from "./suggest";

export function useUserSuggestions(exclude: readonly string[] = []): {
  state: SuggestState;
  input: (q: string) => void;
  clear: () => void;
} {
  const client = useClient();
  const [state, setState] = useState<SuggestState>(kIdle);
  const excludeRef = useRef<ReadonlySet<string>>(new Set());
  const excludeKey = exclude.join("\n");
  useEffect(() => {
    excludeRef.current = new Set(excludeKey === "" ? [] : excludeKey.split("\n"));
  }, [excludeKey]);
  const ctrl = useMemo(() => {
    const svc = userSearchFor(client);
    return new SuggestController((q) => svc.search(q), setState, {
      exclude: () => new Set([...excludeRef.current, client.user]),
    });
  }, [client]);
  useEffect(() => () => ctrl.clear(), [ctrl]);
  return { state, input: (q) => ctrl.input(q), clear: () => ctrl.clear() };
}
