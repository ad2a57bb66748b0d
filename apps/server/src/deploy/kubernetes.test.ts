// The Kubernetes manifests of deploy/kubernetes, checked offline: every document against the
// Kubernetes JSON schemas that kubernetes-models ships (nothing is fetched), then the ties
// between them that a schema cannot see (the Services select the shards' pods, the Ingress
// routes each shard's host to a Service port that exists, each shard's --public-url names the
// host its Ingress rule names, the shard's flags are ones nslab serve accepts). Broken copies
// of the manifests must be refused, so that a check that passes means something.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { parseServeArgs } from '../main';

const DIR = fileURLToPath(new URL('../../../../deploy/kubernetes/', import.meta.url));

/** A manifest document, as decoded. */
type Doc = Record<string, unknown> & { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; namespace?: string } };

/** Every kind the manifests may hold, with the model that validates it against its schema. */
const MODELS: ReadonlyMap<string, (doc: Doc) => { validate(): void }> = new Map<string, (doc: Doc) => { validate(): void }>([
  ['v1 Namespace', (d) => new Namespace(d)],
  ['v1 Secret', (d) => new Secret(d)],
  ['v1 Service', (d) => new Service(d)],
  ['apps/v1 StatefulSet', (d) => new StatefulSet(d)],
  ['networking.k8s.io/v1 Ingress', (d) => new Ingress(d)],
]);

