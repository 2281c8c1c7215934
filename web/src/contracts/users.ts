// User directory search wire types (libs/contracts users.hpp/.cpp; system.md §3.3.8): the query
// is sent as plain text, the reply is a bare array of at most 20 users with only their username
// and names.
import { type Codec, decodeArray, expectObject, type Json, Need, Reader } from "./reader";

export const kMaxUserSearchResults = 20;
export const kMaxUserSearchQueryBytes = 100;

export interface UserSearchEntry {
  username: string;
  firstName: string;
  lastName: string;
}

function decodeEntry(j: Json, path: string): UserSearchEntry {
  const r = new Reader(expectObject(j, path), path);
  const username = r.user("username", Need.Required);
  const firstName = r.str("firstName", Need.Required);
  const lastName = r.str("lastName", Need.Required);
  r.check();
  return { username, firstName, lastName };
}

export interface UserSearchReply {
  users: UserSearchEntry[];
}

export const UserSearchReplyCodec: Codec<UserSearchReply> = {
  type: "UserSearchReply",
  decode: (j, path) => ({ users: decodeArray(j, path, decodeEntry, kMaxUserSearchResults) }),
  encode: (v) =>
    v.users.map((u) => ({ username: u.username, firstName: u.firstName, lastName: u.lastName })),
};
