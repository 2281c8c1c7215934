// Offline checks of the production stack files (deploy/compose, deploy/k8s and the component
// configs they mount): well-formed YAML, collector pipeline wiring, pinned images, compose
// cross-references, promtool, Tempo/Loki policy of observability.md §7.3/§8, Alertmanager routes,
// probes and limits, and per-service env/ports against deploy/local/services.list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { kDeployDir } from '../src/paths.ts';

const D = (...p: string[]) => path.join(kDeployDir, ...p);
const readYaml = (file: string) => parseYaml(fs.readFileSync(file, 'utf8'), { merge: true });
const readDocs = (file: string) => parseAllDocuments(fs.readFileSync(file, 'utf8'), { merge: true }).map((d) => {
  assert.deepEqual(d.errors.map(String), [], file);
  return d.toJSON();
}).filter((d) => d !== null);
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Every C++ service the production stack runs (compose and k8s): the chat services, the room
// app backends of issue 13, sticker-service, translation-service and user-search-service (issue 14).
const kChatServices = ['auth-service', 'room-service', 'fanout-service', 'persist-worker', 'history-service', 'presence-service', 'read-receipt-service',
  'app-registry-service', 'poll-service', 'whiteboard-service', 'kb-service', 'sticker-service',
  'translation-service', 'user-search-service'];
const kBNats = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function servicesList(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of fs.readFileSync(D('local', 'services.list'), 'utf8').split('\n')) {
    const m = /^([a-z-]+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

function yamlFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'local') walk(p); }
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(kDeployDir);
  return out.sort();
}

test('every YAML file under deploy/ (except the local templates) is well-formed', () => {
  const files = yamlFiles();
  assert.ok(files.length >= 15, `only ${files.length} YAML files found`);
  for (const f of files) readDocs(f);
  JSON.parse(fs.readFileSync(D('compose', 'keycloak', 'nats-chat-realm.json'), 'utf8'));
});

test('collector: pipelines use defined components, memory_limiter first, §8.2 settings', () => {
  const c = readYaml(D('otel-collector', 'config.yaml'));
  const pipelines = c.service.pipelines;
  assert.deepEqual(Object.keys(pipelines).sort(), ['logs', 'traces'], 'no metrics pipeline: services are scraped');
  for (const [name, p] of Object.entries<any>(pipelines)) {
    for (const r of p.receivers) assert.ok(r in c.receivers, `${name}: receiver ${r} undefined`);
    for (const x of p.processors) assert.ok(x in c.processors, `${name}: processor ${x} undefined`);
    for (const e of p.exporters) assert.ok(e in c.exporters, `${name}: exporter ${e} undefined`);
    assert.equal(p.processors[0], 'memory_limiter', `${name}: memory_limiter must be first`);
    assert.equal(p.processors.at(-1), 'batch', `${name}: batch last`);
  }
  for (const e of c.service.extensions) assert.ok(e in c.extensions);
  assert.equal(c.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
  assert.equal(c.receivers.otlp.protocols.grpc.endpoint, '0.0.0.0:4317');
  for (const a of c.processors.resource.attributes) assert.equal(a.action, 'insert', `${a.key}: insert, never upsert`);
  assert.ok(c.processors.resource.attributes.some((a: any) => a.key === 'deployment.environment.name'));
  for (const [name, e] of Object.entries<any>(c.exporters)) {
    assert.equal(e.sending_queue?.enabled, true, `${name}: sending queue`);
    assert.equal(e.retry_on_failure?.enabled, true, `${name}: retry`);
  }
  assert.equal(c.exporters['otlphttp/loki'].endpoint, 'http://loki:3100/otlp');
  const prom = c.service.telemetry.metrics.readers[0].pull.exporter.prometheus;
  assert.deepEqual([prom.host, prom.port], ['0.0.0.0', 8888]);
  assert.equal(c.service.telemetry.metrics.address, undefined, 'the address key is ignored since v0.123');
});

// Every image reference in compose and k8s, with where it came from.
function images(): Array<{ where: string; image: string }> {
  const out: Array<{ where: string; image: string }> = [];
  const compose = readYaml(D('compose', 'docker-compose.yaml'));
  for (const [name, s] of Object.entries<any>(compose.services)) out.push({ where: `compose/${name}`, image: s.image });
  const kustomization = readYaml(D('k8s', 'kustomization.yaml'));
  const tags = new Map<string, string>(kustomization.images.map((i: any) => [i.name, i.newTag ?? i.digest]));
  for (const f of fs.readdirSync(D('k8s')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of readDocs(D('k8s', f))) {
      const spec = doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
        const image = c.image.includes(':') || !tags.has(c.image) ? c.image : `${c.image}:${tags.get(c.image)}`;
        out.push({ where: `k8s/${f}/${doc.metadata.name}/${c.name}`, image });
      }
    }
  }
  return out;
}

