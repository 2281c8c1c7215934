// The sticker catalogue on the bus (system.md §3.3.7, services/sticker/README.md): the packs
// (`stickers.products`) and one pack's stickers (`stickers.product.{product}`). Each load is a
// `load_stickers` INTERNAL root (observability.md §4.5) ended when the reply is handled, with a
// `request …` CLIENT child that carries traceparent into sticker-service.
// Only URLs under the same-origin sticker base (/stickers/, contracts isAllowedStickerUrl) are
// kept: anything else in a reply is dropped, so the picker can never make the browser fetch or
// send a foreign URL (fanout refuses such a stickerUrl anyway).
import { type Tracer } from "@opentelemetry/api";
import { isAllowedStickerUrl } from "../../contracts/messages";
import {
  type Sticker,
  stickerIdProblem,
  StickerListCodec,
  type StickerProduct,
  StickerProductListCodec,
} from "../../contracts/stickers";
import { Subjects } from "../../contracts/subjects";
import { NatsCallError, type TracedNats } from "../../nats/traced";
import { Action, runAction } from "../../telemetry/actions";
import { SpanNames } from "../../telemetry/attributes";
import { getTracer } from "../../telemetry/setup";

/** What the sticker feature needs from the chat client. */
export interface StickersHost {
  readonly nats: TracedNats | null;
}

export class StickerService {
  private packs: Promise<StickerProduct[]> | null = null;
  private readonly stickers = new Map<string, Promise<Sticker[]>>();

  constructor(
    private readonly host: StickersHost,
    private readonly tracer: Tracer = getTracer(),
  ) {}

  private connection(): TracedNats {
    const t = this.host.nats;
    if (t === null) throw new NatsCallError("connection_closed", "not connected");
    return t;
  }

  /** The packs, loaded once (a failed load is retried on the next call). */
  loadPacks(): Promise<StickerProduct[]> {
    if (this.packs === null) {
      const p = runAction(new Action(this.tracer, SpanNames.loadStickers), async (a) => {
        const reply = await this.connection().request(
          a.ctx,
          Subjects.stickerProducts,
          {},
          "",
          StickerProductListCodec,
        );
        return reply.products.filter((x) => isAllowedStickerUrl(x.thumbnailUrl));
      });
      this.packs = p;
      p.catch(() => {
        if (this.packs === p) this.packs = null;
      });
    }
    return this.packs;
  }

  /** One pack's stickers, loaded once per pack. */
  loadStickers(product: string): Promise<Sticker[]> {
    const problem = stickerIdProblem(product, "sticker pack id");
    if (problem !== null) return Promise.reject(new NatsCallError("invalid_argument", problem));
    let p = this.stickers.get(product);
    if (p === undefined) {
      const loading = runAction(new Action(this.tracer, SpanNames.loadStickers), async (a) => {
        const reply = await this.connection().request(
          a.ctx,
          Subjects.stickerProduct,
          { product },
          "",
          StickerListCodec,
        );
        return reply.stickers.filter((s) => isAllowedStickerUrl(s.imageUrl));
      });
      loading.catch(() => {
        if (this.stickers.get(product) === loading) this.stickers.delete(product);
      });
      this.stickers.set(product, loading);
      p = loading;
    }
    return p;
  }
}

const services = new WeakMap<StickersHost, StickerService>();

/** The one StickerService of a chat client (created on first use). */
export function stickerServiceFor(host: StickersHost): StickerService {
  let s = services.get(host);
  if (s === undefined) {
    s = new StickerService(host);
    services.set(host, s);
  }
  return s;
}
