import { Component, createElement, type ErrorInfo, type ReactNode } from "react";

/**
 * What a crashed render shows instead of a blank page: the reason and a way back. Written with
 * createElement so the unit test (plain .ts, node environment) can render it too.
 */
export function CrashFallback({ message }: { message: string }) {
  return createElement(
    "div",
    { className: "fatal", role: "alert", "data-testid": "app-crashed" },
    createElement("p", null, `The chat hit an error and stopped drawing: ${message}`),
    createElement(
      "button",
      { type: "button", "data-testid": "app-reload", onClick: () => window.location.reload() },
      "Reload",
    ),
  );
}

interface State {
  error: Error | null;
}

/**
 * Catches errors thrown while rendering the app (React unmounts the whole tree otherwise). The
 * NATS connection and the session in sessionStorage survive, so Reload resumes where the user was.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The console is where a developer looks first; the component stack says which view broke.
    console.error("render failed", error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error)
      return createElement(CrashFallback, { message: this.state.error.message });
    return this.props.children;
  }
}
