import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { CrashFallback, ErrorBoundary } from "./ErrorBoundary";

describe("ErrorBoundary", () => {
  it("turns any thrown value into an Error in its state", () => {
    const boom = new Error("boom");
    expect(ErrorBoundary.getDerivedStateFromError(boom)).toEqual({ error: boom });
    const fromString = ErrorBoundary.getDerivedStateFromError("plain string");
    expect(fromString.error).toBeInstanceOf(Error);
    expect(fromString.error?.message).toBe("plain string");
  });

  it("renders its children while nothing failed", () => {
    const html = renderToStaticMarkup(
      createElement(ErrorBoundary, null, createElement("p", { "data-testid": "child" }, "hello")),
    );
    expect(html).toBe('<p data-testid="child">hello</p>');
  });

  it("shows the reason and a reload button as an alert after a crash", () => {
    const html = renderToStaticMarkup(createElement(CrashFallback, { message: "x is undefined" }));
    expect(html).toContain('role="alert"');
    expect(html).toContain("x is undefined");
    expect(html).toContain('data-testid="app-reload"');
  });

  it("renders the fallback instead of the children once it holds an error", () => {
    const boundary = new ErrorBoundary({ children: createElement("p", null, "hidden") });
    boundary.state = ErrorBoundary.getDerivedStateFromError(new Error("broken view"));
    const html = renderToStaticMarkup(boundary.render() as never);
    expect(html).toContain("broken view");
    expect(html).not.toContain("hidden");
  });
});
