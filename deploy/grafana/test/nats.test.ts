// The production nats-server config (deploy/nats/nats-server.conf) and how compose and k8s run it:
// route authorization from the environment (never literals), mutual TLS on routes, monitoring on
// loopback only; `nats-server -t` with throwaway certificates from deploy/nats/make-route-certs.sh;
// and, with the real binary, a two-server cluster from that very config that forms its route while
// servers without TLS, with another CA's certificate or with a wrong password are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { kDeployDir } from '../src/paths.ts';

const D = (...p: string[]) => path.join(kDeployDir, ...p);
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const kConf = () => fs.readFileSync(D('nats', 'nats-server.conf'), 'utf8');

// The body of `name { … }` (first occurrence at or after `from`), braces balanced; comments removed.
function block(text: string, name: string): string {
  const clean = text.replace(/#.*$/gm, '');
  const m = new RegExp(`(^|\\s)${name}\\s*[:=]?\\s*\\{`).exec(clean);
  assert.ok(m, `no ${name} { } block`);
  let depth = 1;
  let i = m.index + m[0].length;
  const start = i;
  for (; i < clean.length && depth > 0; ++i) {
    if (clean[i] === '{') depth++;
    else if (clean[i] === '}') depth--;
  }
  return clean.slice(start, i - 1);
}
const value = (body: string, key: string) => new RegExp(`^\\s*${key}\\s*[:=]\\s*"?([^"\\s]+)"?\\s*$`, 'm').exec(body)?.[1];
// The keys of the top level (outside every block).
function topLevel(text: string): string {
  let depth = 0;
  let out = '';
  for (const ch of text.replace(/#.*$/gm, '')) {
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

test('nats config: route authorization from the environment and mutual TLS on routes', () => {
  const cluster = block(kConf(), 'cluster');
  const auth = block(cluster, 'authorization');
  assert.match(value(auth, 'user') ?? '', /^\$[A-Z_]+$/, 'cluster user is an environment variable, not a literal');
  assert.match(value(auth, 'password') ?? '', /^\$[A-Z_]+$/, 'cluster password is an environment variable, not a literal');
  const tls = block(cluster, 'tls');
  assert.equal(value(tls, 'verify'), 'true', 'each route end verifies the other');
  for (const k of ['cert_file', 'key_file', 'ca_file']) assert.match(value(tls, k) ?? '', /^\/etc\/nats\/tls\//, k);
  assert.ok(!/no_auth_user|authorization\s*\{\s*\}/.test(cluster), 'no anonymous route user, no empty authorization');
});

test('nats config: TLS offered to clients with the mounted certificate', () => {
  // The top-level tls block: the cluster block (which has its own) removed first.
  const outsideCluster = kConf().replace(/^cluster\s*\{[\s\S]*?^\}/m, '');
  assert.ok(!/^cluster\s*\{/m.test(outsideCluster), 'cluster block removed');
  const tls = block(outsideCluster, 'tls');
  for (const k of ['cert_file', 'key_file', 'ca_file']) assert.match(value(tls, k) ?? '', /^\/etc\/nats\/tls\//, k);
});

test('nats config: monitoring on loopback only, never all interfaces', () => {
  const conf = kConf();
  const top = topLevel(conf);
  const http = value(top, 'http');
  assert.ok(http, 'monitoring is configured (the exporter needs it)');
  assert.match(http, /^127\.0\.0\.1:\d+$/, `http: ${http}`);
  for (const k of ['http_port', 'monitor_port', 'https', 'https_port', 'http_host']) assert.equal(value(top, k), undefined, k);
});

test('compose and k8s mount the route certificate and pass the route credentials from secrets', () => {
  const c = parseYaml(fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8'), { merge: true });
  const composeText = fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8');
  for (const i of [1, 2, 3]) {
    const s = c.services[`nats-${i}`];
    assert.ok(s.volumes.includes('./secrets/nats-tls:/etc/nats/tls:ro'), `nats-${i} tls mount`);
    assert.equal(s.environment.CLUSTER_PASSWORD, '${NATS_CLUSTER_PASSWORD:?set NATS_CLUSTER_PASSWORD}');
    for (const r of [1, 2, 3]) {
      assert.equal(s.environment[`ROUTE_${r}`], `nats-route://\${NATS_CLUSTER_USER}:\${NATS_CLUSTER_PASSWORD}@nats-${r}:6222`);
    }
  }
  assert.match(composeText, /\$\{NATS_CLUSTER_USER:\?/);
  assert.match(fs.readFileSync(D('compose', 'env.example'), 'utf8'), /^NATS_CLUSTER_PASSWORD=$/m, 'env.example names the secret, empty');
  const sts = parseAllDocuments(fs.readFileSync(D('k8s', 'nats.yaml'), 'utf8')).map((d) => d.toJSON()).find((d) => d?.kind === 'StatefulSet');
  const pod = sts.spec.template.spec;
  const ctr = pod.containers.find((x: any) => x.name === 'nats');
  const env = new Map<string, any>(ctr.env.map((e: any) => [e.name, e]));
  for (const k of ['CLUSTER_USER', 'CLUSTER_PASSWORD']) assert.ok(env.get(k)?.valueFrom?.secretKeyRef, `${k} from a Secret`);
  for (const r of [1, 2, 3]) assert.match(env.get(`ROUTE_${r}`).value, /^nats-route:\/\/\$\(CLUSTER_USER\):\$\(CLUSTER_PASSWORD\)@nats-\d\.nats:6222$/);
  const mount = ctr.volumeMounts.find((m: any) => m.mountPath === '/etc/nats/tls');
  assert.ok(mount, 'route certificate mounted');
  const vol = pod.volumes.find((v: any) => v.name === mount.name);
  assert.ok(vol.secret?.secretName, 'from a Secret');
  // Probes cannot reach a loopback listener from the node: they run inside the container.
  for (const p of [ctr.livenessProbe, ctr.readinessProbe]) assert.match(p.exec.command.join(' '), /http:\/\/127\.0\.0\.1:8222\//);
});

test('compose: only the web entry and the login listen on every interface; UIs on loopback', () => {
  const c = parseYaml(fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8'), { merge: true });
  const kPublic = new Set(['nginx', 'keycloak']);
  const published: string[] = [];
  for (const [name, s] of Object.entries<any>(c.services)) {
    for (const p of s.ports ?? []) {
      const spec = typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`;
      const parts = spec.split(':');
      const loopback = parts.length === 3 && parts[0] === '127.0.0.1';
      if (!loopback && !kPublic.has(name)) published.push(`${name} ${spec}`);
    }
  }
  assert.deepEqual(published, [], 'published on all interfaces');
  assert.deepEqual(c.services.prometheus.ports, ['127.0.0.1:9090:9090']);
  for (const n of ['nats-1', 'nats-2', 'nats-3', 'postgres', 'otel-collector', 'tempo', 'loki', 'alertmanager']) {
    assert.equal(c.services[n].ports, undefined, `${n} publishes nothing`);
  }
});

test('production Prometheus runs without the lifecycle API (compose and k8s, same flags)', () => {
  const c = parseYaml(fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8'), { merge: true });
  const sts = parseAllDocuments(fs.readFileSync(D('k8s', 'observability.yaml'), 'utf8')).map((d) => d.toJSON())
    .find((d) => d?.kind === 'StatefulSet' && d.metadata.name === 'prometheus');
  const k8s: string[] = sts.spec.template.spec.containers[0].args;
  for (const flags of [c.services.prometheus.command as string[], k8s]) {
    assert.ok(!flags.some((f) => f.startsWith('--web.enable-lifecycle')), flags.join(' '));
    assert.ok(!flags.some((f) => f.startsWith('--web.enable-admin-api')), flags.join(' '));
  }
  assert.deepEqual([...c.services.prometheus.command].sort(), [...k8s].sort());
});

// ---- with the real nats-server ----------------------------------------------------------------

function certs(dir: string, extraSans = 'IP:127.0.0.1') {
  const r = spawnSync('bash', [D('nats', 'make-route-certs.sh'), dir], { encoding: 'utf8', env: { ...process.env, EXTRA_SANS: extraSans } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const f of ['ca.crt', 'tls.crt', 'tls.key']) assert.ok(fs.existsSync(path.join(dir, f)), f);
}

// The production config with local ports, data and certificate paths (every substitution must
// apply: a config that changed shape fails here rather than being tested half-rewritten).
function localConf(tmp: string, ports: { client: number; cluster: number; ws: number; monitor: number }, tlsDir: string, name: string): string {
  let conf = kConf();
  const subst: Array<[RegExp, string]> = [
    [/^port: 4222$/m, `port: ${ports.client}`],
    [/^(\s+)port: 6222$/m, `$1port: ${ports.cluster}`],
    [/^(\s+)port: 4223$/m, `$1port: ${ports.ws}`],
    [/^http: 127\.0\.0\.1:8222$/m, `http: 127.0.0.1:${ports.monitor}`],
    [/\/data\/jetstream/, path.join(tmp, `js-${name}`)],
    [/\/etc\/nats\/tls\//g, `${tlsDir}/`],
  ];
  for (const [re, to] of subst) {
    assert.match(conf, re, `config shape: ${re}`);
    conf = conf.replace(re, to);
  }
  conf = conf.replace(/host: 0\.0\.0\.0/g, 'host: 127.0.0.1');
  const file = path.join(tmp, `${name}.conf`);
  fs.writeFileSync(file, conf);
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function getJson(url: string): Promise<any> {
  try {
    const r = await fetch(url);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

function setup(tmp: string) {
  fs.mkdirSync(path.join(tmp, 'keys'));
  // Operator mode is exercised by the local stack; here the cluster settings are under test.
  fs.writeFileSync(path.join(tmp, 'keys', 'resolver.conf'), '# resolver.conf is written by natskeys init\n');
}

test('nats-server -t accepts the config with route certificates, and refuses it without the route secret', (t) => {
  if (!have('nats-server') || !have('openssl')) { t.skip('nats-server or openssl not installed'); return; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'natscfg-'));
  try {
    setup(tmp);
    certs(path.join(tmp, 'tls'), '');
    const file = localConf(tmp, { client: 4222, cluster: 6222, ws: 4223, monitor: 8222 }, path.join(tmp, 'tls'), 'nats-1');
    const env = {
      ...process.env, SERVER_NAME: 'nats-1', CLUSTER_USER: 'nats-route', CLUSTER_PASSWORD: 'x'.repeat(32),
      ROUTE_1: 'nats-route://nats-route:x@nats-1:6222', ROUTE_2: 'nats-route://nats-route:x@nats-2:6222', ROUTE_3: 'nats-route://nats-route:x@nats-3:6222',
    };
    const ok = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const { CLUSTER_PASSWORD: _drop, ...noSecret } = env;
    const bad = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: noSecret });
    assert.notEqual(bad.status, 0, 'a missing route password must fail the start');
    assert.match(bad.stdout + bad.stderr, /CLUSTER_PASSWORD/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a cluster from the production config forms its route; servers without TLS, with another CA or a wrong password are refused', async (t) => {
  if (!have('nats-server') || !have('openssl')) { t.skip('nats-server or openssl not installed'); return; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'natsroute-'));
  const procs: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const start = (name: string, args: string[], env: NodeJS.ProcessEnv) => {
    const log = path.join(tmp, `${name}.log`);
    logs.set(name, log);
    const p = spawn('nats-server', [...args, '-l', log], { env: { ...process.env, ...env }, stdio: 'ignore' });
    procs.push(p);
    return p;
  };
  const logOf = (name: string) => (fs.existsSync(logs.get(name)!) ? fs.readFileSync(logs.get(name)!, 'utf8') : '');
  try {
    setup(tmp);
    certs(path.join(tmp, 'tls'));
    certs(path.join(tmp, 'other-ca'));  // a valid certificate for the right names, another CA
    const pa = { client: await freePort(), cluster: await freePort(), ws: await freePort(), monitor: await freePort() };
    const pb = { client: await freePort(), cluster: await freePort(), ws: await freePort(), monitor: await freePort() };
    const user = 'nats-route';
    const password = 'a1b2c3d4e5f6a7b8c9d0';
    const route = (p: number, pw = password) => `nats-route://${user}:${pw}@127.0.0.1:${p}`;
    // Three distinct routes (nats-server refuses duplicates): a, b and a port nobody listens on.
    const dead = await freePort();
    const env = { CLUSTER_USER: user, CLUSTER_PASSWORD: password, ROUTE_1: route(pa.cluster), ROUTE_2: route(pb.cluster), ROUTE_3: route(dead) };
    start('a', ['-c', localConf(tmp, pa, path.join(tmp, 'tls'), 'a')], { ...env, SERVER_NAME: 'a' });
    start('b', ['-c', localConf(tmp, pb, path.join(tmp, 'tls'), 'b')], { ...env, SERVER_NAME: 'b' });
    const routez = () => getJson(`http://127.0.0.1:${pa.monitor}/routez`);
    await waitFor('the a–b route', async () => (await routez())?.num_routes === 1);
    const bId = (await getJson(`http://127.0.0.1:${pb.monitor}/varz`)).server_id;

    // Three intruders, each dialling a's route port. a must have turned each one away (its log
    // says why, one distinct reason each) before the route table is checked, so the check does
    // not pass by being early.
    const rogue = async (name: string, tlsDir: string | null, pw: string) => {
      const p = { client: await freePort(), cluster: await freePort(), ws: await freePort(), monitor: await freePort() };
      const renv = { CLUSTER_USER: user, CLUSTER_PASSWORD: pw, ROUTE_1: route(pa.cluster, pw), ROUTE_2: route(p.cluster, pw), ROUTE_3: route(dead, pw), SERVER_NAME: name };
      if (tlsDir) {
        start(name, ['-c', localConf(tmp, p, tlsDir, name)], renv);
      } else {
        start(name, ['-a', '127.0.0.1', '-p', String(p.client), '-n', name, '--cluster_name', 'nats-chat',
          '--cluster', `nats://127.0.0.1:${p.cluster}`, '--routes', route(pa.cluster, pw)], {});
      }
    };
    await rogue('plain', null, password);
    await rogue('foreign-ca', path.join(tmp, 'other-ca'), password);
    await rogue('wrong-password', path.join(tmp, 'tls'), 'not-the-password');
    const refused: Record<string, RegExp> = {
      plain: /TLS route handshake error: tls: first record does not look like a TLS handshake/,
      'foreign-ca': /TLS route handshake error: .*certificate/,
      'wrong-password': /authentication error/,
    };
    for (const [name, re] of Object.entries(refused)) {
      await waitFor(`a refusing ${name}`, () => re.test(logOf('a')));
    }
    const r = await routez();
    assert.equal(r.num_routes, 1, JSON.stringify(r.routes));
    assert.equal(r.routes[0].remote_id, bId, 'the only route is b');

    // Monitoring answers on loopback and on no other address of this machine.
    const ext = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (ext) {
      const reached = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: ext.address, port: pa.monitor }, () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      assert.equal(reached, false, `monitoring reachable on ${ext.address}`);
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r)))));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