/** The manifests' documents, each with the file it came from. */
function load(): Array<{ file: string; doc: Doc }> {
  const out: Array<{ file: string; doc: Doc }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(`${DIR}${file}`, 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc = d.toJS() as Doc | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

type Labels = Record<string, string>;
interface ServiceSpec { clusterIP?: string; selector?: Labels; ports?: Array<{ name?: string; port: number; targetPort?: string | number }> }
interface Container { args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>; ports?: Array<{ name?: string; containerPort: number }>; securityContext?: { privileged?: boolean } }
interface SetSpec { serviceName: string; replicas?: number; template: { metadata?: { labels?: Labels }; spec: { containers: Container[] } } }
interface IngressSpec { rules?: Array<{ host?: string; http?: { paths: Array<{ backend: { service?: { name: string; port: { name?: string; number?: number } } } }> } }>; tls?: Array<{ hosts?: string[] }> }

/** Every problem of a set of documents: schema errors, then the ties between objects. Empty when sound. */
function problems(docs: Array<{ file: string; doc: Doc }>): string[] {
  const out: string[] = [];
  for (const { file, doc } of docs) {
    const key = `${String(doc.apiVersion)} ${String(doc.kind)}`;
    const model = MODELS.get(key);
    if (!model) { out.push(`${file}: no schema for ${key}`); continue; }
    try { model(doc).validate(); } catch (err) { out.push(`${file}: ${doc.metadata?.name ?? '?'}: ${err instanceof Error ? err.message : String(err)}`); }
    if (doc.metadata?.namespace !== undefined && doc.metadata.namespace !== 'nslab-classroom') out.push(`${file}: ${doc.metadata.name ?? '?'} is outside nslab-classroom`);
  }
  const of = <T,>(kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => ({ name: d.doc.metadata?.name ?? '', spec: (d.doc as { spec?: T }).spec }));
  const sets = of<SetSpec>('StatefulSet');
  const services = of<ServiceSpec>('Service');
  if (sets.length !== 1) return [...out, `expected one StatefulSet of shards, found ${sets.length}`];
  const set = sets[0]!;
  const spec = set.spec;
  if (!spec?.template?.spec?.containers?.[0]) return [...out, 'the StatefulSet has no container'];
  const podLabels = spec.template.metadata?.labels ?? {};
  const replicas = spec.replicas ?? 1;
  const shard = spec.template.spec.containers[0];
  const selects = (selector: Labels | undefined, pod: string) => selector !== undefined && Object.entries(selector).every(([k, v]) => (k === 'statefulset.kubernetes.io/pod-name' ? v === pod : podLabels[k] === v));
  const headless = services.find((s) => s.name === spec.serviceName);
  if (!headless || headless.spec?.clusterIP !== 'None') out.push(`the StatefulSet's serviceName "${spec.serviceName}" is not a headless Service (clusterIP: None)`);
  const portNames = new Set((shard.ports ?? []).map((p) => p.name));
  for (const s of services) {
    if (!selects(s.spec?.selector, s.name === spec.serviceName ? `${set.name}-0` : s.name)) out.push(`Service ${s.name} selects no shard pod`);
    for (const p of s.spec?.ports ?? []) if (typeof p.targetPort === 'string' && !portNames.has(p.targetPort)) out.push(`Service ${s.name} targets port "${p.targetPort}" that the shard does not name`);
  }
  if (shard.securityContext?.privileged !== true) out.push('the shard is not privileged: creating and entering network namespaces needs it');
  // The shard's flags, with the env the pod gets ($(POD_NAME) expanded), must be ones nslab serve takes.
  const hostsByPod = new Map<string, string[]>();
  for (let i = 0; i < replicas; i += 1) {
    const pod = `${set.name}-${i}`;
    const args = (shard.args ?? []).map((a) => a.replace(/\$\(POD_NAME\)/g, pod));
    if (!args.includes('--classroom')) out.push('the shard does not run --classroom');
    try {
      const config = parseServeArgs(args, { NSLAB_TOKEN: 'k8sCheckTokenQ7x2Rb9Vn4Lm8Zt3' });
      if (config.host !== '0.0.0.0') out.push(`shard ${pod} listens on ${config.host}, which the Service cannot reach: use --host 0.0.0.0`);
      hostsByPod.set(pod, config.publicHosts ?? []);
    } catch (err) {
      out.push(`shard ${pod}: nslab serve refuses its flags: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!services.some((s) => s.name !== spec.serviceName && selects(s.spec?.selector, pod))) out.push(`shard ${pod} has no Service of its own`);
  }
  for (const ingress of of<IngressSpec>('Ingress')) {
    const tlsHosts = new Set((ingress.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
    for (const rule of ingress.spec?.rules ?? []) {
      if (rule.host !== undefined && !tlsHosts.has(rule.host)) out.push(`Ingress host ${rule.host} is served without TLS`);
      for (const path of rule.http?.paths ?? []) {
        const target = path.backend.service;
        const svc = services.find((s) => s.name === target?.name);
        if (!svc || !target) { out.push(`Ingress host ${rule.host ?? '*'} routes to a Service "${target?.name ?? ''}" that does not exist`); continue; }
        if (!(svc.spec?.ports ?? []).some((p) => (target.port.name !== undefined ? p.name === target.port.name : p.port === target.port.number))) out.push(`Ingress host ${rule.host ?? '*'} routes to a port Service ${svc.name} does not have`);
        const pod = [...hostsByPod.keys()].find((p) => selects(svc.spec?.selector, p));
        if (pod && rule.host !== undefined && !(hostsByPod.get(pod) ?? []).includes(rule.host)) out.push(`Ingress host ${rule.host} reaches shard ${pod}, which is not started with --public-host or --public-url of ${rule.host}`);
      }
    }
  }
  return out;
}

/** A deep copy of the manifests with one document changed. */
function broken(kind: string, change: (doc: Doc) => void, name?: string): Array<{ file: string; doc: Doc }> {
  const docs = structuredClone(load());
  const target = docs.find((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name));
  assert.ok(target, `no ${kind} ${name ?? ''} to break`);
  change(target.doc);
  return docs;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('hold a Namespace, a Secret, a StatefulSet of shards, Services and an Ingress, all valid against the schemas and tied together', () => {
    const docs = load();
    assert.deepEqual([...new Set(docs.map((d) => d.doc.kind))].sort(), ['Ingress', 'Namespace', 'Secret', 'Service', 'StatefulSet']);
    assert.deepEqual(problems(docs), []);
  });

  it('a manifest that breaks the schema is refused', () => {
    const port = problems(broken('StatefulSet', (d) => { (d as { spec: SetSpec }).spec.template.spec.containers[0]!.ports![0]!.containerPort = 'http' as never; }));
    assert.ok(port.some((p) => /containerPort must be integer/.test(p)), port.join('\n'));
    const noSelector = problems(broken('StatefulSet', (d) => { delete (d as { spec: { selector?: unknown } }).spec.selector; }));
    assert.ok(noSelector.some((p) => /must have required property '?selector'?/.test(p)), noSelector.join('\n'));
    const pathType = problems(broken('Ingress', (d) => { delete (d as { spec: { rules: Array<{ http: { paths: Array<{ pathType?: string }> } }> } }).spec.rules[0]!.http.paths[0]!.pathType; }));
    assert.ok(pathType.some((p) => /pathType/.test(p)), pathType.join('\n'));
    const kind = problems(broken('Service', (d) => { d.apiVersion = 'v2'; }, 'nslab-1'));
    assert.ok(kind.some((p) => /no schema for v2 Service/.test(p)), kind.join('\n'));
  });

  it('manifests that are valid alone but do not fit together are refused', () => {
    const route = problems(broken('Ingress', (d) => { (d as { spec: IngressSpec }).spec.rules![1]!.http!.paths[0]!.backend.service!.name = 'nslab-9'; }));
    assert.ok(route.some((p) => /Service "nslab-9" that does not exist/.test(p)), route.join('\n'));
    const selector = problems(broken('Service', (d) => { (d as { spec: ServiceSpec }).spec.selector!['app.kubernetes.io/component'] = 'web'; }, 'nslab-2'));
    assert.ok(selector.some((p) => /Service nslab-2 selects no shard pod/.test(p)), selector.join('\n'));
    const flag = problems(broken('StatefulSet', (d) => { (d as { spec: SetSpec }).spec.template.spec.containers[0]!.args = ['--classroom', '--host', '0.0.0.0', '--tls-cert', '/x.pem']; }));
    assert.ok(flag.some((p) => /nslab serve refuses its flags: --tls-cert and --tls-key go together/.test(p)), flag.join('\n'));
    const host = problems(broken('StatefulSet', (d) => { const args = (d as { spec: SetSpec }).spec.template.spec.containers[0]!.args!; args[args.length - 1] = 'https://lab.school.example'; }));
    assert.ok(host.some((p) => /not started with --public-host or --public-url of nslab-0\.lab\.school\.example/.test(p)), host.join('\n'));
    const privileged = problems(broken('StatefulSet', (d) => { (d as { spec: SetSpec }).spec.template.spec.containers[0]!.securityContext = {}; }));
    assert.ok(privileged.some((p) => /not privileged/.test(p)), privileged.join('\n'));
    const replicas = problems(broken('StatefulSet', (d) => { (d as { spec: SetSpec }).spec.replicas = 4; }));
    assert.ok(replicas.some((p) => /shard nslab-3 has no Service of its own/.test(p)), replicas.join('\n'));
  });
});
