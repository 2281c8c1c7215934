#!/usr/bin/env node
// Service README check (issue 12; docs/style.md rule 20): every services/<name>/ directory has a
// README.md whose H2 headings are exactly the skeleton below, in order, and whose `## Routes`
// section opens with a route table header row. The routes table of a service whose tests compare
// it with the dispatcher (testing/include/chat/testing/readme_routes.hpp, `ReadmeRouteRows`) must
// have the dispatcher header that parser expects. Anything else a README needs is a `###`
// subsection under one of these headings. Exit 1 with one "file:line: problem" line per problem.
//
//   node tools/docs/check-service-readmes.mjs               check the repository this file lives in
//   node tools/docs/check-service-readmes.mjs --root DIR    check another tree
//   node tools/docs/check-service-readmes.mjs --self-test   prove the check fails on bad READMEs
//
// No npm dependencies. See tools/docs/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKELETON = ['Purpose', 'Subjects', 'Routes', 'Telemetry', 'Configuration',
  'Failure modes', 'Tests'];

// Route table header rows, cells trimmed. The first is what readme_routes.hpp parses (subject,
// kind, queue group, identity are compared with the dispatcher's registrations); the others are
// for services without dispatcher routes: an HTTP server and a JetStream batch consumer.
const DISPATCHER_HEADER = ['subject', 'kind', 'queue group', 'identity', 'handler', 'metric', 'span'];
const OTHER_HEADERS = [
  ['method', 'path', 'handler', 'metric', 'span'],
  ['stream', 'consumer', 'subjects', 'handler', 'metric', 'span'],
];

function cells(line) {
  const t = line.trim();
  if (!t.startsWith('|')) return null;
  const parts = t.slice(1).split('|').map((c) => c.trim());
  if (parts.length && parts.at(-1) === '') parts.pop();
  return parts;
}

const fmt = (header) => `| ${header.join(' | ')} |`;

// Problems of one README (text), as {line, message}.
export function checkReadme(text, { dispatcherTable = false } = {}) {
  const problems = [];
  const lines = text.split('\n');
  const headings = []; // {title, line}
  let fence = null;
  lines.forEach((l, i) => {
    const f = /^\s*(```|~~~)/.exec(l);
    if (f) {
      if (fence === null) fence = f[1];
      else if (fence === f[1]) fence = null;
      return;
    }
    if (fence === null && /^## /.test(l)) headings.push({ title: l.slice(3).trim(), line: i + 1 });
  });

  const seen = new Map();
  let last = -1;
  for (const h of headings) {
    const idx = SKELETON.indexOf(h.title);
    if (idx < 0) {
      problems.push({ line: h.line, message: `H2 "${h.title}" is not in the skeleton ` +
        `(${SKELETON.join(', ')}); make it a ### subsection` });
    } else if (seen.has(h.title)) {
      problems.push({ line: h.line, message: `H2 "${h.title}" repeated (first at line ${seen.get(h.title)})` });
    } else if (idx < last) {
      problems.push({ line: h.line, message: `H2 "${h.title}" out of order: it comes before ` +
        `"${SKELETON[last]}" in the skeleton` });
      seen.set(h.title, h.line);
    } else {
      seen.set(h.title, h.line);
      last = idx;
    }
  }
  for (const title of SKELETON) {
    if (!seen.has(title)) {
      const next = headings.find((h) => SKELETON.indexOf(h.title) > SKELETON.indexOf(title));
      problems.push({ line: next ? next.line : lines.length, message: `missing H2 "${title}"` });
    }
  }

  // The routes table: the first table line after "## Routes" (as readme_routes.hpp reads it) is
  // its header row, followed by the separator row.
  const routes = headings.find((h) => h.title === 'Routes');
  if (routes) {
    const end = headings.find((h) => h.line > routes.line)?.line ?? lines.length + 1;
    let found = false;
    for (let n = routes.line + 1; n < end; n++) {
      const header = cells(lines[n - 1]);
      if (!header) continue;
      found = true;
      const allowed = dispatcherTable ? [DISPATCHER_HEADER] : [DISPATCHER_HEADER, ...OTHER_HEADERS];
      if (!allowed.some((a) => a.length === header.length && a.every((c, i) => c === header[i]))) {
        problems.push({ line: n, message: `"## Routes" table header is "${fmt(header)}"; want ` +
          allowed.map(fmt).join(' or ') + (dispatcherTable ? ' (its test parses this table)' : '') });
      }
      const sep = cells(lines[n] ?? '');
      if (!sep || sep.length !== header.length || !sep.every((c) => /^:?-{3,}:?$/.test(c))) {
        problems.push({ line: n + 1, message: '"## Routes" table header is not followed by a ' +
          `separator row of ${header.length} cells (|---|…)` });
      }
      break;
    }
    if (!found) {
      problems.push({ line: routes.line, message: '"## Routes" has no table (header row, separator, ' +
        'one row per route)' });
    }
  }
  return problems;
}

// Whether a service's tests compare its README routes table with its dispatcher.
function testsParseRoutes(dir) {
  const testDir = path.join(dir, 'test');
  if (!fs.existsSync(testDir)) return false;
  return fs.readdirSync(testDir).some((f) => /\.(cpp|cc|hpp|h)$/.test(f) &&
    fs.readFileSync(path.join(testDir, f), 'utf8').includes('ReadmeRouteRows'));
}

export function check(root) {
  const out = [];
  const servicesDir = path.join(root, 'services');
  const services = fs.existsSync(servicesDir)
    ? fs.readdirSync(servicesDir, { withFileTypes: true }).filter((e) => e.isDirectory())
        .map((e) => e.name).sort()
    : [];
  for (const name of services) {
    const rel = `services/${name}/README.md`;
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) {
      out.push(`services/${name}/:1: no README.md (every service directory has one, ` +
        `with the H2 skeleton ${SKELETON.join(', ')})`);
      continue;
    }
    const dispatcherTable = testsParseRoutes(path.join(servicesDir, name));
    for (const p of checkReadme(fs.readFileSync(file, 'utf8'), { dispatcherTable })) {
      out.push(`${rel}:${p.line}: ${p.message}`);
    }
  }
  return { services, problems: out };
}

