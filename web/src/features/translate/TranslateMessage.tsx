// "Translate" under a message: a language menu built from `translate.ping` (every pair the
// backend has; the message's language is unknown, so the user picks the pair), then the
// translation streaming in under the original as plain text (never HTML), with errors and the
// 60 s timeout shown as a sentence.
import { useState, useSyncExternalStore } from "react";
import type { MessageView } from "../../chat/model";
import { useClient } from "../../ui/hooks";
import { translateServiceFor } from "./service";
import { languageName } from "./stream";

export function TranslateMessage({ m }: { m: MessageView }) {
  const client = useClient();
  const svc = translateServiceFor(client);
  const availability = useSyncExternalStore(svc.subscribe, svc.getAvailability);
  const t = useSyncExternalStore(svc.subscribe, () => svc.translation(m.key));
  const [open, setOpen] = useState(false);
  if (m.text.trim() === "" || m.deleted || m.system) return null;

  const toggle = () => {
    if (!open) void svc.checkAvailability();
    setOpen(!open);
  };

  return (
    <div className="translate" data-testid="translate">
      <button
        type="button"
        className="translate-toggle"
        data-testid="message-translate"
        aria-expanded={open}
        aria-label={`Translate ${m.user}'s message`}
        onClick={toggle}
      >
        Translate
      </button>
      {open && (
        <div className="translate-menu" role="menu" aria-label="Translate into">
          {(availability.state === "checking" || availability.state === "unknown") && (
            <span className="hint">Checking languages…</span>
          )}
          {availability.state === "unavailable" && (
            <span className="inline-error" role="alert" data-testid="translate-unavailable">
              Translation is unavailable: {availability.reason}.
            </span>
          )}
          {availability.state === "available" &&
            availability.pairs.map((p) => (
              <button
                key={`${p.source}-${p.target}`}
                type="button"
                role="menuitem"
                data-testid={`translate-to-${p.source}-${p.target}`}
                onClick={() => {
                  setOpen(false);
                  void svc.translate(m, p);
                }}
              >
                {languageName(p.source)} → {languageName(p.target)}
              </button>
            ))}
        </div>
      )}
      {t !== undefined && (
        <div
          className={`translation translation-${t.status}`}
          data-testid="translation"
          data-status={t.status}
          lang={t.target}
          aria-live="polite"
        >
          <span className="translation-label">
            {languageName(t.source)} → {languageName(t.target)}:
          </span>{" "}
          <span className="translation-text" data-testid="translation-text">
            {t.text}
          </span>
          {t.status === "streaming" && <span className="cursor" aria-hidden="true" />}
          {t.error !== "" && (
            <span className="inline-error" role="alert" data-testid="translation-error">
              {" "}
              {t.error}
            </span>
          )}
          <button
            type="button"
            className="translation-dismiss"
            data-testid="translation-dismiss"
            aria-label="Hide the translation"
            onClick={() => svc.dismiss(m.key)}
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}
