// The subject templates the browser uses, as in libs/contracts subjects.hpp / subjects.json
// (system.md §3 with ADR 0001: state-changing subjects end in `.{user}`, read-only requests take
// the caller from the `_INBOX.{user}.` reply inbox). subjects.test.ts proves these strings are in
// subjects.json. `formatSubject` validates every argument as core::SubjectTemplate::Format does
// (non-empty, no '.', '*', '>', whitespace) and additionally by placeholder kind: {user} with
// ValidateUsername, {room} with ValidateRoomKey, {thread_id} with ValidateThreadId. Errors name
// the placeholder, never the value.
import { roomKeyProblem, usernameProblem, ValidationError, parseThreadId } from "./ids";

export const Subjects = {
  deliverSend: "deliver.{user}.send.{room}",
  deliverSendThread: "deliver.{user}.send.{room}.thread.{thread_id}",
  adminRoom: "admin.{room}.{user}",
  msgGet: "msg.get",
  roomNotify: "room.notify.{room}",
  deliverNotify: "deliver.{user}.notify.{room}",
  deliverAdmin: "deliver.{user}.admin.{room}",
  deliverApp: "deliver.{user}.app.{app}.{room}.{event}",
  deliverPresence: "deliver.{user}.presence.{room}",
  deliverTranslate: "deliver.{user}.translate.response",
  history: "chat.history.{room}",
  historyThread: "chat.history.{room}.thread.{thread_id}",
  historyDms: "history.dms",
  roomJoin: "room.join.{room}.{user}",
  roomLeave: "room.leave.{room}.{user}",
  roomCreate: "room.create.{user}",
  roomList: "room.list",
  roomInfo: "room.info.{room}",
  roomInvite: "room.invite.{room}.{user}",
  roomKick: "room.kick.{room}.{user}",
  roomDepart: "room.depart.{room}.{user}",
  presenceHeartbeat: "presence.heartbeat.{user}",
  presenceDisconnect: "presence.disconnect.{user}",
  presenceUpdate: "presence.update.{user}",
  presenceRoom: "presence.room.{room}",
  roomPresence: "room.presence.{room}",
  readUpdate: "read.update.{room}.{user}",
  readState: "read.state.{room}",
  appRequest: "app.{app}.{room}.{action}.{user}",
  appsList: "apps.list",
  appsRoom: "apps.room.{room}",
  appsInstall: "apps.install.{room}.{user}",
  appsUninstall: "apps.uninstall.{room}.{user}",
  translateRequest: "translate.request.{user}",
  translatePing: "translate.ping",
  stickerProducts: "stickers.products",
  stickerProduct: "stickers.product.{product}",
  usersSearch: "users.search.{user}",
  inbox: "_INBOX.{user}",
} as const;

export type SubjectTemplate = (typeof Subjects)[keyof typeof Subjects];

/** Template placeholder names in order ("user", "room"). */
export function placeholders(template: string): string[] {
  return template
    .split(".")
    .filter((t) => t.startsWith("{") && t.endsWith("}"))
    .map((t) => t.slice(1, -1));
}

function isValidArg(arg: string): boolean {
  return arg.length > 0 && !/[.*>\s{}]/.test(arg);
}

function argProblem(name: string, value: string): string | null {
  if (!isValidArg(value)) return "not a subject token";
  switch (name) {
    case "user":
      return usernameProblem(value);
    case "room":
      return roomKeyProblem(value);
    case "thread_id":
      try {
        parseThreadId(value);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    default:
      return null;
  }
}

/**
 * The concrete subject for `template` with named arguments. Throws ValidationError
 * ("subject argument invalid: room (room key must match [a-z0-9-])") on a bad or missing value.
 */
export function formatSubject(
  template: string,
  args: Readonly<Record<string, string>> = {},
): string {
  return template
    .split(".")
    .map((tok) => {
      if (!(tok.startsWith("{") && tok.endsWith("}"))) return tok;
      const name = tok.slice(1, -1);
      const value = args[name];
      if (value === undefined) throw new ValidationError(`subject argument missing: ${name}`);
      const problem = argProblem(name, value);
      if (problem !== null)
        throw new ValidationError(`subject argument invalid: ${name} (${problem})`);
      return value;
    })
    .join(".");
}

/** True when `subject` has the template's shape (same token count, equal literals). */
export function matchesTemplate(template: string, subject: string): boolean {
  const t = template.split(".");
  const s = subject.split(".");
  if (t.length !== s.length) return false;
  return t.every((tok, i) => (tok.startsWith("{") && tok.endsWith("}")) || tok === s[i]);
}

/** The named values of `subject` under `template`, or null when it does not match. */
export function parseSubject(template: string, subject: string): Record<string, string> | null {
  if (!matchesTemplate(template, subject)) return null;
  const t = template.split(".");
  const s = subject.split(".");
  const out: Record<string, string> = {};
  t.forEach((tok, i) => {
    if (tok.startsWith("{") && tok.endsWith("}")) out[tok.slice(1, -1)] = s[i]!;
  });
  return out;
}

/** The per-user inbox prefix the connection must use (ADR 0001). */
export function inboxPrefix(user: string): string {
  return formatSubject(Subjects.inbox, { user });
}
