// Rules the rendered Kubernetes manifests must keep (issue 7), as functions returning problems
// so that a test can also show each rule catching a broken manifest.
import { ConfigError, loadConfig, type CommonEnv } from '#common';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
  };
  spec?: unknown;
  data?: Record<string, string>;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: {
    name: string;
    emptyDir?: object;
    secret?: { secretName: string };
    configMap?: { name: string };
  }[];
  securityContext?: SecurityContext & { fsGroup?: number };
  automountServiceAccountToken?: boolean;
}

export interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector?: LabelSelector;
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

/** Objects of one kind, typed by the caller (their schemas are validated separately). */
export function ofKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

export function named<T extends K8sObject>(objects: T[], name: string): T | undefined {
  return objects.find((o) => o.metadata.name === name);
}

function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/**
 * Hardening and operability of a Deployment or Job: probes on the health routes (Deployments),
 * requests and limits, non-root, read-only root filesystem with a writable /tmp, no
 * capabilities, RuntimeDefault seccomp, and an image that names a version.
 */
export function workloadProblems(workload: Workload): string[] {
  const id = `${workload.kind}/${workload.metadata.name}`;
  const pod = workload.spec?.template?.spec;
  if (!pod) return [`${id}: no pod template`];
  const problems: string[] = [];
  const podSecurity = pod.securityContext ?? {};
  if (pod.automountServiceAccountToken !== false) {
    problems.push(`${id}: mounts a service account token it does not need`);
  }
  for (const c of allContainers(pod)) {
    const at = `${id} container ${c.name}`;
    const security = { ...podSecurity, ...(c.securityContext ?? {}) };
    if (security.runAsNonRoot !== true) problems.push(`${at}: runAsNonRoot is not true`);
    if (security.runAsUser === 0) problems.push(`${at}: runAsUser is 0`);
    if (c.securityContext?.readOnlyRootFilesystem !== true) {
      problems.push(`${at}: readOnlyRootFilesystem is not true`);
    }
    if (c.securityContext?.allowPrivilegeEscalation !== false) {
      problems.push(`${at}: allowPrivilegeEscalation is not false`);
    }
    if (c.securityContext?.privileged) problems.push(`${at}: privileged`);
    if (!c.securityContext?.capabilities?.drop?.includes('ALL')) {
      problems.push(`${at}: capabilities are not dropped (drop: [ALL])`);
    }
    if ((c.securityContext?.capabilities?.add ?? []).length > 0) {
      problems.push(`${at}: adds capabilities`);
    }
    if (security.seccompProfile?.type !== 'RuntimeDefault') {
      problems.push(`${at}: seccompProfile is not RuntimeDefault`);
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (c.resources?.[kind]?.[resource] === undefined) {
          problems.push(`${at}: no resources.${kind}.${resource}`);
        }
      }
    }
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    const tmpVolume = pod.volumes?.find((v) => v.name === tmp?.name);
    if (!tmpVolume?.emptyDir) problems.push(`${at}: no writable /tmp (emptyDir volume)`);
    if (!c.image || /:latest$/.test(c.image) || !/[:@]/.test(c.image.split('/').pop() ?? '')) {
      problems.push(`${at}: image "${c.image}" names no version (tag or digest)`);
    }
    if (workload.kind === 'Deployment') {
      problems.push(...probeProblems(at, c));
    }
  }
  return problems;
}

function probeProblems(at: string, c: Container): string[] {
  const problems: string[] = [];
  const expected = { readinessProbe: '/health/ready', livenessProbe: '/health/live' } as const;
  for (const [probe, path] of Object.entries(expected) as [keyof typeof expected, string][]) {
    const get = c[probe]?.httpGet;
    if (!get) {
      problems.push(`${at}: no ${probe}`);
      continue;
    }
    if (get.path !== path) problems.push(`${at}: ${probe} checks ${get.path}, not ${path}`);
    const declared = (c.ports ?? []).some(
      (p) => p.name === get.port || p.containerPort === get.port,
    );
    if (!declared) problems.push(`${at}: ${probe} probes port ${get.port}, which is not declared`);
  }
  return problems;
}

/** The environment a container gets, with where each variable comes from. */
export interface ContainerEnv {
  /** Variables with a known value (literal or from a rendered ConfigMap). */
  values: Record<string, string>;
  /** Variables taken from a Secret: present, value unknown here. */
  fromSecrets: Set<string>;
  problems: string[];
}

/** Resolves env and envFrom against the rendered ConfigMaps (Secrets are never rendered). */
export function containerEnv(container: Container, configMaps: K8sObject[]): ContainerEnv {
  const result: ContainerEnv = { values: {}, fromSecrets: new Set(), problems: [] };
  const configMap = (name: string): Record<string, string> | undefined => {
    const found = configMaps.find((m) => m.metadata.name === name);
    if (!found) result.problems.push(`container ${container.name}: no ConfigMap ${name}`);
    return found?.data;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(result.values, configMap(source.configMapRef.name));
    if (source.secretRef) {
      result.problems.push(
        `container ${container.name}: envFrom Secret ${source.secretRef.name} hides which variables it sets; use secretKeyRef`,
      );
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) result.values[variable.name] = variable.value;
    else if (variable.valueFrom?.secretKeyRef) result.fromSecrets.add(variable.name);
    else if (variable.valueFrom?.configMapKeyRef) {
      const ref = variable.valueFrom.configMapKeyRef;
      const value = configMap(ref.name)?.[ref.key];
      if (value === undefined) {
        result.problems.push(
          `container ${container.name}: ConfigMap ${ref.name} has no ${ref.key}`,
        );
      } else result.values[variable.name] = value;
    }
  }
  return result;
}

