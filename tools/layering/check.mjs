#!/usr/bin/env node
// Layering check (docs/style.md §2 "Dependency direction"): every `#include "chat/<lib>/..."` in
// a C++ file under libs/, services/, tools/, testing/, bench/, fuzz/ and every
// target_link_libraries entry in a CMakeLists.txt is mapped to a layer and checked against the
// allowed dependencies; the library link graph is checked for cycles. Violations listed in
// tools/layering/known-violations.txt are reported as "known"; the check fails (exit 1) on any
// other violation and on any listed entry that no longer occurs, so the list can only shrink.
//
//   node tools/layering/check.mjs                 check the repository this file lives in
//   node tools/layering/check.mjs --root DIR      check another tree (its own known list)
//   node tools/layering/check.mjs --self-test     prove the check fails on synthetic violations
//
// No npm dependencies. See tools/layering/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCAN_DIRS = ['libs', 'services', 'tools', 'testing', 'bench', 'fuzz'];
const CXX_EXT = new Set(['.cpp', '.cc', '.hpp', '.h']);
const KNOWN_FILE = 'tools/layering/known-violations.txt';

// What each library may depend on (style.md §2). `telemetry` is the API, `telemetry_sdk` the SDK.
// Libraries style.md does not name are placed here (README "Libraries style.md does not name"):
// membership is service infrastructure above runtime (RoomMembers wires its mirror to runtime's
// Dispatcher), nkeys is pure like contracts, client is the application library of the CLI/load
// tools and e2e tests, testing is test support.
// Nothing but a leaf (or testing itself) may depend on testing: it is in no other list.
const ALLOWED = {
  core: [],
  telemetry: ['core'],
  telemetry_sdk: ['telemetry', 'core'],
  // The OTLP decoders (libs/telemetry/receiver/): only tools (the telemetry sink) and leaves (OTLP
  // tests, fuzz targets) may use them, so no service or library links a parser of OTLP input.
  otlp_receiver: ['telemetry_sdk', 'telemetry', 'core'],
  natsx: ['telemetry', 'core'],
  pg: ['telemetry', 'core'],
  contracts: ['core'],
  nkeys: ['core'],
  runtime: ['natsx', 'pg', 'telemetry', 'telemetry_sdk', 'contracts', 'core'],
  membership: ['runtime', 'natsx', 'telemetry', 'contracts', 'core'],
  client: ['natsx', 'telemetry', 'telemetry_sdk', 'contracts', 'nkeys', 'core'],
  // Test support (chat::testing, header-only fixtures over pg/natsx/sdk): only leaves use it
  // (enforced below), so it may use every library, never a service.
  testing: ['core', 'telemetry', 'telemetry_sdk', 'natsx', 'pg', 'contracts', 'nkeys', 'runtime',
    'membership', 'client'],
  // A service (its core library, its headers and its main.cpp). pg only inside repository/.
  service: ['runtime', 'membership', 'contracts', 'nkeys', 'telemetry', 'pg', 'core'],
};
const LIBS = Object.keys(ALLOWED).filter((k) => k !== 'service');

// ---- classification -------------------------------------------------------------------------

// The layer a source file belongs to: {kind: 'lib', name} | {kind: 'service', name} |
// {kind: 'tool', name} | {kind: 'leaf', service?}. Test, bench and fuzz code is a leaf.
function fileOwner(rel) {
  const p = rel.split('/');
  if (p[0] === 'bench' || p[0] === 'fuzz') return { kind: 'leaf', service: serviceNamed(p.at(-1)) };
  if (p[0] === 'testing') {
    if (p[1] === 'include' || p[1] === 'src') return { kind: 'lib', name: 'testing' };
    return { kind: 'leaf' };
  }
  if (p.includes('test')) {
    return { kind: 'leaf', service: p[0] === 'services' ? p[1] : undefined };
  }
  if (p[0] === 'libs') {
    if (p[1] === 'telemetry' && (p.includes('sdk'))) return { kind: 'lib', name: 'telemetry_sdk' };
    if (p[1] === 'telemetry' && p[2] === 'receiver') return { kind: 'lib', name: 'otlp_receiver' };
    return { kind: 'lib', name: p[1] };
  }
  if (p[0] === 'services') return { kind: 'service', name: p[1] };
  if (p[0] === 'tools') return { kind: 'tool', name: p[1] };
  return { kind: 'leaf' };
}

