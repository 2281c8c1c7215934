// The metric catalogue: every Prometheus series name that something we run can expose, built from
// the repository's C++ sources (not written by hand) plus a short, documented list of external
// components (external-metrics.json) and the recording rules.
//
// Extraction (documented limits in README.md):
//  1. Literal registrations: /\bAdd(Counter|Gauge|UpDownCounter|Histogram)\(\s*"name"/ in every
//     *.cpp/*.hpp under libs/, services/, tools/ except test/ folders (multi-line calls included).
//  2. Prefix + variable registrations: `Add*(std::string("prefix") + ident` — resolved when `ident`
//     is the loop variable over a `const char* ARR[] = {...}` in the same file, or the first
//     parameter of a lambda `auto fn = [..](const char* ident, ...)` whose calls `fn("x"` supply
//     the suffixes. Anything else is reported as unresolved (and the tests fail).
//  3. The registry's own `otel_sdk_metric_series_dropped_total` (kSeriesDroppedName constant).
// Exposed names follow libs/telemetry's exposition: counters as registered (they end in _total),
// histograms as <name>_bucket/_sum/_count, gauges as registered.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { kProjectDir, kRepoRoot, kRulesFile } from './paths.ts';

export type Kind = 'counter' | 'gauge' | 'histogram';
export interface CatalogueEntry {
  name: string; // exposed series name
  family: string; // registered family name
  kind: Kind | 'external' | 'recording' | 'pending';
  source: string; // file (repo-relative) or reason
  labels?: string[]; // label names from the registration; undefined when not known
}
export interface Catalogue {
  entries: Map<string, CatalogueEntry[]>;
  unresolved: string[]; // dynamic registrations the extractor could not expand
}

const kScanDirs = ['libs', 'services', 'tools'];
const kNameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const kLiteralRe = /\bAdd(Counter|Gauge|UpDownCounter|Histogram)\(\s*"([^"]+)"/g;
const kPrefixRe = /\bAdd(Counter|Gauge|UpDownCounter|Histogram)\(\s*std::string\("([^"]+)"\)\s*\+\s*(\w+)/g;

function walk(dir: string, out: string[]) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'test' || e.name === 'tests' || e.name === 'node_modules' || e.name === 'build') continue;
      walk(p, out);
    } else if (/\.(cpp|hpp)$/.test(e.name)) {
      out.push(p);
    }
  }
}

function kindOf(call: string): Kind {
  return call === 'Histogram' ? 'histogram' : call === 'Counter' ? 'counter' : 'gauge';
}

function exposed(family: string, kind: Kind): string[] {
  return kind === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
}

function lineOf(text: string, index: number) {
  return text.slice(0, index).split('\n').length;
}

