import { useEffect } from "react";
import { ErrorBanner } from "./ErrorBanner";
import { Header } from "./Header";
import { useChatState, useClient } from "./hooks";
import { RoomView } from "./RoomView";
import { Sidebar } from "./Sidebar";
import { ThreadPanel } from "./ThreadPanel";

function SignIn() {
  const client = useClient();
  const { phase } = useChatState();
  return (
    <div className="signin">
      <h1>NATS Chat</h1>
      {phase === "signing-in" || phase === "loading" ? (
        <p role="status" data-testid="signing-in">
          Signing in…
        </p>
      ) : (
        <button
          type="button"
          className="primary"
          data-testid="login"
          onClick={() => void client.signIn()}
        >
          Sign in
        </button>
      )}
    </div>
  );
}

export function App() {
  const client = useClient();
  const s = useChatState();
  // Runs after every commit: settles spans waiting for their change to be on screen.
  useEffect(() => client.store.flushRendered());
  const room = s.activeRoom !== null ? s.rooms[s.activeRoom] : undefined;
  return (
    <div className="app">
      <ErrorBanner />
      {s.phase !== "ready" ? (
        <SignIn />
      ) : (
        <>
          <Header />
          <div className={`layout${s.thread ? " with-thread" : ""}`}>
            <Sidebar />
            {room ? <RoomView room={room} /> : <main className="room empty">Choose a room.</main>}
            <ThreadPanel />
          </div>
        </>
      )}
    </div>
  );
}
