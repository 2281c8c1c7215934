// Label-name check: a matcher or a by/without/on clause may only name labels the metric is
// registered with (from the C++ sources), plus the target labels Prometheus adds (job, instance)
// and, on trace-derived series, Tempo's external label `source`. Recording rules expose the labels
// of their by() clause, or of the series they read. Metrics whose labels are unknown (external
// components, §6.3 pending names) are not checked.
import type { Catalogue } from './catalogue.ts';
import type { RuleFile } from './catalogue.ts';
import { promqlSelectors } from './queries.ts';

const kTargetLabels = ['job', 'instance'];

function allowedExtra(metric: string): string[] {
  return metric.startsWith('traces_') ? [...kTargetLabels, 'source'] : kTargetLabels;
}

export type LabelMap = Map<string, string[] | undefined>;

export function labelMap(cat: Catalogue, rules: RuleFile): LabelMap {
  const out: LabelMap = new Map();
  for (const [name, entries] of cat.entries) out.set(name, entries.find((e) => e.labels !== undefined)?.labels);
  for (const g of rules.groups) {
    for (const r of g.rules) {
      if (!r.record) continue;
      const { selectors, grouping } = promqlSelectors(r.expr);
      if (grouping.length > 0) {
        out.set(r.record, [...new Set(grouping)]);
      } else {
        const ls = selectors.map((s) => (s.metric ? out.get(s.metric) : undefined));
        out.set(r.record, ls.every((l) => l !== undefined) ? [...new Set(ls.flat() as string[])] : undefined);
      }
    }
  }
  return out;
}

export function labelProblems(query: string, labels: LabelMap): string[] {
  const problems: string[] = [];
  const { selectors, grouping } = promqlSelectors(query);
  const known: string[] = [];
  let allKnown = true;
  for (const s of selectors) {
    const ls = s.metric ? labels.get(s.metric) : undefined;
    if (!s.metric || ls === undefined) { allKnown = false; continue; }
    const ok = new Set([...ls, ...allowedExtra(s.metric)]);
    known.push(...ok);
    for (const m of s.matchers) if (!ok.has(m)) problems.push(`${s.metric} has no label "${m}" (has: ${ls.join(', ')})`);
  }
  if (allKnown && selectors.length > 0) {
    const ok = new Set([...known, 'le']);
    for (const g of grouping) if (!ok.has(g)) problems.push(`by/without/on label "${g}" is on none of the series read`);
  }
  return problems;
}