export function run(root, log = console.log) {
  const { services, problems } = check(root);
  for (const p of problems) log(p);
  log(`service-readmes: ${problems.length === 0 ? 'ok' : 'FAILED'} (${services.length} services, ` +
    `${problems.length} problems)`);
  return problems.length === 0 ? 0 : 1;
}

// ---- self-test ------------------------------------------------------------------------------

function writeTree(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

function readme({ headings = SKELETON, routes = null } = {}) {
  const table = routes ?? `${fmt(DISPATCHER_HEADER)}\n|---|---|---|---|---|---|---|\n` +
    '| `a.{user}` | serve | `a-workers` | subject user | `A::Get` | `a_total` | `process a.{user}` |\n';
  return '# a-service\n\n' + headings.map((h) => `## ${h}\n\n` +
    (h === 'Routes' ? `Registered routes.\n\n${table}` : 'Text.\n\n```\n## not a heading (code)\n```\n') +
    '\n### A subsection\n\nMore.\n').join('\n');
}

function selfTest() {
  const httpTable = `${fmt(OTHER_HEADERS[0])}\n|---|---|---|---|---|\n| POST | \`/x\` | \`X\` | — | \`POST /x\` |\n`;
  const clean = {
    'services/a/README.md': readme(),
    'services/a/test/a_test.cpp': 'auto rows = ReadmeRouteRows("services/a/README.md");\n',
    'services/h/README.md': readme({ routes: httpTable }),
  };
  const without = (t) => SKELETON.filter((h) => h !== t);
  const cases = [
    ['a service directory without a README', { 'services/b/main.cpp': '\n' },
      'services/b/:1: no README.md'],
    ['a missing section', { 'services/a/README.md': readme({ headings: without('Tests') }) },
      'missing H2 "Tests"'],
    ['a renamed section', {
      'services/a/README.md': readme({ headings: SKELETON.map((h) => (h === 'Configuration' ? 'Config' : h)) }),
    }, 'H2 "Config" is not in the skeleton'],
    ['an extra H2', {
      'services/h/README.md': readme({ headings: [...SKELETON.slice(0, 5), 'Depends on', ...SKELETON.slice(5)],
        routes: httpTable }),
    }, 'services/h/README.md:63: H2 "Depends on" is not in the skeleton'],
    ['sections out of order', {
      'services/a/README.md': readme({ headings: ['Purpose', 'Routes', 'Subjects', ...SKELETON.slice(3)] }),
    }, 'H2 "Subjects" out of order'],
    ['a repeated section', {
      'services/a/README.md': readme({ headings: [...SKELETON, 'Tests'] }),
    }, 'H2 "Tests" repeated'],
    ['Routes without a table', {
      'services/h/README.md': readme({ routes: 'No table here.\n' }),
    }, '"## Routes" has no table'],
    ['a routes table without its separator', {
      'services/h/README.md': readme({ routes: `${fmt(OTHER_HEADERS[0])}\n| POST | x | X | — | s |\n` }),
    }, 'not followed by a separator row'],
    ['a parsed routes table with another header', {
      'services/a/README.md': readme({ routes: httpTable }),
    }, '(its test parses this table)'],
    ['an unknown routes header', {
      'services/h/README.md': readme({ routes: '| route | what |\n|---|---|\n| a | b |\n' }),
    }, '"## Routes" table header is "| route | what |"'],
  ];
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'service-readmes-self-test-'));
  let failed = 0;
  try {
    const cleanDir = path.join(base, 'clean');
    writeTree(cleanDir, clean);
    const lines = [];
    if (run(cleanDir, (l) => lines.push(l)) !== 0) {
      failed++;
      console.log(`self-test: the clean tree failed:\n  ${lines.join('\n  ')}`);
    }
    cases.forEach(([name, files, expect], i) => {
      const dir = path.join(base, `case${i}`);
      writeTree(dir, { ...clean, ...files });
      const out = [];
      const rc = run(dir, (l) => out.push(l));
      if (rc !== 1 || !out.some((l) => l.includes(expect))) {
        failed++;
        console.log(`self-test: "${name}" not caught (exit ${rc}; want a line with "${expect}"):`);
        for (const l of out) console.log(`  ${l}`);
      }
    });
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  console.log(`service-readmes self-test: ${cases.length + 1 - failed}/${cases.length + 1} passed`);
  return failed === 0 ? 0 : 1;
}

// ---- main -----------------------------------------------------------------------------------

function main(argv) {
  if (argv.includes('--self-test')) return selfTest();
  const i = argv.indexOf('--root');
  const root = i >= 0 ? path.resolve(argv[i + 1]) :
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return run(root);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
