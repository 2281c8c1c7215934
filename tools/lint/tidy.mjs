#!/usr/bin/env node
// clang-tidy over every git-tracked translation unit of a build's compile_commands.json, with a
// result cache (style.md §5; .clang-tidy says what is checked and why).
//
// A clang-tidy pass costs about 8 CPU-seconds per unit here, most of it in the matchers walking
// the standard library, gtest and nlohmann-json ASTs, so the whole tree is ~35 CPU-minutes. The
// result of a unit depends only on what clang-tidy sees: its version, its effective configuration, the compile
// flags and the preprocessed unit (with comments, so a NOLINT counts, and with line markers, so
// a moved line counts). The cache key is the SHA-256 of exactly those; the preprocessing costs
// ~0.3 s. The checkout's path is replaced by a placeholder in the key and in the stored output,
// so another clone of the same tree (CI's, a worktree) hits the same entries.
//
//   node tools/lint/tidy.mjs [--build DIR] [--jobs N] [--no-cache] [--fix] [REGEX...]
//
// REGEX (JavaScript, matched against the repository-relative path) limits the units. Prints each
// finding once (a header's finding comes from every unit that includes it), then the count per
// check; exits 1 on any finding, 2 on a usage or tool error. --fix passes -fix to clang-tidy for
// the units it runs (never cached) — review the diff and run tools/lint/cpp.sh format after it.
//
// Tests (a path with a test/ or e2e/ component, or under testing/) run with TEST_EXTRA_CHECKS
// on top of .clang-tidy: gtest fixtures share state with their TEST_F bodies through protected
// members, which misc-non-private-member-variables-in-classes exists to forbid; and the two
// performance checks about allocations in loops (a reserve() before starting four threads, a
// SCOPED_TRACE label built with +) would only add noise where speed is not the point.
//
// Cache: $NATS_CHAT_TIDY_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/nats-chat/clang-tidy; entries
// unused for 30 days are removed at the end of a run.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PLACEHOLDER = '@@ROOT@@';
const TEST_EXTRA_CHECKS = [
  '-misc-non-private-member-variables-in-classes',
  '-performance-inefficient-string-concatenation',
  '-performance-inefficient-vector-operation',
].join(',');
const CACHE_MAX_AGE_DAYS = 30;
// Stop a unit that hangs rather than the whole check (a normal unit takes under 30 s).
const UNIT_TIMEOUT_MS = 10 * 60 * 1000;

function usage(message) {
  console.error(`tidy.mjs: ${message}`);
  console.error('usage: tidy.mjs [--build DIR] [--jobs N] [--no-cache] [--fix] [REGEX...]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    build: process.env.LINT_BUILD_DIR || path.join(ROOT, 'build/asan'),
    jobs: Number(process.env.LINT_JOBS || os.availableParallelism?.() || 2),
    cache: true,
    fix: false,
    filters: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--build') opts.build = path.resolve(argv[++i] ?? usage('--build needs a directory'));
    else if (a === '--jobs') opts.jobs = Number(argv[++i]);
    else if (a === '--no-cache') opts.cache = false;
    else if (a === '--fix') opts.fix = true;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else opts.filters.push(new RegExp(a));
  }
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) usage('--jobs needs a positive integer');
  return opts;
}

const clangTidy = process.env.CLANG_TIDY || 'clang-tidy-14';

function run(cmd, args, { cwd, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), UNIT_TIMEOUT_MS);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.end(input ?? '');
  });
}

// Splits a compile_commands "command" string the way a POSIX shell would for the quoting CMake
// writes (double quotes and backslash escapes).
function shellSplit(command) {
  const args = [];
  let cur = '';
  let inArg = false;
  let quote = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < command.length) {
      cur += command[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (inArg) args.push(cur);
  return args;
}

// The compile command turned into "preprocess to stdout, keep comments and line markers".
function preprocessArgs(entry) {
  const args = entry.arguments ? [...entry.arguments] : shellSplit(entry.command);
  const out = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '-MF' || a === '-MT' || a === '-MQ') {
      i++;
      continue;
    }
    if (a === '-c' || a === '-MD' || a === '-MMD') continue;
    out.push(a);
  }
  return { compiler: args[0], args: ['-E', '-C', ...out, '-o', '-'] };
}

const normalise = (text) => text.split(ROOT).join(PLACEHOLDER);
const restore = (text) => text.split(PLACEHOLDER).join(ROOT);

function cacheDir() {
  if (process.env.NATS_CHAT_TIDY_CACHE) return process.env.NATS_CHAT_TIDY_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'nats-chat', 'clang-tidy');
}

function isTest(rel) {
  return /(^|\/)(test|e2e)\//.test(rel) || rel.startsWith('testing/');
}

function tidyArgs(entry, rel, opts) {
  const args = ['-p', opts.build, '--quiet'];
  if (isTest(rel)) args.push(`--checks=${TEST_EXTRA_CHECKS}`);
  if (opts.fix) args.push('--fix');
  args.push(entry.file);
  return args;
}

const FINDING = /^(\/.*?):(\d+):(\d+): (warning|error): (.*) \[([a-z0-9.,-]+)\]$/;

