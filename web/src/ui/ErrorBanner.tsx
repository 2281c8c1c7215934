import { useChatState, useClient } from "./hooks";

/** Visible, dismissable errors (role="alert"), newest last. */
export function ErrorBanner() {
  const { errors } = useChatState();
  const client = useClient();
  if (errors.length === 0) return null;
  return (
    <div className="errors" data-testid="error-banner">
      {errors.map((e) => (
        <div key={e.id} className="error" role="alert" data-testid="error-item">
          <span>{e.message}</span>
          <button
            type="button"
            aria-label="Dismiss error"
            data-testid="error-dismiss"
            onClick={() => client.dismissError(e.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
