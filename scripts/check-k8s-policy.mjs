#!/usr/bin/env node
// Policy check for rendered Kubernetes manifests (the output of `kustomize build`).
//
//   node scripts/check-k8s-policy.mjs rendered.json [more.json|more.yaml ...]
//
// Input: JSON (an array of objects, a List with items, or one object) — scripts/check-k8s.sh converts
// kustomize's YAML with python3/PyYAML — or YAML, read with the `yaml` npm package when it resolves,
// else converted through python3. Every Deployment must have, on each container: readiness and liveness
// probes, cpu+memory requests and a memory limit, an effective runAsNonRoot with a non-zero runAsUser,
// readOnlyRootFilesystem, allowPrivilegeEscalation false and capabilities drop ALL; and, in its
// namespace, a PodDisruptionBudget and a NetworkPolicy whose selectors match its pods.
// Exits 1 listing every violation, 2 on unreadable input, 0 otherwise.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check-k8s-policy.mjs <rendered.json|rendered.yaml> ...');
  process.exit(2);
}

/** Parses one file into a flat list of Kubernetes objects. */
function load(file) {
  const text = readFileSync(file, 'utf8');
  let docs;
  if (/\.json$/i.test(file)) {
    docs = JSON.parse(text);
  } else {
    docs = parseYaml(text, file);
  }
  const list = Array.isArray(docs) ? docs : [docs];
  return list.flatMap((d) => (d && d.kind === 'List' && Array.isArray(d.items) ? d.items : [d])).filter(Boolean);
}

/** YAML through the `yaml` package if it is installed, else python3 + PyYAML. */
function parseYaml(text, file) {
  try {
    const require = createRequire(import.meta.url);
    const YAML = require('yaml');
    return YAML.parseAllDocuments(text).map((d) => d.toJSON());
  } catch (err) {
    if (err && err.code !== 'MODULE_NOT_FOUND') throw err;
  }
  const py = 'import json,sys,yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)';
  try {
    return JSON.parse(execFileSync('python3', ['-c', py], { input: text, encoding: 'utf8' }));
  } catch (err) {
    throw new Error(`Cannot read YAML "${file}": neither the yaml npm package nor python3 with PyYAML is available`);
  }
}

/** True when a LabelSelector (matchLabels + matchExpressions) selects the given labels. */
function selects(selector, labels) {
  if (!selector) return false;
  const ml = selector.matchLabels ?? {};
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const nsOf = (o) => o.metadata?.namespace ?? 'default';
const idOf = (o) => `${o.kind} ${nsOf(o)}/${o.metadata?.name ?? '<unnamed>'}`;

const violations = [];
let checked = 0;
// Each file is one render (one overlay): a PDB or NetworkPolicy only counts for Deployments of its own file.
for (const file of files) {
  let objects;
  try {
    objects = load(file);
  } catch (err) {
    console.error(`[policy] ${err.message}`);
    process.exit(2);
  }
  checkRender(objects, (msg) => violations.push(`${file}: ${msg}`));
  checked += objects.filter((o) => o.kind === 'Deployment').length;
}

/** Checks every Deployment of one render against the rules in the header. */
function checkRender(objects, report) {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const netpols = objects.filter((o) => o.kind === 'NetworkPolicy');
  for (const d of deployments) checkDeployment(d, pdbs, netpols, (msg) => report(`${idOf(d)}: ${msg}`));
}

/** Checks one Deployment: its containers, and the PDB and NetworkPolicy that must select its pods. */
function checkDeployment(d, pdbs, netpols, bad) {
  const pod = d.spec?.template?.spec ?? {};
  const podLabels = d.spec?.template?.metadata?.labels ?? {};
  const podSc = pod.securityContext ?? {};
  const containers = pod.containers ?? [];
  const initContainers = pod.initContainers ?? [];
  if (containers.length === 0) bad('has no containers');

  for (const [c, isInit] of [...containers.map((c) => [c, false]), ...initContainers.map((c) => [c, true])]) {
    const cid = `${isInit ? 'init container' : 'container'} "${c.name}"`;
    const sc = c.securityContext ?? {};
    if (!isInit) {
      if (!c.readinessProbe) bad(`${cid} has no readinessProbe`);
      if (!c.livenessProbe) bad(`${cid} has no livenessProbe`);
    }
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (req.cpu === undefined) bad(`${cid} has no cpu request`);
    if (req.memory === undefined) bad(`${cid} has no memory request`);
    if (lim.memory === undefined) bad(`${cid} has no memory limit`);
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const runAsUser = sc.runAsUser ?? podSc.runAsUser;
    if (runAsNonRoot !== true) bad(`${cid} does not set runAsNonRoot: true (container or pod securityContext)`);
    if (typeof runAsUser !== 'number' || runAsUser === 0) bad(`${cid} has no non-zero runAsUser`);
    if (sc.readOnlyRootFilesystem !== true) bad(`${cid} does not set readOnlyRootFilesystem: true`);
    if (sc.allowPrivilegeEscalation !== false) bad(`${cid} does not set allowPrivilegeEscalation: false`);
    if (sc.privileged === true) bad(`${cid} is privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) bad(`${cid} does not drop ALL capabilities`);
  }

  const ns = nsOf(d);
  if (!pdbs.some((p) => nsOf(p) === ns && selects(p.spec?.selector, podLabels))) {
    bad('no PodDisruptionBudget in its namespace selects its pods');
  }
  if (!netpols.some((n) => nsOf(n) === ns && selects(n.spec?.podSelector ?? {}, podLabels))) {
    bad('no NetworkPolicy in its namespace selects its pods');
  }
}

if (violations.length > 0) {
  console.error(`[policy] FAILED: ${violations.length} violation(s) in ${files.join(', ')}`);
  for (const v of violations) console.error(`  - ${v}`);
  process.exit(1);
}
console.log(`[policy] ok: ${checked} Deployment(s) checked in ${files.join(', ')}, 0 violations`);
