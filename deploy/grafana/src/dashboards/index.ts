// The five dashboards of observability.md §10.2 and their stable JSON rendering. generate.ts
// writes these strings to dashboards/<file>; the staleness test compares them with the files.
import { apps } from './apps.ts';
import { auth } from './auth.ts';
import { messages } from './messages.ts';
import { overview } from './overview.ts';
import { roomsPresence } from './rooms-presence.ts';

export const kDashboards = [
  { file: 'chat-overview.json', build: overview },
  { file: 'chat-auth.json', build: auth },
  { file: 'chat-messages.json', build: messages },
  { file: 'chat-rooms-presence.json', build: roomsPresence },
  { file: 'chat-apps.json', build: apps },
];

// Sorted keys make the output independent of builder call order; two-space indent, final newline.
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of kDashboards) out.set(d.file, JSON.stringify(sortKeys(d.build().build()), null, 2) + '\n');
  return out;
}