let SERVICES = [];
function serviceNamed(text) {
  // fuzz_auth_jwt.cpp, room_bench: a leaf that exercises one service's core library.
  const t = text.replace(/-/g, '_');
  return SERVICES.find((s) => new RegExp(`(^|_)${s.replace(/-/g, '_')}(_|\\.|$)`).test(t));
}

// `#include "chat/<lib>/..."` → the layer it names.
function includeLayer(inc) {
  const m = /^chat\/([a-z_]+)\//.exec(inc);
  if (!m) return null;
  if (m[1] === 'telemetry' && inc.startsWith('chat/telemetry/sdk/')) return 'telemetry_sdk';
  if (m[1] === 'telemetry' && inc.startsWith('chat/telemetry/receiver/')) return 'otlp_receiver';
  return m[1];
}

// ---- scanning -------------------------------------------------------------------------------

function walk(root, dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'corpus') continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) walk(root, rel, out);
    else if (e.isFile()) out.push(rel);
  }
}

// Strips comments (keeping line breaks) so commented-out code is not checked.
function stripComments(text, hash) {
  if (hash) return text.replace(/#[^\n]*/g, '');
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '');
}

// CMake: target definitions and link entries with line numbers.
function parseCmake(rel, text) {
  const clean = stripComments(text, true);
  const defs = [];
  const links = [];
  const re = /\b(add_library|add_executable|chat_fuzz_target|target_link_libraries)\s*\(([^)]*)\)/g;
  let m;
  while ((m = re.exec(clean))) {
    const startLine = clean.slice(0, m.index).split('\n').length;
    const argsStart = m.index + m[0].indexOf('(') + 1;
    const tokens = [];
    const tokRe = /[^\s]+/g;
    let t;
    while ((t = tokRe.exec(m[2]))) {
      tokens.push({ text: t[0], line: clean.slice(0, argsStart + t.index).split('\n').length });
    }
    if (tokens.length === 0) continue;
    const name = tokens[0].text;
    if (m[1] === 'add_library') {
      if (tokens[1]?.text === 'ALIAS') defs.push({ alias: name, of: tokens[2]?.text, rel });
      else defs.push({ name, type: 'library', rel, line: startLine });
    } else if (m[1] === 'add_executable') {
      defs.push({ name, type: 'executable', rel, line: startLine });
    } else if (m[1] === 'chat_fuzz_target') {
      defs.push({ name, type: 'executable', rel, line: startLine });
      for (const tok of tokens.slice(1)) links.push({ target: name, dep: tok.text, rel, line: tok.line });
    } else {
      for (const tok of tokens.slice(1)) {
        if (['PUBLIC', 'PRIVATE', 'INTERFACE'].includes(tok.text)) continue;
        links.push({ target: name, dep: tok.text, rel, line: tok.line });
      }
    }
  }
  return { defs, links };
}

// ---- the check ------------------------------------------------------------------------------

