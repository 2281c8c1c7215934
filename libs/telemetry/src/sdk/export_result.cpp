#include "chat/telemetry/sdk/exporter.hpp"

namespace chat::telemetry::sdk {

std::string_view ExportErrorType(ExportResult r) {
  switch (r) {
    case ExportResult::kSuccess: return "";
    case ExportResult::kTimeout: return "timeout";
    case ExportResult::kHttp4xx: return "http_4xx";
    case ExportResult::kHttp5xx: return "http_5xx";
    case ExportResult::kConnectionError: return "connection_error";
  }
  return "connection_error";
}

}  // namespace chat::telemetry::sdk
