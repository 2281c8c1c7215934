// Query extraction and static analysis shared by the tests: pulls every PromQL/LogQL/TraceQL
// string out of dashboard JSON, rule files and datasource provisioning, parses it with the
// lezer grammars Grafana itself uses, and reports error nodes, metric names, label names and
// the forbidden patterns of observability.md §11.1.
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';
import type { Tree } from '@lezer/common';

export type Language = 'promql' | 'logql' | 'traceql';
export interface Query {
  where: string; // dashboard/panel/refId or file/rule
  language: Language;
  text: string;
  datasourceUid?: string;
}

// Labels that must never appear on a metric (observability.md §6.1, §11.2).
export const kForbiddenLabels = ['room', 'user', 'thread_id', 'instance_id', 'notify_id'];

type Json = Record<string, any>;

export function queriesOfDashboard(d: Json): Query[] {
  const out: Query[] = [];
  const visit = (panels: Json[]) => {
    for (const p of panels ?? []) {
      if (p.type === 'row') visit(p.panels);
      for (const t of p.targets ?? []) {
        const uid: string | undefined = t.datasource?.uid ?? p.datasource?.uid;
        const type: string | undefined = t.datasource?.type ?? p.datasource?.type;
        const where = `${d.uid}/${p.title}/${t.refId}`;
        if (type === 'prometheus') out.push({ where, language: 'promql', text: t.expr, datasourceUid: uid });
        else if (type === 'loki') out.push({ where, language: 'logql', text: t.expr, datasourceUid: uid });
        else if (type === 'tempo' && t.queryType === 'traceql') out.push({ where, language: 'traceql', text: t.query, datasourceUid: uid });
      }
    }
  };
  visit(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /^label_values\((.*),\s*\w+\)$/.exec(q ?? '');
    if (m) out.push({ where: `${d.uid}/$${v.name}`, language: 'promql', text: m[1], datasourceUid: v.datasource?.uid });
  }
  return out;
}

// Grafana template variables -> plausible values, so the grammar sees a complete query.
export function substituteVariables(q: string): string {
  return q
    .replace(/\$\{__(rate_interval|interval|range)(?::\w+)?\}|\$__(rate_interval|interval|range)/g, '5m')
    .replace(/\$\{__tags\}|\$__tags/g, 'service="auth-service"')
    .replace(/\$\{(\w+)(?::\w+)?\}/g, 'x')
    .replace(/\[\[(\w+)\]\]/g, 'x')
    .replace(/\$(\w+)/g, 'x');
}

function parserOf(language: Language) {
  return language === 'promql' ? promqlParser : language === 'logql' ? logqlParser : traceqlParser;
}

export function parse(language: Language, text: string): Tree {
  return parserOf(language).parse(text);
}

// Error nodes with a little context, empty when the query parses cleanly.
export function syntaxErrors(language: Language, text: string): string[] {
  const errs: string[] = [];
  parse(language, text).iterate({
    enter: (n) => {
      if (n.type.isError) errs.push(`error at ${n.from}: ...${text.slice(Math.max(0, n.from - 15), n.to + 15)}...`);
    },
  });
  return errs;
}