export function check(root) {
  const files = [];
  for (const d of SCAN_DIRS) walk(root, d, files);
  files.sort();
  SERVICES = fs.existsSync(path.join(root, 'services'))
    ? fs.readdirSync(path.join(root, 'services'), { withFileTypes: true })
        .filter((e) => e.isDirectory()).map((e) => e.name).sort()
    : [];
  const violations = []; // {file, line, dep, rule}
  const add = (file, line, dep, rule) => violations.push({ file, line, dep, rule });

  // C++ includes.
  for (const rel of files) {
    if (!CXX_EXT.has(path.extname(rel))) continue;
    const text = stripComments(fs.readFileSync(path.join(root, rel), 'utf8'), false);
    const owner = fileOwner(rel);
    text.split('\n').forEach((lineText, i) => {
      const m = /^\s*#\s*include\s*"([^"]+)"/.exec(lineText);
      if (!m) return;
      const inc = m[1];
      const line = i + 1;
      const layer = includeLayer(inc);
      // Any quoted include that lands in another service's directory.
      const targetService = layer ? null : includedService(root, rel, inc);
      const ownService = owner.kind === 'service' ? owner.name
        : owner.kind === 'leaf' ? owner.service : undefined;
      if (targetService && targetService !== ownService) {
        add(rel, line, inc, `includes service ${targetService} from ${describe(owner)} ` +
          '(nothing depends on a service; services talk over contracts subjects)');
        return;
      }
      if (!layer) return;
      if (owner.kind === 'leaf') return;
      if (owner.kind === 'tool') {
        if (layer === 'testing') add(rel, line, inc, `tool ${owner.name} includes test support`);
        return;
      }
      if (owner.kind === 'lib' && layer === owner.name) return;
      if (owner.kind === 'lib' && owner.name === 'telemetry_sdk' && layer === 'telemetry') return;
      if (owner.kind === 'lib' && owner.name === 'otlp_receiver' && layer === 'telemetry') return;
      const allowed = ALLOWED[owner.kind === 'service' ? 'service' : owner.name];
      if (!allowed) {
        add(rel, line, inc, `unknown library ${owner.name} (add it to ALLOWED in check.mjs)`);
        return;
      }
      if (!allowed.includes(layer)) {
        add(rel, line, inc, `${describe(owner)} may not include ${layer} ` +
          `(allowed: ${allowed.join(', ') || 'std only'})`);
        return;
      }
      if (owner.kind === 'service' && layer === 'pg' && !rel.split('/').includes('repository')) {
        add(rel, line, inc, `service ${owner.name} includes pg outside repository/`);
      }
    });
  }

  // CMake targets and links.
  const defs = [];
  const links = [];
  for (const rel of files) {
    if (path.basename(rel) !== 'CMakeLists.txt') continue;
    const r = parseCmake(rel, fs.readFileSync(path.join(root, rel), 'utf8'));
    defs.push(...r.defs);
    links.push(...r.links);
  }
  const alias = new Map();
  const targets = new Map(); // name → {layer info}
  for (const d of defs) {
    if (d.alias) alias.set(d.alias, d.of);
  }
  const canon = (n) => alias.get(n) ?? n;
  for (const d of defs) {
    if (d.alias) continue;
    targets.set(d.name, classifyTarget(d));
  }
  const libGraph = new Map();
  for (const l of links) {
    const dep = canon(l.dep);
    const depInfo = targets.get(dep);
    if (!depInfo) continue; // external (GTest::, cnats::nats, ...) or a flag
    let info = targets.get(canon(l.target));
    if (!info) info = classifyTarget({ name: l.target, type: 'executable', rel: l.rel });
    if (depInfo.kind === 'leaf') {
      add(l.rel, l.line, l.dep, `${l.target} links executable ${dep} (executables are leaves)`);
      continue;
    }
    if (info.kind !== 'leaf') {
      if (!libGraph.has(canon(l.target))) libGraph.set(canon(l.target), []);
      libGraph.get(canon(l.target)).push({ dep, rel: l.rel, line: l.line, text: l.dep });
    }
    if (depInfo.kind === 'service') {
      const ok = (info.kind === 'service' && info.name === depInfo.name && info.binary) ||
        (info.kind === 'leaf' && info.service === depInfo.name);
      if (!ok) {
        add(l.rel, l.line, l.dep, `${l.target} links ${dep}, service ${depInfo.name}'s core ` +
          'library (only its binary, its tests and benches may)');
      }
      continue;
    }
    if (info.kind === 'leaf') continue;
    if (info.kind === 'tool') {
      if (depInfo.kind === 'lib' && depInfo.name === 'testing') {
        add(l.rel, l.line, l.dep, `tool target ${l.target} links test support`);
      }
      continue;
    }
    if (depInfo.kind === 'tool') {
      add(l.rel, l.line, l.dep, `${describe(info)} target ${l.target} links tool library ${dep}`);
      continue;
    }
    const from = info.kind === 'service' ? 'service' : info.name;
    if (info.kind === 'lib' && info.name === depInfo.name) continue;
    const allowed = ALLOWED[from];
    if (!allowed) {
      add(l.rel, l.line, l.dep, `unknown library ${info.name} (add it to ALLOWED in check.mjs)`);
    } else if (!allowed.includes(depInfo.name)) {
      add(l.rel, l.line, l.dep, `${describe(info)} target ${l.target} may not link ` +
        `${depInfo.name} (allowed: ${allowed.join(', ') || 'std only'})`);
    }
  }

  // Cycles over the library link graph.
  const state = new Map();
  const stack = [];
  const reported = new Set();
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const e of libGraph.get(n) ?? []) {
      if (state.get(e.dep) === 1) {
        const cycle = [...stack.slice(stack.indexOf(e.dep)), e.dep];
        const key = [...cycle].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          add(e.rel, e.line, e.text, `link cycle: ${cycle.join(' -> ')}`);
        }
      } else if (!state.has(e.dep)) {
        visit(e.dep);
      }
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...libGraph.keys()].sort()) if (!state.has(n)) visit(n);

  return violations;
}