export type EnvSchema = new () => CommonEnv;

/** Variables named in a ConfigError for `env`, or none when it is a runnable configuration. */
function configErrors(
  schema: EnvSchema,
  env: Record<string, string>,
): { variable: string; problem: string }[] {
  try {
    loadConfig(schema, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

/**
 * The variables a service cannot start without, read from its env class: those missing from an
 * empty environment, and those missing once NODE_ENV=production (a token key source).
 */
export function requiredVariables(schema: EnvSchema): string[] {
  const missing = configErrors(schema, {}).map((p) => p.variable);
  const production = configErrors(schema, {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://required-variables/probe',
  }).map((p) => p.variable);
  return [...new Set([...missing, ...production])].sort();
}

/**
 * Problems the service's own configuration loader finds in an environment. Variables from
 * Secrets count as present; their values cannot be checked here.
 */
export function environmentProblems(
  schema: EnvSchema,
  env: Record<string, string>,
  fromSecrets: ReadonlySet<string> = new Set(),
): string[] {
  const withSecrets = { ...env };
  for (const name of fromSecrets) withSecrets[name] = withSecrets[name] ?? '(from a Secret)';
  return configErrors(schema, withSecrets)
    .filter((p) => !fromSecrets.has(p.variable))
    .map((p) => `${p.variable}: ${p.problem}`);
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+:[^/@\s]+@/i;

/**
 * Secrets are referenced, never written: no Secret objects, no secret-looking literals in env
 * or ConfigMaps, no credentials inside URLs.
 */
export function secretProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata.name}`;
    if (object.kind === 'Secret') problems.push(`${id}: Secret objects do not belong in k8s/`);
    for (const [key, value] of Object.entries(object.data ?? {})) {
      if (SECRET_NAME.test(key) || URL_WITH_PASSWORD.test(value)) {
        problems.push(`${id}: ${key} looks like a secret; reference a Secret instead`);
      }
    }
    if (object.kind === 'Deployment' || object.kind === 'Job') {
      for (const c of allContainers((object as Workload).spec.template.spec)) {
        for (const variable of c.env ?? []) {
          const value = variable.value ?? '';
          if (
            variable.value !== undefined &&
            (SECRET_NAME.test(variable.name) || URL_WITH_PASSWORD.test(value))
          ) {
            problems.push(`${id}: env ${variable.name} has a literal secret value`);
          }
        }
      }
    }
  }
  return problems;
}

export function selects(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}

export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: {
      from?: {
        podSelector?: LabelSelector;
        namespaceSelector?: LabelSelector;
        ipBlock?: object;
      }[];
      ports?: { port?: number | string; protocol?: string }[];
    }[];
  };
}

export interface PodEndpoint {
  namespace: string;
  labels: Record<string, string>;
  /** Named container ports, for policies that name their port. */
  ports?: { name?: string; containerPort: number }[];
}

export interface Peer {
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * Whether NetworkPolicies admit a connection from `source` to `target` on `port` (Kubernetes
 * semantics: a pod no policy selects accepts everything; otherwise any rule may admit).
 */
export function admits(
  policies: NetworkPolicy[],
  source: Peer,
  target: PodEndpoint,
  port: number,
): boolean {
  const applying = policies.filter(
    (p) =>
      (p.metadata.namespace ?? target.namespace) === target.namespace &&
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      (Object.keys(p.spec.podSelector ?? {}).length === 0 ||
        selects(p.spec.podSelector, target.labels)),
  );
  if (applying.length === 0) return true;
  return applying.some((policy) =>
    (policy.spec.ingress ?? []).some((rule) => {
      const portOk =
        !rule.ports ||
        rule.ports.length === 0 ||
        rule.ports.some((p) => {
          if (p.port === undefined || p.port === port) return true;
          return (target.ports ?? []).some((c) => c.name === p.port && c.containerPort === port);
        });
      const peerOk =
        !rule.from ||
        rule.from.length === 0 ||
        rule.from.some((peer) => {
          if (peer.ipBlock) return false;
          const namespaceOk = peer.namespaceSelector
            ? matchesAll(peer.namespaceSelector, source.namespaceLabels)
            : source.namespace === (policy.metadata.namespace ?? target.namespace);
          const podOk = peer.podSelector ? matchesAll(peer.podSelector, source.labels) : true;
          return namespaceOk && podOk;
        });
      return portOk && peerOk;
    }),
  );
}

/** A selector where `{}` selects everything (as in NetworkPolicy peers). */
function matchesAll(selector: LabelSelector, labels: Record<string, string>): boolean {
  return Object.keys(selector).length === 0 || selects(selector, labels);
}