function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'" || s[0] === '`') ? s.slice(1, -1) : s;
}

export interface PromqlFacts {
  metrics: string[]; // metric names from VectorSelector identifiers and __name__ matchers
  unanalysable: string[]; // __name__ matchers that are not a plain alternation of names
  labels: string[]; // label names in matchers and in by/without/on/ignoring clauses
}

export function promqlFacts(text: string): PromqlFacts {
  const metrics = new Set<string>();
  const labels = new Set<string>();
  const unanalysable: string[] = [];
  const tree = parse('promql', text);
  tree.iterate({
    enter: (n) => {
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        if (id) metrics.add(text.slice(id.from, id.to));
      } else if (n.name === 'UnquotedLabelMatcher' || n.name === 'QuotedLabelMatcher' || n.name === 'LabelMatcher') {
        const name = n.node.getChild('LabelName') ?? n.node.getChild('QuotedLabelName');
        const op = n.node.getChild('MatchOp');
        const value = n.node.getChild('StringLiteral');
        if (!name) return;
        const label = unquote(text.slice(name.from, name.to));
        labels.add(label);
        if (label === '__name__' && value && op) {
          const v = unquote(text.slice(value.from, value.to));
          const o = text.slice(op.from, op.to);
          if (o === '=') metrics.add(v);
          else if (o === '=~' && /^[a-zA-Z_:][a-zA-Z0-9_:]*(\|[a-zA-Z_:][a-zA-Z0-9_:]*)*$/.test(v)) v.split('|').forEach((x) => metrics.add(x));
          else unanalysable.push(text.slice(n.from, n.to));
        }
      } else if (n.name === 'GroupingLabels') {
        for (let c = n.node.firstChild; c; c = c.nextSibling) {
          if (c.name === 'LabelName' || c.name === 'QuotedLabelName') labels.add(unquote(text.slice(c.from, c.to)));
        }
      }
    },
  });
  labels.delete('__name__');
  return { metrics: [...metrics], unanalysable, labels: [...labels] };
}

// Label and field names a LogQL query filters or groups on (stream selector and label filters).
export function logqlLabels(text: string): string[] {
  const out = new Set<string>();
  parse('logql', text).iterate({
    enter: (n) => {
      if (n.name === 'Matcher' || n.name === 'Grouping' || n.name === 'Labels') {
        for (let c = n.node.firstChild; c; c = c.nextSibling) if (c.name === 'Identifier') out.add(text.slice(c.from, c.to));
      }
    },
  });
  return [...out];
}

// The forbidden patterns of observability.md §11.1 / §6.1 for one query; empty when clean.
export function forbiddenPatterns(q: Query): string[] {
  const bad: string[] = [];
  if (/traces_spanmetrics_duration_seconds/.test(q.text)) bad.push('uses traces_spanmetrics_duration_seconds (Tempo 1.4 name; the histogram is traces_spanmetrics_latency)');
  if (q.language === 'promql') {
    const f = promqlFacts(substituteVariables(q.text));
    if (f.labels.includes('service_name') && f.metrics.some((m) => m.startsWith('traces_') || m.includes('spanmetrics'))) bad.push('service_name label on span metrics (the label is `service`)');
    for (const l of f.labels) if (kForbiddenLabels.includes(l)) bad.push(`forbidden label "${l}" in a matcher or by/without clause`);
  } else if (q.language === 'logql') {
    const text = substituteVariables(q.text);
    const tree = parse('logql', text);
    let emptySelector = false;
    let json = false;
    tree.iterate({
      enter: (n) => {
        if (n.name === 'Selector' && !n.node.getChild('Matchers')) emptySelector = true;
        if (n.name === 'Json') json = true;
      },
    });
    if (emptySelector || /^\s*\{\s*\}/.test(text)) bad.push('`{}` stream selector');
    if (json || /\|\s*json\b/.test(text)) bad.push('`| json` (the line is the plain msg)');
    for (const l of logqlLabels(text)) if (kForbiddenLabels.includes(l)) bad.push(`forbidden label "${l}"`);
  }
  return bad;
}

export interface Selector {
  metric?: string; // identifier before the braces, if any
  matchers: string[]; // label names matched (excluding __name__)
}

// Every vector selector with its matcher label names, and every by/without/on/ignoring label.
export function promqlSelectors(text: string): { selectors: Selector[]; grouping: string[] } {
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  parse('promql', text).iterate({
    enter: (n) => {
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        const sel: Selector = { metric: id ? text.slice(id.from, id.to) : undefined, matchers: [] };
        const ms = n.node.getChild('LabelMatchers');
        for (let c = ms?.firstChild; c; c = c.nextSibling) {
          const name = c.getChild('LabelName') ?? c.getChild('QuotedLabelName');
          if (!name) continue;
          const label = unquote(text.slice(name.from, name.to));
          if (label === '__name__') {
            const v = c.getChild('StringLiteral');
            if (v && !sel.metric && /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(unquote(text.slice(v.from, v.to)))) sel.metric = unquote(text.slice(v.from, v.to));
          } else {
            sel.matchers.push(label);
          }
        }
        selectors.push(sel);
      } else if (n.name === 'GroupingLabels') {
        for (let c = n.node.firstChild; c; c = c.nextSibling) {
          if (c.name === 'LabelName' || c.name === 'QuotedLabelName') grouping.push(unquote(text.slice(c.from, c.to)));
        }
      }
    },
  });
  return { selectors, grouping };
}