function classifyTarget(d) {
  const p = d.rel.split('/');
  const dir = p.slice(0, -1);
  if (d.type === 'executable') {
    const testish = /(_test|_bench)$/.test(d.name) || /^fuzz_/.test(d.name) || dir.includes('test') ||
      ['bench', 'fuzz', 'testing'].includes(dir[0]) || d.name.includes('${');
    const svc = dir[0] === 'services' ? dir[1] : undefined;
    if (testish) return { kind: 'leaf', service: svc ?? serviceNamed(d.name) };
    if (svc) return { kind: 'service', name: svc, binary: true };
    if (dir[0] === 'tools') return { kind: 'tool', name: dir[1] };
    return { kind: 'leaf' };
  }
  const m = /^chat_([a-z_]+)$/.exec(d.name);
  if (dir[0] === 'services') return { kind: 'service', name: dir[1] };
  if (m && LIBS.includes(m[1])) return { kind: 'lib', name: m[1] };
  if (dir[0] === 'tools') return { kind: 'tool', name: dir[1] };
  if (dir[0] === 'libs') return { kind: 'lib', name: m ? m[1] : d.name };
  return { kind: 'leaf' };
}

function describe(o) {
  if (o.kind === 'lib') return o.name;
  if (o.kind === 'service') return `service ${o.name}`;
  if (o.kind === 'tool') return `tool ${o.name}`;
  return 'test';
}

// The service whose directory a quoted, non-"chat/" include resolves into, if any.
function includedService(root, rel, inc) {
  const p = rel.split('/');
  const candidates = [path.posix.normalize(path.posix.join(path.posix.dirname(rel), inc))];
  if (p[0] === 'services') candidates.push(path.posix.normalize(`services/${p[1]}/${inc}`));
  for (const c of candidates) {
    const q = c.split('/');
    if (q[0] === 'services' && q.length > 2 && fs.existsSync(path.join(root, c))) return q[1];
  }
  return null;
}

// ---- known violations -----------------------------------------------------------------------

function readKnown(root) {
  const file = path.join(root, KNOWN_FILE);
  const entries = [];
  const problems = [];
  if (!fs.existsSync(file)) return { entries, problems };
  fs.readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+)\s+->\s+(\S+)\s+#\s*(\S.*)$/.exec(line);
    if (!m) {
      problems.push(`${KNOWN_FILE}:${i + 1}: malformed entry (want "file -> dependency  # reason")`);
      return;
    }
    entries.push({ key: `${m[1]} -> ${m[2]}`, line: i + 1, reason: m[3] });
  });
  return { entries, problems };
}

export function run(root, out = console.log) {
  const violations = check(root);
  const { entries, problems } = readKnown(root);
  const known = new Map(entries.map((e) => [e.key, e]));
  const seen = new Set();
  let failures = problems.length;
  for (const p of problems) out(p);
  let knownCount = 0;
  for (const v of violations) {
    const key = `${v.file} -> ${v.dep}`;
    if (known.has(key)) {
      seen.add(key);
      knownCount++;
      out(`known: ${v.file}:${v.line}: ${v.rule}`);
    } else {
      failures++;
      out(`${v.file}:${v.line}: ${v.rule}`);
    }
  }
  for (const e of entries) {
    if (!seen.has(e.key)) {
      failures++;
      out(`${KNOWN_FILE}:${e.line}: stale known violation "${e.key}" no longer occurs; remove it`);
    }
  }
  out(`layering: ${failures === 0 ? 'ok' : 'FAILED'} (${entries.length} known entries, ` +
    `${knownCount} known occurrences, ${failures} problems)`);
  return failures === 0 ? 0 : 1;
}

// ---- self-test ------------------------------------------------------------------------------