test('every image in compose and k8s is pinned to an exact tag (no latest, no bare names)', () => {
  const all = images();
  assert.ok(all.length > 30);
  const composeText = fs.readFileSync(D('compose', 'docker-compose.yaml'), 'utf8');
  const bad = all.filter(({ image }) => {
    if (!image) return true;
    const m = /^(.+?)(?::([^/:@]+))?(@sha256:[0-9a-f]{64})?$/.exec(image);
    const tag = m?.[2];
    if (!tag && !m?.[3]) return true;
    if (tag === 'latest' || tag === 'stable' || tag === 'main') return true;
    // Our own images are tagged with a required variable (docker compose fails when it is unset).
    const v = /^\$\{(\w+)\}$/.exec(tag ?? '');
    if (v) return !new RegExp(`\\$\\{${v[1]}:\\?`).test(composeText);
    return !/\d/.test(tag ?? '');
  });
  assert.deepEqual(bad, []);
  assert.ok(!/:latest\b/.test(composeText));
  for (const f of fs.readdirSync(D('k8s'))) assert.ok(!/:latest\b/.test(fs.readFileSync(D('k8s', f), 'utf8')), f);
});

test('compose: depends_on, named volumes and mounted files all exist', () => {
  const c = readYaml(D('compose', 'docker-compose.yaml'));
  const names = new Set(Object.keys(c.services));
  const volumes = new Set(Object.keys(c.volumes ?? {}));
  const problems: string[] = [];
  for (const [name, s] of Object.entries<any>(c.services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) if (!names.has(d)) problems.push(`${name} depends_on unknown ${d}`);
    for (const v of s.volumes ?? []) {
      const src = String(v).split(':')[0];
      if (src.startsWith('.')) {
        const p = path.resolve(D('compose'), src);
        // web/dist is produced by the web build, secrets are provided by the operator.
        if (!fs.existsSync(p) && !/web\/dist$|secrets\//.test(src)) problems.push(`${name} mounts missing ${src}`);
      } else if (!volumes.has(src)) problems.push(`${name} uses undeclared volume ${src}`);
    }
    if (s.build) assert.equal(s.build.dockerfile, 'deploy/docker/Dockerfile.service');
  }
  assert.deepEqual(problems, []);
  for (const svc of kChatServices) assert.ok(names.has(svc), `compose lacks ${svc}`);
  for (const n of ['nats-1', 'nats-2', 'nats-3', 'nats-exporter-1', 'nats-exporter-2', 'nats-exporter-3', 'postgres', 'postgres-exporter', 'keycloak', 'otel-collector', 'tempo', 'loki', 'prometheus', 'alertmanager', 'grafana', 'nginx']) assert.ok(names.has(n), `compose lacks ${n}`);
  for (const i of [1, 2, 3]) {
    // Monitoring is on the server's loopback: the exporter shares its network namespace.
    assert.deepEqual(c.services[`nats-exporter-${i}`].command, ['-varz', '-jsz=all', '-port', '7777', 'http://127.0.0.1:8222']);
    assert.equal(c.services[`nats-exporter-${i}`].network_mode, `service:nats-${i}`);
    assert.ok(c.services[`nats-${i}`].networks.default.aliases.includes(`nats-exporter-${i}`), 'Prometheus scrapes nats-exporter-N:7777');
  }
  assert.equal(c.services['otel-collector'].mem_limit, '512m', 'memory_limiter is sized from this limit');
  const flags = c.services.prometheus.command;
  for (const f of ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage', '--storage.tsdb.retention.time=15d']) assert.ok(flags.includes(f), f);
});

test('chat services: OTEL_* env, ports equal services.list, probes and limits in k8s', () => {
  const ports = servicesList();
  const c = readYaml(D('compose', 'docker-compose.yaml'));
  const prom = readYaml(D('prometheus', 'prometheus.yml'));
  const jobs = new Map<string, any>(prom.scrape_configs.map((j: any) => [j.job_name, j]));
  const k8s = readDocs(D('k8s', 'services.yaml'));
  for (const svc of kChatServices) {
    const env = c.services[svc].environment;
    assert.equal(env.OTEL_SERVICE_NAME, svc);
    assert.equal(Number(env.OTEL_EXPORTER_PROMETHEUS_PORT), ports.get(svc), `${svc} port`);
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
    assert.match(env.OTEL_RESOURCE_ATTRIBUTES, /deployment\.environment\.name=prod/);
    assert.doesNotMatch(env.OTEL_RESOURCE_ATTRIBUTES, /deployment\.environment=/);
    assert.equal(env.NATS_CREDS, `/keys/creds/${svc}.creds`);
    assert.deepEqual(jobs.get(svc)?.static_configs?.[0]?.targets, [`${svc}:${ports.get(svc)}`], `prometheus job ${svc}`);
    const dep = k8s.find((d) => d.kind === 'Deployment' && d.metadata.name === svc);
    assert.ok(dep, `k8s Deployment ${svc}`);
    const ctr = dep.spec.template.spec.containers[0];
    const kenv = new Map<string, string>(ctr.env.map((e: any) => [e.name, e.value]));
    assert.equal(kenv.get('OTEL_SERVICE_NAME'), svc);
    assert.equal(Number(kenv.get('OTEL_EXPORTER_PROMETHEUS_PORT')), ports.get(svc));
    assert.deepEqual([ctr.livenessProbe.httpGet.path, ctr.livenessProbe.httpGet.port], ['/healthz', ports.get(svc)]);
    assert.deepEqual([ctr.readinessProbe.httpGet.path, ctr.readinessProbe.httpGet.port], ['/readyz', ports.get(svc)]);
    assert.ok(ctr.resources.limits.memory, `${svc} memory limit`);
    assert.ok(k8s.some((d) => d.kind === 'Service' && d.metadata.name === svc), `k8s Service ${svc}`);
  }
  // Every service of services.list has a Prometheus job named after it, on its port: a static
  // target when compose runs it, DNS discovery while it is not deployed (no false ServiceDown).
  for (const [svc, port] of ports) {
    const j = jobs.get(svc);
    assert.ok(j, `no Prometheus job ${svc}`);
    const target = j.static_configs?.[0]?.targets?.[0] ?? `${j.dns_sd_configs[0].names[0]}:${j.dns_sd_configs[0].port}`;
    assert.equal(target, `${svc}:${port}`);
    assert.equal(Boolean(j.static_configs), svc in c.services, `${svc}: static target exactly when deployed`);
  }
  // The k8s Deployments and the Prometheus policy's scrape list name the same services.
  const deployed = k8s.filter((d) => d.kind === 'Deployment' && ports.has(d.metadata.name)).map((d) => d.metadata.name);
  assert.deepEqual([...deployed].sort(), [...kChatServices].sort(), 'k8s Deployments of services.list');
  assert.deepEqual(Object.keys(c.services).filter((n) => ports.has(n)).sort(), [...kChatServices].sort(), 'compose services of services.list');
});

// natskeys init writes one .creds per name of DefaultServiceAccounts (libs/nkeys): every
// credentials file compose and k8s hand a service must be one of them.
test('NATS credentials: each service mounts its own .creds, one that natskeys init writes', () => {
  const src = fs.readFileSync(path.join(kDeployDir, '..', 'libs', 'nkeys', 'src', 'local_operator.cpp'), 'utf8');
  const body = /DefaultServiceAccounts\(\) \{[^}]*kAccounts = \{([^}]*)\}/.exec(src)?.[1];
  assert.ok(body, 'DefaultServiceAccounts not found');
  const accounts = new Set([...body.matchAll(/"([a-z-]+)"/g)].map((m) => m[1]));
  const c = readYaml(D('compose', 'docker-compose.yaml'));
  const k8s = readDocs(D('k8s', 'services.yaml'));
  for (const svc of kChatServices) {
    assert.ok(accounts.has(svc), `natskeys writes no ${svc}.creds`);
    assert.equal(c.services[svc].environment.NATS_CREDS, `/keys/creds/${svc}.creds`);
    const pod = k8s.find((d) => d.kind === 'Deployment' && d.metadata.name === svc).spec.template.spec;
    assert.equal(pod.containers[0].env.find((e: any) => e.name === 'NATS_CREDS').value, `/keys/creds/${svc}.creds`);
    const items = pod.volumes.find((v: any) => v.secret?.secretName === 'nats-keys').secret.items;
    const creds = items.filter((i: any) => i.key.endsWith('.creds'));
    assert.deepEqual(creds, [{ key: `${svc}.creds`, path: `creds/${svc}.creds` }], `${svc} mounts only its own credentials`);
  }
});

// Issue 11 item 9: SCRAM only, and every service that uses Postgres logs in as its own role
// (db/migrations/0003_service_roles.sql), never as the owner `chat`; the others get no DSN.
test('postgres: scram-sha-256 initdb, one database role per service, passwords only from secrets', () => {
  const kDbRoles = ['room-service', 'persist-worker', 'history-service', 'read-receipt-service',
    'app-registry-service', 'poll-service', 'whiteboard-service', 'kb-service', 'sticker-service'];
  const migration = fs.readFileSync(path.join(kDeployDir, '..', 'db', 'migrations', '0003_service_roles.sql'), 'utf8');
  for (const r of [...kDbRoles, 'pg-exporter']) assert.ok(migration.includes(`'${r}'`), `0003 lacks role ${r}`);
  const c = readYaml(D('compose', 'docker-compose.yaml'));
  const pg = c.services.postgres.environment;
  assert.match(pg.POSTGRES_INITDB_ARGS, /--auth-local=scram-sha-256/);
  assert.match(pg.POSTGRES_INITDB_ARGS, /--auth-host=scram-sha-256/);
  assert.equal(pg.POSTGRES_HOST_AUTH_METHOD, 'scram-sha-256');
  const envExample = fs.readFileSync(D('compose', 'env.example'), 'utf8');
  for (const svc of kChatServices) {
    const url: string | undefined = c.services[svc].environment.DATABASE_URL;
    if (!kDbRoles.includes(svc)) { assert.equal(url, undefined, `${svc} uses no database`); continue; }
    const m = /^postgresql:\/\/([a-z-]+):\$\{([A-Z_]+):\?[^}]*\}@postgres:5432\/chatdb$/.exec(url ?? '');
    assert.ok(m, `${svc} DATABASE_URL ${url}`);
    assert.equal(m[1], svc, `${svc} logs in as its own role`);
    assert.match(envExample, new RegExp(`^${m[2]}=$`, 'm'), `env.example lacks ${m[2]}`);
    assert.ok(c.services['db-migrate'].secrets.some((x: any) => x.target === `/run/pg-roles/${svc}`), `db-migrate lacks ${svc}`);
  }
  assert.match(c.services['postgres-exporter'].environment.DATA_SOURCE_NAME, /^postgresql:\/\/pg-exporter:\$\{PG_EXPORTER_PASSWORD/);
  const k8sPg = readDocs(D('k8s', 'postgres.yaml'));
  const kpg = new Map<string, string>(k8sPg.find((d) => d.kind === 'StatefulSet').spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
  assert.match(kpg.get('POSTGRES_INITDB_ARGS') ?? '', /--auth-local=scram-sha-256 --auth-host=scram-sha-256/);
  const exporter = k8sPg.find((d) => d.kind === 'Deployment' && d.metadata.name === 'postgres-exporter').spec.template.spec.containers[0].env;
  assert.equal(exporter.find((e: any) => e.name === 'DATA_SOURCE_USER').value, 'pg-exporter');
  assert.deepEqual(exporter.find((e: any) => e.name === 'DATA_SOURCE_PASS').valueFrom.secretKeyRef, { name: 'nats-chat-pg-roles', key: 'pg-exporter' });
  const k8s = readDocs(D('k8s', 'services.yaml'));
  for (const svc of kChatServices) {
    const env: any[] = k8s.find((d) => d.kind === 'Deployment' && d.metadata.name === svc).spec.template.spec.containers[0].env;
    const url = env.find((e) => e.name === 'DATABASE_URL')?.value;
    assert.ok(!env.some((e) => e.valueFrom?.secretKeyRef?.key === 'postgres-password'), `${svc} sees the owner's password`);
    if (!kDbRoles.includes(svc)) { assert.equal(url, undefined, `${svc} uses no database`); continue; }
    assert.equal(url, `postgresql://${svc}:$(DB_PASSWORD)@postgres:5432/chatdb`);
    assert.deepEqual(env.find((e) => e.name === 'DB_PASSWORD').valueFrom.secretKeyRef, { name: 'nats-chat-pg-roles', key: svc });
  }
  const job = k8s.find((d) => d.kind === 'Job' && d.metadata.name === 'db-migrate').spec.template.spec;
  assert.equal(job.containers[0].env.find((e: any) => e.name === 'CHAT_PG_ROLE_PASSWORDS_DIR').value, '/etc/chat/pg-roles');
  assert.equal(job.volumes.find((v: any) => v.name === 'pg-roles').secret.secretName, 'nats-chat-pg-roles');
});

test('k8s: every workload has liveness/readiness probes and a memory limit; collector limit matches §8.2', () => {
  const problems: string[] = [];
  for (const f of fs.readdirSync(D('k8s')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of readDocs(D('k8s', f))) {
      if (!['Deployment', 'StatefulSet'].includes(doc.kind)) continue;
      for (const ctr of doc.spec.template.spec.containers) {
        if (!ctr.livenessProbe || !ctr.readinessProbe) problems.push(`${doc.metadata.name}/${ctr.name}: probes`);
        if (!ctr.resources?.limits?.memory) problems.push(`${doc.metadata.name}/${ctr.name}: memory limit`);
      }
    }
  }
  assert.deepEqual(problems, []);
  const docs = readDocs(D('k8s', 'observability.yaml'));
  const col = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'otel-collector').spec.template.spec.containers[0];
  assert.equal(col.resources.limits.memory, '512Mi');
  const nats = readDocs(D('k8s', 'nats.yaml')).find((d) => d.kind === 'StatefulSet');
  assert.equal(nats.spec.replicas, 3);
  assert.deepEqual(nats.spec.template.spec.containers[1].args, ['-varz', '-jsz=all', '-port', '7777', 'http://127.0.0.1:8222']);
});

test('k8s: kustomize builds (when kubectl is installed) and generator files exist', (t) => {
  const k = readYaml(D('k8s', 'kustomization.yaml'));
  for (const g of k.configMapGenerator) for (const f of g.files) assert.ok(fs.existsSync(path.resolve(D('k8s'), f.split('=').pop())), f);
  for (const r of k.resources) assert.ok(fs.existsSync(D('k8s', r)), r);
  if (!have('kubectl')) { t.skip('kubectl not installed'); return; }
  const out = execFileSync('kubectl', ['kustomize', '--load-restrictor=LoadRestrictionsNone', D('k8s')], { encoding: 'utf8' });
  const kinds = parseAllDocuments(out).map((d) => d.toJSON()?.kind);
  assert.equal(kinds.filter((x) => x === 'StatefulSet').length, 5);
  assert.ok(!/image: [^\s]+:latest/.test(out));
});

test('prometheus: promtool check config (with the repository rules) and check rules pass', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'promcfg-'));
  try {
    const cfg = fs.readFileSync(D('prometheus', 'prometheus.yml'), 'utf8').replace('/etc/prometheus/rules/', D('prometheus', 'rules') + '/');
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), cfg);
    const r = spawnSync('promtool', ['check', 'config', path.join(tmp, 'prometheus.yml')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /chat\.yaml/, 'the rule file was checked through the config');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const r = spawnSync('promtool', ['check', 'rules', D('prometheus', 'rules', 'chat.yaml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const p = readYaml(D('prometheus', 'prometheus.yml'));
  assert.deepEqual(p.rule_files, ['/etc/prometheus/rules/*.yaml']);
  assert.deepEqual(p.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  assert.equal(p.storage.exemplars.max_exemplars, 100000);
  const jobs = p.scrape_configs.map((j: any) => j.job_name);
  for (const j of ['prometheus', 'otel-collector', 'tempo', 'loki', 'grafana', 'nats', 'postgres']) assert.ok(jobs.includes(j), j);
  assert.equal(new Set(jobs).size, jobs.length, 'duplicate job');
});

test('promtool check config fails on a broken config (the check can fail)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'promcfg-'));
  try {
    fs.writeFileSync(path.join(tmp, 'bad.yml'), 'scrape_configs:\n  - job_name: a\n  - job_name: a\n');
    assert.notEqual(spawnSync('promtool', ['check', 'config', path.join(tmp, 'bad.yml')]).status, 0);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('tempo: 168 h retention, generator with low-cardinality dimensions only, B_NATS buckets', () => {
  const t = readYaml(D('tempo', 'tempo.yaml'));
  assert.equal(t.compactor.compaction.block_retention, '168h');
  const sm = t.metrics_generator.processor.span_metrics;
  assert.deepEqual(sm.dimensions, ['chat.action']);
  for (const forbidden of ['chat.user', 'chat.room', 'chat.message_id', 'chat.thread_id', 'service.name', 'service.instance.id']) assert.ok(!sm.dimensions.includes(forbidden), forbidden);
  assert.deepEqual(sm.histogram_buckets, kBNats);
  const sg = t.metrics_generator.processor.service_graphs;
  assert.deepEqual(sg.histogram_buckets, kBNats);
  assert.equal(sg.enable_messaging_system_latency_histogram, true);
  assert.deepEqual(t.metrics_generator.registry.external_labels, { source: 'tempo' });
  assert.notEqual(t.metrics_generator.processor.span_metrics.enable_target_info, true);
  const rw = t.metrics_generator.storage.remote_write[0];
  assert.deepEqual([rw.url, rw.send_exemplars], ['http://prometheus:9090/api/v1/write', true]);
  assert.deepEqual([...t.overrides.defaults.metrics_generator.processors].sort(), ['service-graphs', 'span-metrics']);
  assert.equal(t.distributor.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
});

test('loki: 168 h retention, structured metadata, exactly the three §7.3 index labels, limits', () => {
  const l = readYaml(D('loki', 'loki.yaml'));
  const lim = l.limits_config;
  assert.equal(lim.retention_period, '168h');
  assert.equal(lim.allow_structured_metadata, true);
  assert.equal(l.compactor.retention_enabled, true);
  assert.equal(lim.otlp_config.resource_attributes.ignore_defaults, true);
  const idx = lim.otlp_config.resource_attributes.attributes_config.filter((a: any) => a.action === 'index_label').flatMap((a: any) => a.attributes);
  assert.deepEqual(idx.sort(), ['deployment.environment.name', 'service.name', 'service.namespace']);
  for (const k of ['ingestion_rate_mb', 'ingestion_burst_size_mb', 'per_stream_rate_limit', 'max_structured_metadata_entries_count']) assert.ok(lim[k] !== undefined, k);
  assert.deepEqual([l.schema_config.configs[0].schema, l.schema_config.configs[0].store], ['v13', 'tsdb']);
});

test('alertmanager: routes by severity to defined receivers', () => {
  const a = readYaml(D('alertmanager', 'alertmanager.yaml'));
  const receivers = new Set(a.receivers.map((r: any) => r.name));
  assert.ok(receivers.has(a.route.receiver));
  const bySeverity = new Map<string, string>();
  for (const r of a.route.routes) {
    assert.ok(receivers.has(r.receiver), r.receiver);
    const m = /^severity="(\w+)"$/.exec(r.matchers[0]);
    if (m) bySeverity.set(m[1], r.receiver);
  }
  assert.deepEqual([...bySeverity.keys()].sort(), ['critical', 'info', 'warning']);
  assert.notEqual(bySeverity.get('critical'), bySeverity.get('warning'));
});

test('grafana provisioning: provider path equals the compose and k8s mount points', () => {
  const provider = readYaml(D('grafana', 'provisioning', 'dashboards', 'dashboards.yaml')).providers[0];
  const c = readYaml(D('compose', 'docker-compose.yaml'));
  assert.ok(c.services.grafana.volumes.includes(`../grafana/dashboards:${provider.options.path}:ro`));
  const g = readDocs(D('k8s', 'observability.yaml')).find((d) => d.kind === 'Deployment' && d.metadata.name === 'grafana');
  assert.ok(g.spec.template.spec.containers[0].volumeMounts.some((m: any) => m.mountPath === provider.options.path));
});

test('keycloak realm: public PKCE client and the 13 seeded users with their roles', () => {
  const r = JSON.parse(fs.readFileSync(D('compose', 'keycloak', 'nats-chat-realm.json'), 'utf8'));
  const client = r.clients.find((c: any) => c.clientId === 'nats-chat-app');
  assert.equal(client.publicClient, true);
  assert.equal(client.attributes['pkce.code.challenge.method'], 'S256');
  assert.equal(client.implicitFlowEnabled, false);
  assert.ok(client.redirectUris.includes('http://localhost:3000/*'));
  assert.equal(client.protocolMappers[0].config['claim.name'], 'realm_access.roles');
  assert.equal(r.users.length, 13);
  const roles = Object.fromEntries(r.users.map((u: any) => [u.username, u.realmRoles.join(',')]));
  assert.equal(roles.alice, 'admin,user');
  assert.equal(roles.charlie, '');
  assert.equal(r.accessTokenLifespan, 300);
  // As dev-idp issues them: the access token's aud names nats-chat-app (auth-service requires
  // it, CHAT_AUTH_AUDIENCE); the ID token keeps aud = client id and typ "ID" and is refused.
  const aud = client.protocolMappers.find((m: any) => m.protocolMapper === 'oidc-audience-mapper');
  assert.equal(aud?.config['included.client.audience'], 'nats-chat-app');
  assert.equal(aud?.config['access.token.claim'], 'true');
  assert.equal(aud?.config['id.token.claim'], 'false');
  // Brute-force throttling and single-use refresh tokens, as in dev-idp.
  assert.equal(r.bruteForceProtected, true);
  assert.equal(r.revokeRefreshToken, true);
  assert.equal(r.refreshTokenMaxReuse, 0);
});

// `nats-server -t` on the cluster config and its route/monitoring settings: nats.test.ts.

test('nginx: config passes `nginx -t` (when installed) and exposes only the §8.7 OTLP path', (t) => {
  const conf = fs.readFileSync(D('nginx', 'nginx.conf'), 'utf8');
  const otlp = /location = \/otlp\/v1\/traces \{([\s\S]*?)\n    \}/.exec(conf)?.[1] ?? '';
  assert.match(otlp, /client_max_body_size 512k;/);
  assert.match(otlp, /limit_req zone=otlp /);
  assert.match(otlp, /proxy_pass http:\/\/otel_collector\/v1\/traces;/);
  assert.ok(!/location \/otlp\/? /.test(conf), 'only the exact traces path is exposed');
  assert.match(conf, /location = \/nats \{[^}]*Upgrade \$http_upgrade/s);
  assert.match(conf, /location \/auth\/ \{/);
  // Credential requests: limited per client address, which real_ip recovers behind the balancer.
  assert.match(/location \/auth\/ \{([\s\S]*?)\n    \}/.exec(conf)?.[1] ?? '', /limit_req zone=auth /);
  assert.match(conf, /real_ip_header X-Forwarded-For;/);
  // issue 11 §4: auth-service takes no Content-Encoding; nginx refuses it (both configs).
  for (const c of [conf, fs.readFileSync(D('local', 'nginx.conf'), 'utf8')]) {
    const auth = /location \/auth\/ \{([\s\S]*?)\n    \}/.exec(c)?.[1] ?? '';
    assert.match(auth, /if \(\$http_content_encoding\) \{ return 415; \}/);
    assert.match(auth, /client_max_body_size 16k;/);
  }
  // Room app bundles (web/dist/apps, issue 13): served as files under /apps/ in both configs, a
  // missing one a 404 (never the SPA's index.html), entries revalidated, hashed chunks immutable.
  for (const c of [conf, fs.readFileSync(D('local', 'nginx.conf'), 'utf8')]) {
    assert.match(/location \/apps\/ \{([^}]*)\}/.exec(c)?.[1] ?? '', /try_files \$uri =404;[\s\S]*Cache-Control "no-cache"/);
    assert.match(/location ~ \^\/apps\/\(chunks\|assets\)\/ \{([^}]*)\}/.exec(c)?.[1] ?? '', /try_files \$uri =404;[\s\S]*immutable/);
  }
  // k8s: the document root is /dist of the nats-chat/web image, built with `npm run build`, which
  // builds the app bundles into dist/apps too (compose mounts web/dist from the same build).
  const web = readDocs(D('k8s', 'nginx.yaml')).find((d) => d.kind === 'Deployment').spec.template.spec.initContainers[0];
  assert.deepEqual([web.image, web.command.at(-1)], ['nats-chat/web', 'cp -R /dist/. /html/']);
  const dockerfile = fs.readFileSync(D('docker', 'Dockerfile.web'), 'utf8');
  assert.match(dockerfile, /RUN npm run build/);
  assert.match(dockerfile, /test -f dist\/apps\/poll\/poll-app\.js/);
  assert.match(dockerfile, /COPY --from=build \/src\/web\/dist \/dist\n/);
  const webPkg = JSON.parse(fs.readFileSync(path.join(kDeployDir, '..', 'web', 'package.json'), 'utf8'));
  assert.match(webPkg.scripts.build, /vite build --config vite\.apps\.config\.ts/);
  if (!have('nginx')) { t.skip('nginx not installed'); return; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nginxcfg-'));
  try {
    // Container upstream names do not resolve here; nginx -t resolves them at load time.
    // /dev/stdout and /dev/stderr are the container log targets; they may not be openable here.
    const local = conf
      .replace(/server [a-z0-9-]+:(\d+);/g, 'server 127.0.0.1:$1;')
      .replace(/\/tmp\//g, `${tmp}/`)
      .replace(/\/dev\/std(out|err)/g, `${tmp}/std$1.log`);
    fs.writeFileSync(path.join(tmp, 'nginx.conf'), local);
    const r = spawnSync('nginx', ['-t', '-c', path.join(tmp, 'nginx.conf'), '-p', tmp, '-e', path.join(tmp, 'error.log')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
