// chat-load's apps scenario (issue 13 "Load"): logged-in sessions vote in one poll per room and
// send whiteboard deltas to one board per room, open loop at a fixed total rate, through the same
// app.{app}.{room}.{action}.{user} requests the browser's bridge makes. It measures what a user
// would notice and what an SRE must prove:
// * request latency from each request's *due* time to its reply (a late start counts: no
//   coordinated omission), per action and overall;
// * nothing lost: every request answered ok; at the end each board holds every element the run
//   wrote at the highest version acknowledged for it, and each poll's counts equal the votes of
//   the users who voted (each user always picks the same option, so the expected result does not
//   depend on the order concurrent votes were applied);
// * each delta's `sync` broadcast reaching its sender (deliver.{user}.app.whiteboard.{room}.sync).
// Before it starts, the first admin-tier session (alice among the seeded users) joins the admin
// channel and installs the poll and whiteboard apps in the rooms (public load-1..R, where only a
// platform admin may), since the app services refuse rooms without them; they stay installed.
// The run closes its polls and deletes its boards, so repeated runs stay within the services'
// per-room limits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/client/session.hpp"

namespace chat::load {

struct AppsLoadOptions {
  double rate = 1000;      // requests/s in total, half votes and half deltas
  double duration_s = 10;  // sending time
  double drain_s = 10;     // how long to wait for the last sync events
  // Request threads, each with at most one request in flight (a request is late when its worker
  // is still waiting for an earlier reply: that wait counts in its latency). 64 by default, so a
  // slow reply delays few others, as with independent browsers.
  int workers = 64;
  std::string phase;  // echoed in the report
  bool json = false;  // one JSON object on stdout instead of the text report
};

// Runs the scenario with `sessions` (logged in) in `rooms_of[k]` for session k (each session
// joins its rooms here). Prints the report; returns 0 when every request was answered ok and
// nothing was lost, 3 when something was, 1 when the run could not start.
int RunAppsLoad(const AppsLoadOptions& options,
                const std::vector<std::unique_ptr<client::Session>>& sessions,
                const std::vector<std::vector<std::string>>& rooms_of,
                const telemetry::Telemetry& telemetry);

}  // namespace chat::load