function writeTree(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

// A small clean tree, then one violation of each rule added to it: the clean tree must pass,
// each broken tree must fail with the expected line.
function selfTest() {
  const clean = {
    'libs/core/CMakeLists.txt': 'add_library(chat_core src/a.cpp)\nadd_library(chat::core ALIAS chat_core)\n',
    'libs/core/src/a.cpp': '#include "chat/core/a.hpp"\n',
    'libs/telemetry/CMakeLists.txt':
      'add_library(chat_telemetry src/t.cpp)\nadd_library(chat::telemetry ALIAS chat_telemetry)\n' +
      'target_link_libraries(chat_telemetry PUBLIC chat::core)\n' +
      'add_library(chat_telemetry_sdk src/sdk/s.cpp)\n' +
      'add_library(chat::telemetry_sdk ALIAS chat_telemetry_sdk)\n' +
      'target_link_libraries(chat_telemetry_sdk PUBLIC chat::telemetry)\n',
    'libs/natsx/CMakeLists.txt': 'add_library(chat_natsx src/n.cpp)\n' +
      'add_library(chat::natsx ALIAS chat_natsx)\ntarget_link_libraries(chat_natsx PUBLIC chat::telemetry)\n',
    'libs/natsx/include/chat/natsx/n.hpp': '#include "chat/core/subject.hpp"\n#include "chat/telemetry/t.hpp"\n',
    'libs/contracts/CMakeLists.txt': 'add_library(chat_contracts src/c.cpp)\n' +
      'add_library(chat::contracts ALIAS chat_contracts)\n' +
      'target_link_libraries(chat_contracts PUBLIC chat::core nlohmann_json::nlohmann_json)\n',
    'libs/contracts/include/chat/contracts/subjects.hpp': '#include "chat/core/subject.hpp"\n',
    'libs/runtime/CMakeLists.txt': 'add_library(chat_runtime src/r.cpp)\n' +
      'target_link_libraries(chat_runtime PUBLIC chat::natsx chat::contracts PRIVATE chat::telemetry_sdk)\n',
    'services/room/CMakeLists.txt': 'add_library(chat_room_service service.cpp)\n' +
      'target_link_libraries(chat_room_service PUBLIC chat_runtime chat::contracts)\n' +
      'add_executable(room-service main.cpp)\ntarget_link_libraries(room-service PRIVATE chat_room_service)\n' +
      'add_executable(room_service_test test/t.cpp)\n' +
      'target_link_libraries(room_service_test PRIVATE chat_room_service chat::natsx)\n',
    'services/room/service.hpp': '#include "chat/runtime/dispatcher.hpp"\n#include "config.hpp"\n',
    'services/room/config.hpp': '// config\n',
    'services/room/repository/repo.cpp': '#include "chat/pg/pool.hpp"\n',
    'services/room/test/t.cpp': '#include "chat/natsx/n.hpp"\n#include "service.hpp"\n',
    'services/fanout/service.hpp': '#include "chat/contracts/subjects.hpp"\n',
    'fuzz/CMakeLists.txt': 'chat_fuzz_target(fuzz_room_x chat_room_service)\n',
    'fuzz/fuzz_room_x.cpp': '#include "chat/telemetry/sdk/s.hpp"\n',
  };
  const cases = [
    ['contracts includes natsx', { 'libs/contracts/src/x.cpp': '#include "chat/natsx/n.hpp"\n' },
      'libs/contracts/src/x.cpp:1: contracts may not include natsx'],
    ['core includes telemetry', { 'libs/core/src/y.cpp': '#include <string>\n\n#include "chat/telemetry/t.hpp"\n' },
      'libs/core/src/y.cpp:3: core may not include telemetry'],
    ['natsx includes the sdk', { 'libs/natsx/src/z.cpp': '#include "chat/telemetry/sdk/s.hpp"\n' },
      'libs/natsx/src/z.cpp:1: natsx may not include telemetry_sdk'],
    // membership may use runtime (RoomMembers), so the reverse edge would be a cycle.
    ['runtime includes membership',
      { 'libs/runtime/src/m.cpp': '#include "chat/membership/room_members.hpp"\n' },
      'libs/runtime/src/m.cpp:1: runtime may not include membership'],
    ['service includes natsx', { 'services/room/x.cpp': '#include "chat/natsx/n.hpp"\n' },
      'services/room/x.cpp:1: service room may not include natsx'],
    ['service includes the sdk', { 'services/room/main.cpp': '#include "chat/telemetry/sdk/s.hpp"\n' },
      'services/room/main.cpp:1: service room may not include telemetry_sdk'],
    ['service includes the OTLP decoder',
      { 'services/room/d.cpp': '#include "chat/telemetry/receiver/otlp_decode.hpp"\n' },
      'services/room/d.cpp:1: service room may not include otlp_receiver'],
    ['service includes pg outside repository/', { 'services/room/h.cpp': '#include "chat/pg/pool.hpp"\n' },
      'services/room/h.cpp:1: service room includes pg outside repository/'],
    ['service includes another service', { 'services/fanout/x.cpp': '#include "../room/config.hpp"\n' },
      'services/fanout/x.cpp:1: includes service room from service fanout'],
    ['contracts links natsx', {
      'libs/contracts/CMakeLists.txt': 'add_library(chat_contracts src/c.cpp)\n' +
        'add_library(chat::contracts ALIAS chat_contracts)\n' +
        'target_link_libraries(chat_contracts PUBLIC chat::core\n  chat::natsx)\n',
    }, 'libs/contracts/CMakeLists.txt:4: contracts target chat_contracts may not link natsx'],
    ['another service links a service core library', {
      'services/fanout/CMakeLists.txt': 'add_library(chat_fanout_service s.cpp)\n' +
        'target_link_libraries(chat_fanout_service PRIVATE chat_room_service)\n',
    }, 'services/fanout/CMakeLists.txt:2: chat_fanout_service links chat_room_service'],
    ['an unrelated test links a service core library', {
      'libs/natsx/CMakeLists.txt': 'add_library(chat_natsx src/n.cpp)\nadd_library(chat::natsx ALIAS chat_natsx)\n' +
        'target_link_libraries(chat_natsx PUBLIC chat::telemetry)\nadd_executable(natsx_test test/a.cpp)\n' +
        'target_link_libraries(natsx_test PRIVATE chat_room_service)\n',
    }, 'libs/natsx/CMakeLists.txt:5: natsx_test links chat_room_service'],
    ['a link cycle', {
      'libs/core/CMakeLists.txt': 'add_library(chat_core src/a.cpp)\nadd_library(chat::core ALIAS chat_core)\n' +
        'target_link_libraries(chat_core PUBLIC chat::telemetry)\n',
    }, 'link cycle: '],
    ['a stale known entry', {
      'tools/layering/known-violations.txt': 'services/room/service.hpp -> chat/natsx/n.hpp  # gone\n',
    }, 'stale known violation "services/room/service.hpp -> chat/natsx/n.hpp"'],
    ['a known entry without a reason', {
      'services/room/x.cpp': '#include "chat/natsx/n.hpp"\n',
      'tools/layering/known-violations.txt': 'services/room/x.cpp -> chat/natsx/n.hpp\n',
    }, 'malformed entry'],
  ];
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-self-test-'));
  let failed = 0;
  try {
    const cleanDir = path.join(base, 'clean');
    writeTree(cleanDir, clean);
    const lines = [];
    if (run(cleanDir, (l) => lines.push(l)) !== 0) {
      failed++;
      console.log(`self-test: the clean tree failed:\n  ${lines.join('\n  ')}`);
    }
    // A listed violation is "known" and passes.
    const knownDir = path.join(base, 'known');
    writeTree(knownDir, {
      ...clean,
      'services/room/x.cpp': '#include "chat/natsx/n.hpp"\n',
      'tools/layering/known-violations.txt': '# comment\nservices/room/x.cpp -> chat/natsx/n.hpp  # reason\n',
    });
    const knownLines = [];
    if (run(knownDir, (l) => knownLines.push(l)) !== 0 ||
        !knownLines.some((l) => l.startsWith('known: services/room/x.cpp:1:'))) {
      failed++;
      console.log(`self-test: a listed violation was not accepted as known:\n  ${knownLines.join('\n  ')}`);
    }
    cases.forEach(([name, files, expect], i) => {
      const dir = path.join(base, `case${i}`);
      writeTree(dir, { ...clean, ...files });
      const out = [];
      const rc = run(dir, (l) => out.push(l));
      const hit = out.some((l) => l.includes(expect) && !l.startsWith('known:'));
      if (rc !== 1 || !hit) {
        failed++;
        console.log(`self-test: "${name}" not caught (exit ${rc}; want a line with "${expect}"):`);
        for (const l of out) console.log(`  ${l}`);
      }
    });
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  console.log(`layering self-test: ${cases.length + 2 - failed}/${cases.length + 2} passed`);
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
