// Kubernetes NetworkPolicies (deploy/k8s/network-policies.yaml) against the flows the system
// needs, derived from the manifests rather than listed by hand: every `host:port` naming a
// Service in a workload's environment or in a config file it mounts (nginx upstreams, Prometheus
// targets, Grafana datasources, Collector exporters, Tempo remote write, NATS routes, NATS_URL,
// the OTLP endpoint, database URLs of the services whose config reads DATABASE_URL) is a required
// flow. The policies are evaluated as Kubernetes does (a pod selected by a policy of a direction
// is isolated in that direction; a flow needs the destination's ingress and the source's egress)
// and the admitted set must equal the required set: nothing needed is denied, nothing else is
// admitted. Traffic from or to outside the cluster is allowed only where listed below, with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { kDeployDir, kRepoRoot } from '../src/paths.ts';

const K = (...p: string[]) => path.join(kDeployDir, 'k8s', ...p);
type Labels = Record<string, string>;

interface Workload {
  name: string;
  kind: string;
  labels: Labels;
  ports: Map<string, number>;  // container port name → number (every container of the pod)
  numbers: Set<number>;        // every container port
  texts: string[];             // env values and mounted config files, where peers are named
}
interface Service { name: string; selector: Labels; ports: Array<{ port: number; target: number | string }> }

// Reached from outside the cluster (ingress / load balancer), each with its reason.
const kPublicIngress = new Set([
  'nginx:8080',     // the web entry: SPA, /auth/, /otlp/v1/traces, /nats
  'keycloak:8080',  // the browser's login (KEYCLOAK_PUBLIC_URL)
  'grafana:3000',   // operators' dashboards (login required)
]);
// Egress to addresses outside the cluster.
const kExternalEgress = new Set([
  'auth-service:443',  // CHAT_AUTH_ISSUER_URL is the public Keycloak URL (JWKS over HTTPS)
  'alertmanager:443',  // pager and ticket webhooks
]);

function k8sDocs(): any[] {
  const kust = parseYaml(fs.readFileSync(K('kustomization.yaml'), 'utf8'));
  const out: any[] = [];
  for (const r of kust.resources) {
    for (const d of parseAllDocuments(fs.readFileSync(K(r), 'utf8'))) {
      assert.deepEqual(d.errors.map(String), [], r);
      const j = d.toJSON();
      if (j) out.push(j);
    }
  }
  return out;
}

// configMap name → the source files of its generator.
function configMapFiles(): Map<string, string[]> {
  const kust = parseYaml(fs.readFileSync(K('kustomization.yaml'), 'utf8'));
  return new Map(kust.configMapGenerator.map((g: any) => [g.name, g.files.map((f: string) => path.resolve(K(), f.split('=').pop()!))]));
}

// The services whose configuration reads DATABASE_URL (services/<dir>/config.cpp): only they get
// a database flow from it, whatever else a manifest passes them.
function databaseReaders(): Set<string> {
  const out = new Set<string>();
  const dir = path.join(kRepoRoot, 'services');
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, d.name, 'config.cpp');
    if (d.isDirectory() && fs.existsSync(f) && /"DATABASE_URL"/.test(fs.readFileSync(f, 'utf8'))) {
      out.add(d.name.endsWith('-worker') ? d.name : `${d.name}-service`);
    }
  }
  return out;
}

function load() {
  const docs = k8sDocs();
  const cms = configMapFiles();
  const dbReaders = databaseReaders();
  const workloads: Workload[] = [];
  for (const d of docs) {
    if (!['Deployment', 'StatefulSet', 'Job'].includes(d.kind)) continue;
    const spec = d.spec.template.spec;
    const w: Workload = { name: d.metadata.name, kind: d.kind, labels: d.spec.template.metadata.labels, ports: new Map(), numbers: new Set(), texts: [] };
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (p.name) w.ports.set(p.name, p.containerPort);
        w.numbers.add(p.containerPort);
      }
      for (const e of c.env ?? []) {
        if (typeof e.value !== 'string') continue;
        if (e.name === 'DATABASE_URL' && !dbReaders.has(w.name)) continue;
        w.texts.push(e.value);
      }
      w.texts.push(...(c.args ?? []), ...(c.command ?? []));
    }
    for (const v of spec.volumes ?? []) {
      // Whole-line comments name examples, not peers.
      for (const f of cms.get(v.configMap?.name) ?? []) w.texts.push(fs.readFileSync(f, 'utf8').replace(/^\s*#.*$/gm, ''));
    }
    workloads.push(w);
  }
  const services: Service[] = docs.filter((d) => d.kind === 'Service').map((d) => ({
    name: d.metadata.name,
    selector: d.spec.selector,
    ports: d.spec.ports.map((p: any) => ({ port: p.port, target: p.targetPort ?? p.port })),
  }));
  const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
  return { workloads, services, policies, dbReaders };
}

