// The production nats-server config (deploy/nats/nats-server.conf) and how compose and k8s run it:
// route authorization from the environment (never literals), mutual TLS on routes, monitoring on
// loopback only; `nats-server -t` with throwaway certificates from deploy/nats/make-route-certs.sh;
// and, with the real binary, a two-server cluster from that very config that forms its route while
// servers without TLS, with another CA's certificate or with a wrong password are refused; clients
// must use TLS (no allow_non_tls): every service reaching NATS has tls:// URLs and NATS_TLS_CA on
// the mounted route CA (ca.crt alone), and the real server refuses a plain client and a client
// trusting another CA while one trusting the cluster CA gets its PONG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
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

test('nats config: clients must use TLS (no allow_non_tls), so plain clients are refused', () => {
  const conf = kConf().replace(/#.*$/gm, '');
  assert.ok(!/allow_non_tls/.test(conf), 'allow_non_tls keeps plaintext open on the client port');
  const top = topLevel(conf);
  assert.ok(!/^\s*no_tls\s*[:=]/m.test(top), 'no no_tls at the top level');
});

// Every NATS client of compose and k8s (a workload with NATS_URL) dials tls:// URLs only and trusts
// the cluster CA through NATS_TLS_CA, a file mounted from the route-TLS secret — ca.crt, never a key.
test('every service that reaches NATS uses tls:// URLs and NATS_TLS_CA on the mounted route CA (compose and k8s)', () => {
  const tlsUrls = (where: string, v: string) => {
    const urls = String(v).split(',').filter(Boolean);
    assert.ok(urls.length > 0, `${where}: NATS_URL empty`);
    for (const u of urls) assert.match(u, /^tls:\/\/[a-z0-9.-]+:4222$/, `${where}: ${u}`);
  };
  const c = parseYaml(fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8'), { merge: true });
  const composeClients: string[] = [];
  for (const [name, s] of Object.entries<any>(c.services)) {
    const env = s.environment ?? {};
    if (!('NATS_URL' in env)) continue;
    composeClients.push(name);
    tlsUrls(`compose ${name}`, env.NATS_URL);
    const ca = env.NATS_TLS_CA;
    assert.match(ca ?? '', /^\/.+\.crt$/, `compose ${name}: NATS_TLS_CA`);
    const vols = (s.volumes ?? []).map(String);
    assert.ok(vols.includes(`./secrets/nats-tls/ca.crt:${ca}:ro`), `compose ${name}: ${ca} mounted from the route CA`);
    assert.ok(!vols.some((v: string) => /secrets\/nats-tls(\/tls\.key)?:/.test(v)), `compose ${name}: only ca.crt, not the directory with the key`);
  }
  assert.ok(composeClients.length >= 7, `compose NATS clients: ${composeClients}`);

  const k8sClients: string[] = [];
  for (const f of fs.readdirSync(D('k8s')).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(fs.readFileSync(D('k8s', f), 'utf8')).map((d) => d.toJSON())) {
      const pod = doc?.spec?.template?.spec;
      if (!pod) continue;
      for (const ctr of pod.containers ?? []) {
        const env = new Map<string, any>((ctr.env ?? []).map((e: any) => [e.name, e.value]));
        if (!env.has('NATS_URL')) continue;
        const where = `k8s ${doc.metadata.name}/${ctr.name}`;
        k8sClients.push(where);
        tlsUrls(where, env.get('NATS_URL'));
        const ca: string = env.get('NATS_TLS_CA') ?? '';
        assert.match(ca, /^\/.+\/ca\.crt$/, `${where}: NATS_TLS_CA`);
        const mount = (ctr.volumeMounts ?? []).find((m: any) => m.mountPath === path.posix.dirname(ca));
        assert.ok(mount, `${where}: ${path.posix.dirname(ca)} mounted`);
        const vol = pod.volumes.find((v: any) => v.name === mount.name);
        assert.equal(vol?.secret?.secretName, 'nats-route-tls', `${where}: the CA comes from the route-TLS secret`);
        assert.deepEqual(vol.secret.items, [{ key: 'ca.crt', path: 'ca.crt' }], `${where}: ca.crt alone, no key`);
      }
    }
  }
  assert.ok(k8sClients.length >= 7, `k8s NATS clients: ${k8sClients}`);
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

// Reads the server's INFO line from a fresh TCP connection to the client port.
function natsHello(port: number): Promise<{ sock: net.Socket; info: any }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    sock.once('error', reject);
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      sock.removeAllListeners('data');
      sock.removeAllListeners('error');
      sock.pause();
      resolve({ sock, info: JSON.parse(buf.slice(0, nl).replace(/^INFO\s+/, '')) });
    });
  });
}

