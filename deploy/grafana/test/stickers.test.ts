// The project's own sticker images (web/public/stickers, served by nginx under /stickers/ on the
// web origin; issue 14): every pack and sticker the database seeds has its file, every file is a
// seeded one, and each is a small, self-contained, well-formed SVG — no script, no event handler,
// no reference to anything outside the file — because every member's browser renders them.
// Both nginx configs serve the directory as image/svg+xml with nosniff and a script-free CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kDeployDir, kRepoRoot } from '../src/paths.ts';

const kStickerDir = path.join(kRepoRoot, 'web', 'public', 'stickers');
const kSeed = path.join(kRepoRoot, 'db', 'migrations', '0002_seed.sql');

// The seeded files, relative to the sticker root: each pack's thumbnail and its stickers, which
// live in the pack's directory (system.md §5.2; sticker-service builds the same paths).
function seededFiles(): string[] {
  const sql = fs.readFileSync(kSeed, 'utf8');
  const section = (table: string) => {
    const m = new RegExp(`INSERT INTO ${table} \\([^)]*\\) VALUES([\\s\\S]*?)ON CONFLICT`).exec(sql);
    assert.ok(m, `0002_seed.sql lacks the ${table} seed`);
    return m[1];
  };
  const files: string[] = [];
  for (const m of section('sticker_products').matchAll(/\('([^']+)', '[^']*', '([^']+)'\)/g)) files.push(m[2]);
  for (const m of section('stickers').matchAll(/\('([^']+)', '([^']+)', '([^']+)', \d+\)/g)) files.push(`${m[2]}/${m[3]}`);
  return files.sort();
}

function filesUnder(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`)
    : [`${prefix}${e.name}`]).sort();
}

// Drawing elements only: no script, foreignObject, image, use, a, style, animation or filter.
const kElements = new Set(['svg', 'title', 'desc', 'g', 'defs', 'path', 'circle', 'ellipse', 'rect', 'line',
  'polyline', 'polygon', 'linearGradient', 'radialGradient', 'stop']);
const kAttributes = new Set(['xmlns', 'viewBox', 'width', 'height', 'id', 'd', 'cx', 'cy', 'r', 'rx', 'ry', 'x', 'y',
  'x1', 'y1', 'x2', 'y2', 'points', 'fill', 'stroke', 'stroke-width', 'stroke-linecap', 'stroke-linejoin',
  'opacity', 'fill-opacity', 'stroke-opacity', 'transform', 'offset', 'stop-color', 'stop-opacity',
  'gradientUnits', 'fill-rule']);

// A strict check of the subset of XML these files use: one <svg> root, properly nested and
// closed elements from kElements, double-quoted attributes from kAttributes (a url() only to a
// fragment of the same file), text only inside <title>/<desc>, no comments, processing
// instructions, DOCTYPE, CDATA or entities (so no external entity either). Returns the problems.
function svgProblems(text: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const tag = /<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9:-]*="[^"<>&]*")*)\s*(\/?)>/y;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (chunk.trim() !== '' && !['title', 'desc'].includes(stack.at(-1) ?? '')) problems.push(`text outside <title>: ${chunk.trim().slice(0, 20)}`);
    if (/[&<>]/.test(chunk)) problems.push('entity or stray markup in text');
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(text);
    if (!m) {
      problems.push(`not a plain element tag at ${lt}: ${text.slice(lt, lt + 20)}`);
      break;
    }
    const [, closing, name, attrs, selfClosing] = m;
    i = tag.lastIndex;
    if (closing) {
      if (attrs || selfClosing) problems.push(`malformed closing tag </${name}>`);
      if (stack.pop() !== name) problems.push(`</${name}> does not close the open element`);
      continue;
    }
    if (!kElements.has(name)) problems.push(`element <${name}> is not allowed`);
    if (stack.length === 0 && ++roots > 1) problems.push('more than one root element');
    if (stack.length === 0 && name !== 'svg') problems.push(`root is <${name}>, not <svg>`);
    const seen = new Set<string>();
    for (const a of attrs.matchAll(/([A-Za-z][A-Za-z0-9:-]*)="([^"]*)"/g)) {
      const [, key, value] = a;
      if (seen.has(key)) problems.push(`duplicate attribute ${key}`);
      seen.add(key);
      if (!kAttributes.has(key)) problems.push(`attribute ${key} on <${name}> is not allowed`);
      for (const u of value.matchAll(/url\(([^)]*)\)/g)) if (!/^#[A-Za-z0-9_-]+$/.test(u[1])) problems.push(`external url(${u[1]})`);
    }
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) problems.push(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) problems.push('no <svg> root');
  return problems;
}

test('stickers: every seeded pack and sticker has its image, and there is no other file', () => {
  const seeded = seededFiles();
  assert.equal(seeded.length, 3 + 14);
  assert.deepEqual(filesUnder(kStickerDir), seeded);
});

test('stickers: each image is a well-formed, self-contained 128×128 SVG without script', () => {
  for (const file of seededFiles()) {
    const text = fs.readFileSync(path.join(kStickerDir, file), 'utf8');
    assert.deepEqual(svgProblems(text), [], file);
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 128 128"[ >]/, file);
    assert.match(text, /<title>[^<]+<\/title>/, `${file}: a <title> names the sticker`);
    assert.ok(!/script|href|@import|javascript:|\bon[a-z]+=/i.test(text), `${file}: script or reference`);
    assert.ok(text.length < 8192, `${file}: ${text.length} bytes`);
  }
  // The checker itself refuses what it must.
  for (const bad of ['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.gif"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://x.example/a#b)"/></svg>',
    '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', '<svg xmlns="http://www.w3.org/2000/svg"/><svg/>']) {
    assert.notDeepEqual(svgProblems(bad), [], bad);
  }
  assert.deepEqual(svgProblems('<svg xmlns="http://www.w3.org/2000/svg"><title>ok</title><circle r="1"/></svg>'), []);
});

test('stickers: both nginx configs serve /stickers/ as SVG files only, nosniff, with a script-free CSP', () => {
  for (const file of [path.join(kDeployDir, 'nginx', 'nginx.conf'), path.join(kDeployDir, 'local', 'nginx.conf')]) {
    const conf = fs.readFileSync(file, 'utf8');
    const block = /\n    location \/stickers\/ \{([\s\S]*?)\n    \}/.exec(conf)?.[1] ?? '';
    assert.match(block, /location ~ "\^\/stickers\/\[a-z0-9-\]\{1,64\}\/\[A-Za-z0-9_-\]\{1,64\}\\\.svg\$" \{/, file);
    assert.match(block, /try_files \$uri =404;/, file);
    assert.match(block, /types \{ \}\s+default_type image\/svg\+xml;/, file);
    assert.match(block, /add_header X-Content-Type-Options nosniff always;/, file);
    assert.match(block, /add_header Content-Security-Policy "default-src 'none'; style-src 'unsafe-inline'; sandbox" always;/, file);
    assert.match(block, /\n      return 404;$/, `${file}: anything else under /stickers/ is a 404`);
  }
  // The web image's build checks the images were copied into dist (vite copies web/public).
  assert.match(fs.readFileSync(path.join(kDeployDir, 'docker', 'Dockerfile.web'), 'utf8'), /test -f dist\/stickers\/party\/thumb\.svg/);
});