// The StatefulSet controller adds the pod-name label; per-server Services select on it.
const kControllerLabels = new Set(['statefulset.kubernetes.io/pod-name']);
const serviceSelects = (s: Service, w: Workload) =>
  Object.entries(s.selector).every(([k, v]) => kControllerLabels.has(k) || w.labels[k] === v);

function selectorMatches(sel: any, labels: Labels): boolean {
  for (const [k, v] of Object.entries<string>(sel?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

// A peer of a rule: `null` stands for "outside the cluster".
function peerMatches(peer: any, src: Workload | null): boolean {
  if (peer.ipBlock) return src === null;  // pod IPs are never listed in ipBlocks here
  if (src === null) return false;
  if (peer.namespaceSelector) return false;  // another namespace (kube-system DNS)
  return selectorMatches(peer.podSelector, src.labels);
}

function portMatches(rulePorts: any[] | undefined, port: number, owner: Workload | null): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== 'TCP') return false;
    if (p.port === undefined) return true;
    const n = typeof p.port === 'number' ? p.port : owner?.ports.get(p.port);
    return n === port || (p.endPort !== undefined && n !== undefined && port >= n && port <= p.endPort);
  });
}

function admits(policies: any[], direction: 'Ingress' | 'Egress', self: Workload, peer: Workload | null, port: number, portOwner: Workload | null): boolean {
  const selecting = policies.filter((p) => selectorMatches(p.spec.podSelector, self.labels) &&
    (p.spec.policyTypes ?? ['Ingress']).includes(direction));
  if (selecting.length === 0) return true;  // not isolated in this direction
  const key = direction === 'Ingress' ? 'ingress' : 'egress';
  const peers = direction === 'Ingress' ? 'from' : 'to';
  return selecting.some((p) => (p.spec[key] ?? []).some((r: any) =>
    (r[peers] === undefined || r[peers].length === 0 || r[peers].some((x: any) => peerMatches(x, peer))) &&
    portMatches(r.ports, port, portOwner)));
}

