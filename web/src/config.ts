// Runtime configuration: the app fetches /config.json from its own origin at start (nginx serves
// the file `nats-chat up` renders; public/config.json is the development default). Relative URLs
// are resolved against the page's origin; a relative natsUrl ("/nats") becomes ws(s)://host/nats.

export interface AppConfig {
  issuer: string;
  clientId: string;
  natsUrl: string;
  credentialsUrl: string;
  otlpTracesUrl: string;
  environment: string;
  version: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const kKeys: Array<keyof AppConfig> = [
  "issuer",
  "clientId",
  "natsUrl",
  "credentialsUrl",
  "otlpTracesUrl",
  "environment",
  "version",
];

/** Validates the raw JSON and resolves relative URLs against `origin` (e.g. location.origin). */
export function resolveConfig(raw: unknown, origin: string): AppConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("config.json is not a JSON object");
  }
  const o = raw as Record<string, unknown>;
  const missing = kKeys.filter((k) => typeof o[k] !== "string" || o[k].length === 0);
  if (missing.length > 0)
    throw new ConfigError(`config.json lacks string field(s): ${missing.join(", ")}`);
  const base = new URL(origin);
  const abs = (u: string) => new URL(u, base).toString();
  let natsUrl = o.natsUrl as string;
  if (!/^wss?:\/\//.test(natsUrl)) {
    const wsProto = base.protocol === "https:" ? "wss:" : "ws:";
    const u = new URL(natsUrl, base);
    natsUrl = `${wsProto}//${u.host}${u.pathname}${u.search}`;
  }
  const issuer = (o.issuer as string).replace(/\/+$/, "");
  if (!/^https?:\/\//.test(issuer))
    throw new ConfigError("config.json issuer must be an absolute http(s) URL");
  return {
    issuer,
    clientId: o.clientId as string,
    natsUrl,
    credentialsUrl: abs(o.credentialsUrl as string),
    otlpTracesUrl: abs(o.otlpTracesUrl as string),
    environment: o.environment as string,
    version: o.version as string,
  };
}

export async function loadConfig(): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetch("/config.json", { cache: "no-store" });
  } catch {
    throw new ConfigError("could not fetch /config.json");
  }
  if (!res.ok) throw new ConfigError(`could not fetch /config.json (HTTP ${res.status})`);
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new ConfigError("/config.json is not valid JSON");
  }
  return resolveConfig(raw, window.location.origin);
}