// String literals of `const char* NAME[] = { "a", "b" }` (or std::array/initializer list forms).
function arrayLiterals(text: string, ident: string): string[] | undefined {
  const loop = new RegExp(`for\\s*\\(\\s*(?:const\\s+)?(?:char\\s*\\*|auto|std::string_view)\\s*&?\\s*${ident}\\s*:\\s*(\\w+)\\s*\\)`).exec(text);
  if (!loop) return undefined;
  const arr = new RegExp(`${loop[1]}\\s*\\[\\s*\\]\\s*=\\s*\\{([^}]*)\\}`).exec(text);
  if (!arr) return undefined;
  return [...arr[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}

// Suffixes passed to a lambda `auto fn = [..](const char* ident, ...) { return ...Add*(std::string("p") + ident`.
function lambdaSuffixes(text: string, at: number, ident: string): string[] | undefined {
  const before = text.slice(0, at);
  const re = new RegExp(`auto\\s+(\\w+)\\s*=\\s*\\[[^\\]]*\\]\\s*\\(\\s*const\\s+char\\s*\\*\\s*${ident}\\b`, 'g');
  let m: RegExpExecArray | null;
  let last: RegExpExecArray | null = null;
  while ((m = re.exec(before)) !== null) last = m;
  if (!last) return undefined;
  const fn = last[1];
  const after = text.slice(at);
  return [...after.matchAll(new RegExp(`\\b${fn}\\(\\s*"([^"]+)"`, 'g'))].map((x) => x[1]);
}

// The argument list of the call whose '(' is at `open`, split at top-level commas.
function callArgs(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  let inStr = false;
  for (let i = open + 1; i < text.length; ++i) {
    const ch = text[i];
    if (inStr) {
      cur += ch;
      if (ch === '\\') cur += text[++i];
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') { inStr = true; cur += ch; continue; }
    if (ch === '(' || ch === '{' || ch === '[') depth++;
    if (ch === ')' || ch === '}' || ch === ']') {
      if (depth === 0) { args.push(cur.trim()); return args; }
      depth--;
    }
    if (ch === ',' && depth === 0) { args.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  return args;
}

const kStringListRe = /^\{\s*("[^"]*"\s*,?\s*)*\}$/;

// Label names of a label-vector expression: a literal {"a", "b"}, a variable initialised with one
// in the same file, or Concat(x, y) of those. undefined when it cannot be resolved.
function labelList(text: string, expr: string, depth = 0): string[] | undefined {
  if (depth > 8) return undefined;
  if (kStringListRe.test(expr)) return [...expr.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  const concat = /^Concat\((.*)\)$/s.exec(expr);
  if (concat) {
    const parts = callArgs(`(${concat[1]})`, 0);
    const lists = parts.map((p) => labelList(text, p, depth + 1));
    return lists.every((l) => l !== undefined) ? lists.flat() as string[] : undefined;
  }
  if (/^\w+$/.test(expr)) {
    const def = new RegExp(`\\b${expr}\\s*=\\s*([\\s\\S]*?);`).exec(text);
    if (def) return labelList(text, def[1].trim(), depth + 1);
  }
  return undefined;
}

// Labels of the registration whose name literal starts the call at `open` ('(' index).
function registrationLabels(text: string, open: number, kind: Kind): string[] | undefined {
  const args = callArgs(text, open);
  const fixed = kind === 'histogram' ? 3 : 2; // name, help[, bounds]
  if (args.length <= fixed) return [];
  return labelList(text, args[fixed]);
}

export function extractFromSources(root = kRepoRoot): { entries: CatalogueEntry[]; unresolved: string[] } {
  const files: string[] = [];
  for (const d of kScanDirs) walk(path.join(root, d), files);
  const entries: CatalogueEntry[] = [];
  const unresolved: string[] = [];
  for (const file of files.sort()) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(root, file);
    const add = (family: string, kind: Kind, at: number, labels?: string[]) => {
      const where = `${rel}:${lineOf(text, at)}`;
      if (!kNameRe.test(family)) {
        unresolved.push(`${where}: "${family}" is not a metric name`);
        return;
      }
      for (const name of exposed(family, kind)) entries.push({ name, family, kind, source: where, labels: name.endsWith('_bucket') && labels ? [...labels, 'le'] : labels });
    };
    for (const m of text.matchAll(kLiteralRe)) {
      const kind = kindOf(m[1]);
      add(m[2], kind, m.index!, registrationLabels(text, m.index! + m[0].indexOf('('), kind));
    }
    for (const m of text.matchAll(kPrefixRe)) {
      const suffixes = arrayLiterals(text, m[3]) ?? lambdaSuffixes(text, m.index!, m[3]);
      if (!suffixes || suffixes.length === 0) {
        unresolved.push(`${rel}:${lineOf(text, m.index!)}: std::string("${m[2]}") + ${m[3]}`);
        continue;
      }
      const kind = kindOf(m[1]);
      const labels = registrationLabels(text, m.index! + m[0].indexOf('('), kind);
      for (const s of suffixes) add(m[2] + s, kind, m.index!, labels);
    }
    // Any other Add*( whose first argument is neither a literal nor a resolvable prefix.
    for (const m of text.matchAll(/\bAdd(Counter|Gauge|UpDownCounter|Histogram)\(\s*([^\s"][^,)]*)/g)) {
      const arg = m[2];
      if (arg.startsWith('std::string("')) continue;
      if (/^std::string\s+name$/.test(arg)) continue; // the registry's own declarations
      unresolved.push(`${rel}:${lineOf(text, m.index!)}: Add${m[1]}(${arg}`);
    }
    const dropped = /kSeriesDroppedName\s*=\s*"([^"]+)"/.exec(text);
    if (dropped) add(dropped[1], 'counter', dropped.index, []);
  }
  return { entries, unresolved };
}

interface ExternalFile {
  metrics: Array<{ name: string; source: string }>;
}
interface PendingFile {
  metrics: Array<{ family: string; kind: Kind; service: string }>;
}

export function loadExternal(): CatalogueEntry[] {
  const f = JSON.parse(fs.readFileSync(path.join(kProjectDir, 'external-metrics.json'), 'utf8')) as ExternalFile;
  return f.metrics.map((m) => ({ name: m.name, family: m.name, kind: 'external', source: m.source }));
}

export function loadPending(): Array<CatalogueEntry & { service: string }> {
  const f = JSON.parse(fs.readFileSync(path.join(kProjectDir, 'metrics-pending.json'), 'utf8')) as PendingFile;
  return f.metrics.flatMap((m) =>
    exposed(m.family, m.kind).map((name) => ({ name, family: m.family, kind: 'pending' as const, source: `observability.md §6.3 (${m.service}, not built)`, service: m.service })),
  );
}

export interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}

export function loadRules(file = kRulesFile): RuleFile {
  return parseYaml(fs.readFileSync(file, 'utf8')) as RuleFile;
}

export function recordingRuleEntries(rules = loadRules()): CatalogueEntry[] {
  const out: CatalogueEntry[] = [];
  for (const g of rules.groups) for (const r of g.rules) if (r.record) out.push({ name: r.record, family: r.record, kind: 'recording', source: 'deploy/prometheus/rules/chat.yaml' });
  return out;
}

// The catalogue of names that exist: emitted by our code, by external components, or recorded.
// Pending (§6.3 names of services not in this repository) are kept apart on purpose.
export function buildCatalogue(): Catalogue {
  const { entries, unresolved } = extractFromSources();
  const all = [...entries, ...loadExternal(), ...recordingRuleEntries()];
  const map = new Map<string, CatalogueEntry[]>();
  for (const e of all) map.set(e.name, [...(map.get(e.name) ?? []), e]);
  return { entries: map, unresolved };
}