// Required in-cluster flows "src→dst:port" (dst workload, container port).
function requiredFlows(m: ReturnType<typeof load>): { flows: Set<string>; sources: Map<string, string> } {
  const byName = new Map(m.services.map((s) => [s.name, s]));
  const flows = new Set<string>();
  const sources = new Map<string, string>();
  const re = /(?<![\w.$-])([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*):(\d{2,5})\b/g;
  for (const w of m.workloads) {
    for (const text of w.texts) {
      for (const hit of text.matchAll(re)) {
        const labelsOfHost = hit[1].split('.');
        // "nats-1", or "nats-0.nats[.ns.svc…]" (a pod of the headless Service "nats").
        const svc = labelsOfHost.length > 1 && byName.has(labelsOfHost[1]) ? byName.get(labelsOfHost[1]) : byName.get(labelsOfHost[0]);
        if (!svc) continue;
        const sp = svc.ports.find((p) => p.port === Number(hit[2]));
        assert.ok(sp, `${w.name} names ${hit[0]}, but Service ${svc.name} has no port ${hit[2]}`);
        for (const dst of m.workloads.filter((x) => serviceSelects(svc, x))) {
          const target = typeof sp.target === 'number' ? sp.target : dst.ports.get(sp.target);
          assert.ok(target !== undefined && dst.numbers.has(target), `${svc.name}:${sp.port} → ${dst.name} has no such container port`);
          const f = `${w.name}→${dst.name}:${target}`;
          flows.add(f);
          sources.set(f, hit[0]);
        }
      }
    }
  }
  return { flows, sources };
}

test('k8s: a default-deny NetworkPolicy (ingress and egress) and a policy for every workload', () => {
  const m = load();
  const deny = m.policies.filter((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 &&
    !p.spec.ingress && !p.spec.egress);
  assert.ok(deny.some((p) => ['Ingress', 'Egress'].every((t) => p.spec.policyTypes?.includes(t))), 'no default-deny policy for both directions');
  assert.ok(m.workloads.length >= 19, `only ${m.workloads.length} workloads`);
  const own = m.policies.filter((p) => Object.keys(p.spec.podSelector ?? {}).length > 0);
  const unselected = m.workloads.filter((w) => !own.some((p) => selectorMatches(p.spec.podSelector, w.labels))).map((w) => w.name);
  assert.deepEqual(unselected, [], 'workloads no component policy selects');
  // DNS is the only egress every pod has.
  const dns = m.policies.filter((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && p.spec.egress);
  for (const p of dns) for (const r of p.spec.egress) {
    for (const port of r.ports) assert.equal(port.port, 53, `${p.metadata.name}: a namespace-wide egress other than DNS`);
    for (const peer of r.to) assert.ok(peer.namespaceSelector && peer.podSelector, `${p.metadata.name}: DNS peers only`);
  }
});

test('k8s: the policies admit exactly the flows the manifests and configs use', () => {
  const m = load();
  const { flows: required, sources } = requiredFlows(m);
  // Spot checks that the derivation sees what the system does (it would pass vacuously otherwise).
  for (const f of ['nginx→auth-service:9430', 'nginx→nats:4223', 'nginx→otel-collector:4318', 'room-service→nats:4222',
    'room-service→postgres:5432', 'persist-worker→postgres:5432', 'db-migrate→postgres:5432', 'postgres-exporter→postgres:5432',
    'nats→nats:6222', 'prometheus→nats:7777', 'prometheus→fanout-service:9402', 'prometheus→alertmanager:9093',
    'otel-collector→tempo:4318', 'otel-collector→loki:3100', 'tempo→prometheus:9090', 'grafana→prometheus:9090',
    'grafana→tempo:3200', 'grafana→loki:3100', 'auth-service→otel-collector:4318',
    // the room app backends (issue 13)
    ...['app-registry-service', 'poll-service', 'whiteboard-service', 'kb-service', 'sticker-service'].flatMap((s) =>
      [`${s}→nats:4222`, `${s}→postgres:5432`, `${s}→otel-collector:4318`]),
    // user-search-service: no database; Keycloak's admin API in the cluster
    'user-search-service→nats:4222', 'user-search-service→otel-collector:4318', 'user-search-service→keycloak:8080',
    'prometheus→user-search-service:9410', 'translation-service→nats:4222',
    'translation-service→otel-collector:4318', 'prometheus→translation-service:9408',
    'prometheus→sticker-service:9409', 'prometheus→app-registry-service:9411', 'prometheus→poll-service:9412', 'prometheus→whiteboard-service:9413', 'prometheus→kb-service:9414']) {
    assert.ok(required.has(f), `derivation misses ${f}`);
  }
  for (const f of ['fanout-service→postgres:5432', 'presence-service→postgres:5432', 'auth-service→postgres:5432',
    'translation-service→postgres:5432']) {
    assert.ok(!required.has(f), `${f}: the service does not read DATABASE_URL`);
  }
  const admitted = new Set<string>();
  for (const src of m.workloads) for (const dst of m.workloads) for (const port of dst.numbers) {
    if (admits(m.policies, 'Ingress', dst, src, port, dst) && admits(m.policies, 'Egress', src, dst, port, dst)) {
      admitted.add(`${src.name}→${dst.name}:${port}`);
    }
  }
  const denied = [...required].filter((f) => !admitted.has(f)).map((f) => `${f} (from "${sources.get(f)}")`);
  const extra = [...admitted].filter((f) => !required.has(f));
  assert.deepEqual(denied, [], 'needed but denied');
  assert.deepEqual(extra, [], 'admitted but not needed');
});

test('k8s: only the public entry points admit traffic from outside; only listed pods egress outside', () => {
  const m = load();
  const ingress = new Set<string>();
  const egress = new Set<string>();
  for (const w of m.workloads) {
    for (const port of w.numbers) if (admits(m.policies, 'Ingress', w, null, port, w)) ingress.add(`${w.name}:${port}`);
    for (const port of [80, 443, 4222, 5432, 6222, 8080]) if (admits(m.policies, 'Egress', w, null, port, null)) egress.add(`${w.name}:${port}`);
  }
  assert.deepEqual([...ingress].sort(), [...kPublicIngress].sort());
  assert.deepEqual([...egress].sort(), [...kExternalEgress].sort());
});

test('k8s: NATS monitoring (8222) is on no Service and no container port', () => {
  const m = load();
  for (const s of m.services) assert.ok(!s.ports.some((p) => p.port === 8222 || p.target === 8222), s.name);
  for (const w of m.workloads) assert.ok(!w.numbers.has(8222), w.name);
});

test('the flow check can fail: a missing policy denies, a broad one admits too much', () => {
  const m = load();
  const dst = m.workloads.find((w) => w.name === 'postgres')!;
  const nginx = m.workloads.find((w) => w.name === 'nginx')!;
  const room = m.workloads.find((w) => w.name === 'room-service')!;
  assert.equal(admits(m.policies, 'Ingress', dst, room, 5432, dst), true);
  assert.equal(admits(m.policies, 'Ingress', dst, nginx, 5432, dst), false);
  assert.equal(admits(m.policies, 'Egress', nginx, dst, 5432, dst), false);
  const withoutPostgres = m.policies.filter((p) => p.metadata.name !== 'postgres');
  assert.equal(admits(withoutPostgres, 'Ingress', dst, room, 5432, dst), false, 'default deny holds');
  const allowAll = [...m.policies, { metadata: { name: 'x' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] } }];
  assert.equal(admits(allowAll, 'Ingress', dst, nginx, 5432, dst) && admits(allowAll, 'Egress', nginx, dst, 5432, dst), true);
});
