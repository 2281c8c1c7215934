// chat::client internals shared by the files of libs/client/src (not installed).
#pragma once

#include "chat/telemetry/trace_context.hpp"

namespace chat::client::internal {

// session.cpp: a valid but unsampled parent. The parent-based sampler drops the publish/request
// span (and the receivers' spans) instead of starting a root trace for every keep-alive or poll.
telemetry::SpanContext Untraced();

}  // namespace chat::client::internal
