// Poll app wire types (libs/contracts polls.hpp/.cpp; system.md §3.3.10 "Poll" with ADR 0001's
// app.poll.{room}.{action}.{user}).
import { utf8Bytes } from "./ids";
import {
  type Codec,
  decodeArray,
  expectObject,
  type Json,
  type JsonObject,
  Need,
  putBool,
  putStr,
  putStrList,
  Reader,
} from "./reader";

export const kMaxPollQuestionBytes = 500;
export const kMaxPollOptionBytes = 200;
export const kMinPollOptions = 2;
export const kMaxPollOptions = 10;
export const kMaxPollIdBytes = 64;

export function pollIdProblem(id: string): string | null {
  if (id.length === 0 || utf8Bytes(id) > kMaxPollIdBytes) return "poll id must be 1-64 bytes";
  if (!/^[a-z0-9]+$/.test(id)) return "poll id may contain only a-z and 0-9";
  return null;
}

function pollIdField(r: Reader, key: string, need: Need): string {
  const id = r.str(key, need, kMaxPollIdBytes);
  if (r.ok && id !== "") r.checkValid(key, pollIdProblem(id));
  return id;
}

function optionsField(r: Reader, need: Need): string[] {
  const options = r.strList("options", need, kMaxPollOptions);
  if (!r.ok) return [];
  for (const o of options) {
    if (o.length === 0) {
      r.fail("options", "must not contain an empty option");
      return [];
    }
    if (utf8Bytes(o) > kMaxPollOptionBytes) {
      r.fail("options", `has an option over ${kMaxPollOptionBytes} bytes`);
      return [];
    }
  }
  return options;
}

function optionalInt(r: Reader, key: string): number | null {
  if (r.find(key, Need.Optional) === undefined) return null;
  const v = r.int(key, Need.Optional, 0);
  return r.ok ? v : null;
}

export interface PollRequest {
  pollId: string;
  optionIdx: number | null;
  question: string;
  options: string[];
  user: string;
}

export const PollRequestCodec: Codec<PollRequest> = {
  type: "PollRequest",
  allowEmpty: true,
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const pollId = pollIdField(r, "pollId", Need.Optional);
    const optionIdx = optionalInt(r, "optionIdx");
    const question = r.str("question", Need.Optional, kMaxPollQuestionBytes);
    const options = optionsField(r, Need.Optional);
    const user = r.user("user", Need.Optional);
    r.check();
    return { pollId, optionIdx, question, options, user };
  },
  encode(v) {
    const j: JsonObject = {};
    putStr(j, "pollId", v.pollId);
    if (v.optionIdx !== null) j.optionIdx = v.optionIdx;
    putStr(j, "question", v.question);
    putStrList(j, "options", v.options);
    putStr(j, "user", v.user);
    return j;
  },
};

export interface PollRef {
  pollId: string;
}

export const PollRefCodec: Codec<PollRef> = {
  type: "PollRef",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const pollId = pollIdField(r, "pollId", Need.NonEmpty);
    r.check();
    return { pollId };
  },
  encode: (v) => ({ pollId: v.pollId }),
};

export interface Poll {
  id: string;
  room: string;
  question: string;
  options: string[];
  createdBy: string;
  createdAt: string;
  closed: boolean;
}

function decodePoll(j: Json, path: string): Poll {
  const r = new Reader(expectObject(j, path), path);
  const id = pollIdField(r, "id", Need.NonEmpty);
  const room = r.room("room", Need.Required);
  const question = r.str("question", Need.NonEmpty, kMaxPollQuestionBytes);
  const options = optionsField(r, Need.Required);
  const createdBy = r.user("createdBy", Need.Required);
  const createdAt = r.str("createdAt", Need.NonEmpty);
  const closed = r.bool("closed", Need.Optional);
  r.check();
  return { id, room, question, options, createdBy, createdAt, closed };
}

function encodePoll(v: Poll): JsonObject {
  const j: JsonObject = {
    id: v.id,
    room: v.room,
    question: v.question,
    options: [...v.options],
    createdBy: v.createdBy,
    createdAt: v.createdAt,
  };
  putBool(j, "closed", v.closed);
  return j;
}

export interface PollList {
  polls: Poll[];
}

export const PollListCodec: Codec<PollList> = {
  type: "PollList",
  decode: (j, path) => ({ polls: decodeArray(j, path, decodePoll) }),
  encode: (v) => v.polls.map(encodePoll),
};

export interface PollVoteCount {
  optionIdx: number;
  count: number;
}

export interface PollResults {
  poll: Poll;
  votes: PollVoteCount[];
  userVote: number | null;
  totalVotes: number;
}

function decodeCount(j: Json, path: string): PollVoteCount {
  const r = new Reader(expectObject(j, path), path);
  const optionIdx = r.int("optionIdx", Need.Required, 0);
  const count = r.int("count", Need.Required, 0);
  r.check();
  return { optionIdx, count };
}

export const PollResultsCodec: Codec<PollResults> = {
  type: "PollResults",
  decode(j, path) {
    const r = new Reader(expectObject(j, path), path);
    const poll = r.find("poll", Need.Required);
    const votes = r.find("votes", Need.Required);
    const userVote = optionalInt(r, "userVote");
    const totalVotes = r.int("totalVotes", Need.Required, 0);
    r.check();
    return {
      poll: decodePoll(poll as Json, r.sub("poll")),
      votes: decodeArray(votes as Json, r.sub("votes"), decodeCount, kMaxPollOptions),
      userVote,
      totalVotes,
    };
  },
  encode(v) {
    const j: JsonObject = {
      poll: encodePoll(v.poll),
      votes: v.votes.map((c) => ({ optionIdx: c.optionIdx, count: c.count })),
    };
    if (v.userVote !== null) j.userVote = v.userVote;
    j.totalVotes = v.totalVotes;
    return j;
  },
};
