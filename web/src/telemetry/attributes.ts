// Attribute keys the browser records (observability.md §4.2 set M, §4.2 set H, §4.3 chat.*).
// Our own keys only under chat.*; standard semantic-convention names otherwise.
export const Attr = {
  // M — messaging
  messagingSystem: "messaging.system",
  messagingOperationName: "messaging.operation.name",
  messagingOperationType: "messaging.operation.type",
  messagingDestinationName: "messaging.destination.name",
  messagingDestinationTemplate: "messaging.destination.template",
  messagingBodySize: "messaging.message.body.size",
  messagingClientId: "messaging.client.id",
  serverAddress: "server.address",
  serverPort: "server.port",
  errorType: "error.type",
  // H — HTTP client
  httpRequestMethod: "http.request.method",
  urlFull: "url.full",
  urlTemplate: "url.template",
  httpResponseStatusCode: "http.response.status_code",
  peerService: "peer.service",
  // chat.*
  room: "chat.room",
  roomType: "chat.room.type",
  user: "chat.user",
  targetUser: "chat.target_user",
  action: "chat.action",
  messageKind: "chat.message.kind",
  messageId: "chat.message_id",
  threadId: "chat.thread_id",
  presenceStatus: "chat.presence.status",
  linkReason: "chat.link.reason",
  appId: "chat.app.id",
  appAction: "chat.app.action",
  translateTargetLang: "chat.translate.target_lang",
} as const;

/** The browser's span names (observability.md §4.5). */
export const SpanNames = {
  login: "login",
  refreshCredentials: "refresh_credentials",
  connectNats: "connect nats",
  joinRoom: "join_room",
  leaveRoom: "leave_room",
  loadHistory: "load_history",
  loadMoreHistory: "load_more_history",
  openThread: "open_thread",
  sendMessage: "send_message",
  editMessage: "edit_message",
  deleteMessage: "delete_message",
  reactMessage: "react_message",
  setStatus: "set_status",
  markRead: "mark_read",
  searchUsers: "search_users",
  loadStickers: "load_stickers",
  translateMessage: "translate_message",
  // Room management (not listed in §4.5; same rule: INTERNAL root, ends when the reply is handled).
  createRoom: "create_room",
  inviteMember: "invite_member",
  kickMember: "kick_member",
  departRoom: "depart_room",
  openDm: "open_dm",
  // Room apps (§4.5 install_app, app_request; the rest follow the same rule).
  installApp: "install_app",
  uninstallApp: "uninstall_app",
  loadApps: "load_apps",
  appRequest: "app_request",
} as const;
