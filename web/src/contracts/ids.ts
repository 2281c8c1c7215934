// Identifier rules shared with the C++ side (libs/contracts ids.hpp, system.md §3.1, ADR 0001):
// usernames, room keys, DM keys, thread ids and message ids. They become NATS subject tokens, so
// a value that breaks them could address another user's subject; every subject builder and
// decoder here validates with these functions. Lengths are UTF-8 bytes, as in C++.

export const kMaxUsernameBytes = 64;
export const kMaxRoomKeyBytes = 64;
export const kMaxTextBytes = 4000;
export const kMaxPayloadBytes = 65536;
export const kAdminRoom = "__admin__";
export const kAdminMembershipRoom = "__admin__chat";
export const kSystemUser = "__system__";
export const kDmPrefix = "dm-";

const encoder = new TextEncoder();

export function utf8Bytes(s: string): number {
  return encoder.encode(s).length;
}

// Byte-order comparison of UTF-8 encodings (std::string_view's operator<), so both sides sort
// DM participants identically even outside ASCII.
export function compareBytes(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/** A failed validation: `message` names the rule, never the value. */
export class ValidationError extends Error {
  readonly code = "invalid_argument";
  constructor(message: string) {
    super(message);
    this.name = "ValidationError";
  }
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";
}

/** null when valid, else the reason (ValidateUsername). */
export function usernameProblem(user: string): string | null {
  if (user.length === 0) return "username is empty";
  if (utf8Bytes(user) > kMaxUsernameBytes) return "username is longer than 64 bytes";
  for (const c of user) {
    if (c === "." || c === "*" || c === ">" || isSpace(c)) {
      return "username contains '.', '*', '>' or whitespace";
    }
  }
  return null;
}

export function isValidUsername(user: string): boolean {
  return usernameProblem(user) === null;
}

export function validateUsername(user: string): void {
  const p = usernameProblem(user);
  if (p !== null) throw new ValidationError(p);
}

export function isDmRoom(room: string): boolean {
  return room.startsWith(kDmPrefix);
}

export function isAdminRoom(room: string): boolean {
  return room === kAdminRoom;
}

function isPlainKeyChar(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c === "-";
}

// Every split of "dm-" + rest into two valid usernames a <= b.
function dmSplits(room: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!isDmRoom(room)) return out;
  const rest = room.slice(kDmPrefix.length);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== "-") continue;
    const a = rest.slice(0, i);
    const b = rest.slice(i + 1);
    if (isValidUsername(a) && isValidUsername(b) && compareBytes(a, b) <= 0) out.push([a, b]);
  }
  return out;
}

/** null when valid, else the reason (DmParticipants). */
function dmProblem(room: string): string | null {
  if (!isDmRoom(room)) return "not a DM room key";
  const splits = dmSplits(room);
  if (splits.length === 0) return "DM room key is not dm-{a}-{b} with sorted valid usernames";
  if (splits.length > 1) return "DM room key is ambiguous";
  return null;
}

/** null when valid, else the reason (ValidateRoomKey). */
export function roomKeyProblem(room: string): string | null {
  if (room.length === 0) return "room key is empty";
  if (room === kAdminRoom || room === kAdminMembershipRoom) return null;
  if (isDmRoom(room)) return dmProblem(room);
  if (utf8Bytes(room) > kMaxRoomKeyBytes) return "room key is longer than 64 bytes";
  for (const c of room) {
    if (!isPlainKeyChar(c)) return "room key must match [a-z0-9-]";
  }
  return null;
}

export function isValidRoomKey(room: string): boolean {
  return roomKeyProblem(room) === null;
}

export function validateRoomKey(room: string): void {
  const p = roomKeyProblem(room);
  if (p !== null) throw new ValidationError(p);
}

/** "dm-{a}-{b}" with the usernames sorted; throws when a name is invalid or the key ambiguous. */
export function dmRoomKey(a: string, b: string): string {
  validateUsername(a);
  validateUsername(b);
  const [x, y] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const key = `${kDmPrefix}${x}-${y}`;
  if (dmSplits(key).length !== 1) {
    throw new ValidationError("DM key for these usernames would be ambiguous");
  }
  return key;
}

/** The two participants of a DM key, in key order. */
export function dmParticipants(room: string): [string, string] {
  const p = dmProblem(room);
  if (p !== null) throw new ValidationError(p);
  return dmSplits(room)[0]!;
}

export function isDmParticipant(room: string, user: string): boolean {
  if (dmProblem(room) !== null) return false;
  const [a, b] = dmSplits(room)[0]!;
  return a === user || b === user;
}

/** The other participant of a DM the user is in (for display), or null. */
export function dmPeer(room: string, me: string): string | null {
  if (!isDmParticipant(room, me)) return null;
  const [a, b] = dmParticipants(room);
  return a === me ? b : a;
}

/** "{timestamp}-{user}": the browser's message key and the chat.message_id attribute. */
export function messageId(timestampMs: number, user: string): string {
  return `${timestampMs}-${user}`;
}

/** "{room}-{parentTimestamp}" (system.md §3.6). */
export function threadId(room: string, parentTimestampMs: number): string {
  return `${room}-${parentTimestampMs}`;
}

/** Room and parent timestamp of a thread id; throws ValidationError. */
export function parseThreadId(id: string): { room: string; parentTimestamp: number } {
  const dash = id.lastIndexOf("-");
  if (dash < 0) throw new ValidationError("thread id is not {room}-{parent_timestamp}");
  const room = id.slice(0, dash);
  const digits = id.slice(dash + 1);
  if (!/^[0-9]{1,18}$/.test(digits)) {
    throw new ValidationError("thread id does not end in a parent timestamp");
  }
  if (roomKeyProblem(room) !== null) {
    throw new ValidationError("thread id does not start with a valid room key");
  }
  const ts = Number(digits);
  if (!(ts > 0)) throw new ValidationError("thread id parent timestamp must be positive");
  return { room, parentTimestamp: ts };
}

export function validateThreadId(id: string): void {
  parseThreadId(id);
}
