// Every wire codec by its contract type name (the fixtures' directory names), plus re-exports.
import {
  AppInstallRequestCodec,
  AppListCodec,
  AppUninstallRequestCodec,
  RoomAppListCodec,
} from "./apps";
import {
  KbPageCodec,
  KbPageCreatedCodec,
  KbPageListCodec,
  KbPageSummaryCodec,
  KbPresenceCodec,
  KbRequestCodec,
} from "./kb";
import {
  ChatMessageCodec,
  DmListReplyCodec,
  HistoryMessageCodec,
  HistoryPageCodec,
  HistoryRequestCodec,
  HistoryThreadReplyCodec,
  MsgGetRequestCodec,
  NotificationCodec,
} from "./messages";
import {
  PresenceDiffCodec,
  PresenceEntryCodec,
  PresenceHeartbeatCodec,
  PresenceRoomReplyCodec,
  PresenceUpdateCodec,
} from "./presence";
import { PollListCodec, PollRefCodec, PollRequestCodec, PollResultsCodec } from "./polls";
import { ReadStateEntryCodec, ReadStateReplyCodec, ReadUpdateCodec } from "./receipts";
import { ErrorReplyCodec, OkReplyCodec } from "./replies";
import type { Codec } from "./reader";
import {
  RoomChangedCodec,
  RoomCreateRequestCodec,
  RoomDepartRequestCodec,
  RoomInfoCodec,
  RoomListReplyCodec,
  RoomListRequestCodec,
  RoomMemberCodec,
  RoomMembersReplyCodec,
  RoomMembershipRequestCodec,
  RoomTargetRequestCodec,
} from "./rooms";
import { StickerListCodec, StickerProductListCodec } from "./stickers";
import { TranslateChunkCodec, TranslatePingReplyCodec, TranslateRequestCodec } from "./translate";
import { UserSearchReplyCodec } from "./users";
import {
  WhiteboardBoardCodec,
  WhiteboardBoardRequestCodec,
  WhiteboardCreateReplyCodec,
  WhiteboardCreateRequestCodec,
  WhiteboardDeltaRequestCodec,
  WhiteboardElementCodec,
  WhiteboardListReplyCodec,
  WhiteboardSummaryCodec,
  WhiteboardSyncCodec,
} from "./whiteboard";

export const Codecs: Readonly<Record<string, Codec<unknown>>> = {
  ChatMessage: ChatMessageCodec,
  Notification: NotificationCodec,
  MsgGetRequest: MsgGetRequestCodec,
  HistoryRequest: HistoryRequestCodec,
  HistoryMessage: HistoryMessageCodec,
  HistoryPage: HistoryPageCodec,
  HistoryThreadReply: HistoryThreadReplyCodec,
  DmListReply: DmListReplyCodec,
  RoomChanged: RoomChangedCodec,
  RoomMember: RoomMemberCodec,
  RoomInfo: RoomInfoCodec,
  RoomMembershipRequest: RoomMembershipRequestCodec,
  RoomCreateRequest: RoomCreateRequestCodec,
  RoomListRequest: RoomListRequestCodec,
  RoomTargetRequest: RoomTargetRequestCodec,
  RoomDepartRequest: RoomDepartRequestCodec,
  RoomListReply: RoomListReplyCodec,
  RoomMembersReply: RoomMembersReplyCodec,
  PresenceHeartbeat: PresenceHeartbeatCodec,
  PresenceUpdate: PresenceUpdateCodec,
  PresenceDiff: PresenceDiffCodec,
  PresenceEntry: PresenceEntryCodec,
  PresenceRoomReply: PresenceRoomReplyCodec,
  ReadUpdate: ReadUpdateCodec,
  ReadStateEntry: ReadStateEntryCodec,
  ReadStateReply: ReadStateReplyCodec,
  TranslateRequest: TranslateRequestCodec,
  TranslateChunk: TranslateChunkCodec,
  TranslatePingReply: TranslatePingReplyCodec,
  ErrorReply: ErrorReplyCodec,
  OkReply: OkReplyCodec,
  AppList: AppListCodec,
  RoomAppList: RoomAppListCodec,
  AppInstallRequest: AppInstallRequestCodec,
  AppUninstallRequest: AppUninstallRequestCodec,
  StickerProductList: StickerProductListCodec,
  StickerList: StickerListCodec,
  UserSearchReply: UserSearchReplyCodec,
  PollRequest: PollRequestCodec,
  PollRef: PollRefCodec,
  PollList: PollListCodec,
  PollResults: PollResultsCodec,
  KbRequest: KbRequestCodec,
  KbPageSummary: KbPageSummaryCodec,
  KbPageList: KbPageListCodec,
  KbPageCreated: KbPageCreatedCodec,
  KbPage: KbPageCodec,
  KbPresence: KbPresenceCodec,
  WhiteboardElement: WhiteboardElementCodec,
  WhiteboardCreateRequest: WhiteboardCreateRequestCodec,
  WhiteboardBoardRequest: WhiteboardBoardRequestCodec,
  WhiteboardDeltaRequest: WhiteboardDeltaRequestCodec,
  WhiteboardSummary: WhiteboardSummaryCodec,
  WhiteboardListReply: WhiteboardListReplyCodec,
  WhiteboardCreateReply: WhiteboardCreateReplyCodec,
  WhiteboardBoard: WhiteboardBoardCodec,
  WhiteboardSync: WhiteboardSyncCodec,
};

export * from "./apps";
export * from "./ids";
export * from "./kb";
export * from "./messages";
export * from "./polls";
export * from "./presence";
export * from "./receipts";
export * from "./replies";
export * from "./rooms";
export * from "./stickers";
export * from "./subjects";
export * from "./users";
export * from "./whiteboard";
export { fromJson, toJson, type Codec } from "./reader";
