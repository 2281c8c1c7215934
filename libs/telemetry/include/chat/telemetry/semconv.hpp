// The semantic-convention keys we use, as constants (never string literals elsewhere).
// Only libs/natsx, libs/pg and libs/telemetry may use the messaging.*, db.* and trace header
// names; a CI grep enforces it. chat.* keys are our own registry (docs/observability.md §4.3).
#pragma once

#include <string_view>

namespace chat::telemetry::semconv {

// Resource
inline constexpr std::string_view kServiceName = "service.name";
inline constexpr std::string_view kServiceNamespace = "service.namespace";
inline constexpr std::string_view kServiceVersion = "service.version";
inline constexpr std::string_view kServiceInstanceId = "service.instance.id";
inline constexpr std::string_view kDeploymentEnvironmentName = "deployment.environment.name";
inline constexpr std::string_view kTelemetrySdkName = "telemetry.sdk.name";
inline constexpr std::string_view kTelemetrySdkLanguage = "telemetry.sdk.language";
inline constexpr std::string_view kTelemetrySdkVersion = "telemetry.sdk.version";

// Errors (error recording conventions)
inline constexpr std::string_view kErrorType = "error.type";
inline constexpr std::string_view kExceptionEvent = "exception";
inline constexpr std::string_view kExceptionType = "exception.type";
inline constexpr std::string_view kExceptionMessage = "exception.message";

// W3C Trace Context carrier keys in NATS headers (always the lowercase spelling, §3.1), and the
// name nats-server 2.11-2.13 may store instead of traceparent in streams (decisions.md §6).
inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kTracestateHeader = "tracestate";
inline constexpr std::string_view kXraceparentHeader = "Xraceparent";

// Messaging
inline constexpr std::string_view kMessagingSystem = "messaging.system";
inline constexpr std::string_view kMessagingOperationName = "messaging.operation.name";
inline constexpr std::string_view kMessagingOperationType = "messaging.operation.type";
inline constexpr std::string_view kMessagingDestinationName = "messaging.destination.name";
inline constexpr std::string_view kMessagingDestinationTemplate = "messaging.destination.template";
inline constexpr std::string_view kMessagingMessageBodySize = "messaging.message.body.size";
inline constexpr std::string_view kMessagingClientId = "messaging.client.id";
inline constexpr std::string_view kMessagingConsumerGroupName = "messaging.consumer.group.name";
inline constexpr std::string_view kMessagingDestinationSubscriptionName =
    "messaging.destination.subscription.name";
inline constexpr std::string_view kMessagingMessageId = "messaging.message.id";
inline constexpr std::string_view kServerAddress = "server.address";
inline constexpr std::string_view kServerPort = "server.port";

// Database
inline constexpr std::string_view kDbSystemName = "db.system.name";
inline constexpr std::string_view kDbSystem = "db.system";
inline constexpr std::string_view kDbNamespace = "db.namespace";
inline constexpr std::string_view kDbCollectionName = "db.collection.name";
inline constexpr std::string_view kDbOperationName = "db.operation.name";
inline constexpr std::string_view kDbQueryText = "db.query.text";
inline constexpr std::string_view kDbResponseReturnedRows = "db.response.returned_rows";
inline constexpr std::string_view kDbResponseStatusCode = "db.response.status_code";

// HTTP
inline constexpr std::string_view kHttpRequestMethod = "http.request.method";
inline constexpr std::string_view kHttpResponseStatusCode = "http.response.status_code";
inline constexpr std::string_view kHttpRoute = "http.route";
inline constexpr std::string_view kUrlFull = "url.full";
inline constexpr std::string_view kUrlTemplate = "url.template";
inline constexpr std::string_view kPeerService = "peer.service";

// chat.* registry (subset used by the libraries; services add their own in contracts)
inline constexpr std::string_view kChatDbRowsAffected = "chat.db.rows_affected";
inline constexpr std::string_view kChatKvResult = "chat.kv.result";
inline constexpr std::string_view kChatJetstreamDeliveryCount = "chat.jetstream.delivery_count";
inline constexpr std::string_view kChatLinkReason = "chat.link.reason";

}  // namespace chat::telemetry::semconv
