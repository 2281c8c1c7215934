// The user directory on the bus (system.md §3.3.8; services/user-search/README.md):
// `users.search.{user}` under the signed-in user's own name (the only one they may publish; it
// keys their rate limit, ADR 0001) with a plain-text query, at most 20 `{username, firstName, lastName}`; refusals (rate limit,
// IdP down, bad query) are error replies, which TracedNats turns into NatsCallError(code).
// Each search is a `search_users` INTERNAL root (observability.md §4.5) ended when the reply is
// handled; its `request users.search.{user}` CLIENT child carries traceparent to user-search-service.
import { type Tracer } from "@opentelemetry/api";
import { Subjects } from "../../contracts/subjects";
import { type UserSearchEntry, UserSearchReplyCodec } from "../../contracts/users";
import { NatsCallError, type TracedNats } from "../../nats/traced";
import { Action, runAction } from "../../telemetry/actions";
import { SpanNames } from "../../telemetry/attributes";
import { getTracer } from "../../telemetry/setup";

/** What user search needs from the chat client. */
export interface UsersHost {
  readonly nats: TracedNats | null;
  readonly user: string;
}

export class UserSearchService {
  constructor(
    private readonly host: UsersHost,
    private readonly tracer: Tracer = getTracer(),
  ) {}

  /** The users matching `query` (already trimmed and checked, see searchableQuery). */
  search(query: string): Promise<UserSearchEntry[]> {
    return runAction(new Action(this.tracer, SpanNames.searchUsers), async (a) => {
      const t = this.host.nats;
      if (t === null) throw new NatsCallError("connection_closed", "not connected");
      const reply = await t.request(
        a.ctx,
        Subjects.usersSearch,
        { user: this.host.user },
        query,
        UserSearchReplyCodec,
      );
      return reply.users;
    });
  }
}

const services = new WeakMap<UsersHost, UserSearchService>();

/** The one UserSearchService of a chat client (created on first use). */
export function userSearchFor(host: UsersHost): UserSearchService {
  let s = services.get(host);
  if (s === undefined) {
    s = new UserSearchService(host);
    services.set(host, s);
  }
  return s;
}
