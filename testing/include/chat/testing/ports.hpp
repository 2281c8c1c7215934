// FreePort: a TCP port on 127.0.0.1 for a test's server or child process. One implementation for
// every fixture (Postgres, the e2e stack, the admin server tests, benches) so the bind/getsockname
// dance lives in one place.
#pragma once

namespace chat::testing {

// A port the kernel just handed out on 127.0.0.1 (bound, read back, closed again; the tiny reuse
// race is acceptable in tests). Nothing listens on it on return, so it also serves as a "refused
// connection" address. 0 when no socket could be bound.
int FreePort();

// A port that refuses connections for as long as this object lives: bound on 127.0.0.1 but never
// listening, so no other process (a parallel test's server) can take it over in the meantime and
// answer where a test wants "nothing there". Use it for "the database is down" and the like.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }  // 0 when no socket could be bound

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace chat::testing