// CONNECT + PING on `sock`; 'pong' when the server answers, else why the connection ended.
function pingPong(sock: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); resolve('no answer'); }, 10000);
    const done = (r: string) => { clearTimeout(timer); sock.destroy(); resolve(r); };
    sock.on('data', (d) => { buf += d.toString('latin1'); if (buf.includes('PONG')) done('pong'); });
    sock.once('error', (e) => done(`error: ${e.message}`));
    sock.once('close', () => done(`closed: ${buf.trim()}`));
    sock.resume();
    sock.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":true}\r\nPING\r\n');
  });
}

// TLS upgrade after INFO (nats-server 2.9), trusting `caFile`, expecting the name nats-1.
function upgrade(sock: net.Socket, caFile: string): Promise<tls.TLSSocket | string> {
  return new Promise((resolve) => {
    const t = tls.connect({ socket: sock, ca: fs.readFileSync(caFile), servername: 'nats-1' });
    t.once('secureConnect', () => resolve(t));
    t.once('error', (e) => { t.destroy(); resolve(`refused: ${e.message}`); });
  });
}

test('the production config refuses plain clients and clients trusting another CA; a client trusting the cluster CA is served', async (t) => {
  if (!have('nats-server') || !have('openssl')) { t.skip('nats-server or openssl not installed'); return; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'natsclient-'));
  let proc: ChildProcess | null = null;
  try {
    setup(tmp);
    certs(path.join(tmp, 'tls'));
    certs(path.join(tmp, 'other-ca'));
    const p = { client: await freePort(), cluster: await freePort(), ws: await freePort(), monitor: await freePort() };
    const dead = [await freePort(), await freePort()];
    const route = (port: number) => `nats-route://u:p@127.0.0.1:${port}`;
    proc = spawn('nats-server', ['-c', localConf(tmp, p, path.join(tmp, 'tls'), 'solo'), '-l', path.join(tmp, 'solo.log')], {
      env: { ...process.env, SERVER_NAME: 'solo', CLUSTER_USER: 'u', CLUSTER_PASSWORD: 'p', ROUTE_1: route(p.cluster), ROUTE_2: route(dead[0]), ROUTE_3: route(dead[1]) },
      stdio: 'ignore',
    });
    await waitFor('the server', async () => (await getJson(`http://127.0.0.1:${p.monitor}/varz`)) !== null);

    const plain = await natsHello(p.client);
    assert.equal(plain.info.tls_required, true, 'INFO announces that TLS is required');
    const plainResult = await pingPong(plain.sock);
    assert.notEqual(plainResult, 'pong', 'a plain client is served');

    const foreign = await natsHello(p.client);
    const foreignResult = await upgrade(foreign.sock, path.join(tmp, 'other-ca', 'ca.crt'));
    assert.equal(typeof foreignResult, 'string', 'a client trusting another CA completed the handshake');
    assert.match(foreignResult as string, /^refused: .*(certificate|verify)/i);

    const good = await natsHello(p.client);
    const secured = await upgrade(good.sock, path.join(tmp, 'tls', 'ca.crt'));
    assert.notEqual(typeof secured, 'string', String(secured));
    assert.equal(await pingPong(secured as tls.TLSSocket), 'pong');
  } finally {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
