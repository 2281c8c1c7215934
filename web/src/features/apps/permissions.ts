// Who sees the apps tab and who may install (★ issue 13): apps exist in public and private
// rooms only (never in DMs; the admin channel has none either). Installing and uninstalling is
// for room owners/admins of a private room (their role from room.info's member list) and for
// users of tier `admin` in public rooms. app-registry-service checks the same rule from the
// subject's user; this only decides what the UI offers.
import type { Tier } from "../../auth/credentials";
import type { RoomView } from "../../chat/model";

export function roomHasApps(room: Pick<RoomView, "kind">): boolean {
  return room.kind === "public" || room.kind === "private";
}

export function canManageApps(
  room: Pick<RoomView, "kind" | "members">,
  user: string,
  tier: Tier,
): boolean {
  if (tier === "none" || !roomHasApps(room)) return false;
  if (room.kind === "public") return tier === "admin";
  const role = room.members?.find((m) => m.username === user)?.role;
  return role === "owner" || role === "admin";
}