async function checkUnit(entry, rel, opts, salt) {
  const dir = cacheDir();
  let key = null;
  if (opts.cache && !opts.fix) {
    const { compiler, args } = preprocessArgs(entry);
    const pp = await run(compiler, args, { cwd: entry.directory });
    if (pp.code === 0) {
      const h = crypto.createHash('sha256');
      h.update(salt);
      h.update(normalise(tidyArgs(entry, rel, opts).join('\0')));
      h.update(normalise(args.join('\0')));
      h.update(normalise(pp.stdout.toString('utf8')));
      key = h.digest('hex');
      const file = path.join(dir, key.slice(0, 2), key);
      if (fs.existsSync(file)) {
        const now = new Date();
        fs.utimesSync(file, now, now);
        return { rel, cached: true, output: restore(fs.readFileSync(file, 'utf8')) };
      }
    }
    // A unit that does not preprocess is handed to clang-tidy uncached: it reports the error.
  }
  const r = await run(clangTidy, tidyArgs(entry, rel, opts), { cwd: ROOT });
  const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const findings = output.split('\n').filter((l) => FINDING.test(l));
  // clang-tidy exits non-zero on findings (WarningsAsErrors); any other failure (a crash, a
  // compile error, a timeout) is reported and never cached.
  const toolError = r.code !== 0 && findings.length === 0;
  if (toolError) {
    return { rel, cached: false, output, toolError: `clang-tidy exit ${r.code}${r.signal ? ` (${r.signal})` : ''}` };
  }
  const kept = findings.join('\n');
  if (key) {
    const file = path.join(dir, key.slice(0, 2), key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, normalise(kept));
    fs.renameSync(tmp, file);
  }
  return { rel, cached: false, output: kept };
}

function pruneCache() {
  const dir = cacheDir();
  if (!fs.existsSync(dir)) return;
  const cutoff = Date.now() - CACHE_MAX_AGE_DAYS * 24 * 3600 * 1000;
  for (const sub of fs.readdirSync(dir)) {
    const subdir = path.join(dir, sub);
    if (!fs.statSync(subdir).isDirectory()) continue;
    for (const f of fs.readdirSync(subdir)) {
      const p = path.join(subdir, f);
      if (fs.statSync(p).mtimeMs < cutoff) fs.rmSync(p, { force: true });
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const db = path.join(opts.build, 'compile_commands.json');
  if (!fs.existsSync(db)) usage(`${db} missing (configure the build first: cmake --preset asan)`);
  const tracked = new Set(
    execFileSync('git', ['-C', ROOT, 'ls-files', '*.cpp', '*.cc'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean),
  );
  const seen = new Set();
  const units = [];
  for (const entry of JSON.parse(fs.readFileSync(db, 'utf8'))) {
    const file = path.resolve(entry.directory, entry.file);
    const rel = path.relative(ROOT, file);
    if (!tracked.has(rel) || seen.has(rel)) continue;
    if (opts.filters.length && !opts.filters.some((re) => re.test(rel))) continue;
    seen.add(rel);
    units.push({ entry: { ...entry, file }, rel });
  }
  if (units.length === 0) usage('no translation unit matches');

  let version;
  try {
    version = execFileSync(clangTidy, ['--version'], { encoding: 'utf8' });
  } catch {
    usage(`${clangTidy} not found (Debian package clang-tidy)`);
  }
  // The effective configuration, not the file's text: a comment edited in .clang-tidy keeps the cache.
  const config = execFileSync(clangTidy, ['--dump-config'], { cwd: ROOT, encoding: 'utf8' });
  const salt = [version, config, TEST_EXTRA_CHECKS].join('\0');

  const started = Date.now();
  const results = [];
  let next = 0;
  async function worker() {
    while (next < units.length) {
      const u = units[next++];
      results.push(await checkUnit(u.entry, u.rel, opts, salt));
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.jobs, units.length) }, worker));

  const findings = new Set();
  const toolErrors = results.filter((r) => r.toolError);
  for (const r of results) {
    if (r.toolError) continue;
    for (const line of r.output.split('\n')) if (FINDING.test(line)) findings.add(line.replace(`${ROOT}/`, ''));
  }
  const perCheck = new Map();
  for (const f of findings) {
    const check = f.match(/\[([a-z0-9.,-]+)\]$/)[1].replace(/,-warnings-as-errors$/, '');
    perCheck.set(check, (perCheck.get(check) || 0) + 1);
  }
  for (const f of [...findings].sort()) console.log(f);
  for (const r of toolErrors) console.log(`${r.rel}: ${r.toolError}\n${r.output}`);
  const cached = results.filter((r) => r.cached).length;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (findings.size) {
    console.log('findings per check:');
    for (const [check, n] of [...perCheck].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(6)} ${check}`);
  }
  console.log(
    `tidy: ${units.length} units (${cached} from cache, ${units.length - cached} run) in ${seconds} s; ` +
      `${findings.size} findings, ${toolErrors.length} tool errors`,
  );
  if (opts.cache) pruneCache();
  process.exit(findings.size || toolErrors.length ? 1 : 0);
}

await main();
