// Offline schema validation of rendered manifests. Kubernetes kinds, the prometheus-operator
// ServiceMonitor and CloudNativePG's Cluster and ScheduledBackup are checked with the
// kubernetes-models packages (generated from the Kubernetes OpenAPI document and the operators'
// CRDs). No npm package carries Strimzi's CRDs, so Kafka, KafkaNodePool and KafkaTopic are
// checked against the minimal schemas below: the fields these manifests use, with the types,
// enums and bounds of Strimzi's kafka.strimzi.io/v1 CRDs, and nothing else allowed (the API
// server would silently drop an unknown field).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import type { K8sObject } from './manifest-rules';

const root = join(__dirname, '..', '..');

/** apiVersion/kind → the kubernetes-models module exporting a model class of that kind. */
const MODELS: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
  'autoscaling/v2/HorizontalPodAutoscaler':
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'monitoring.coreos.com/v1/ServiceMonitor':
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'postgresql.cnpg.io/v1/Cluster':
    '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster',
  'postgresql.cnpg.io/v1/ScheduledBackup':
    '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup',
};

// kubernetes-models ships ES modules only, which jest's CommonJS runtime cannot load; a plain
// Node process validates instead (one process for all objects).
const VALIDATOR = `
import { readFileSync } from 'node:fs';
const input = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const { module, kind, object } of input) {
  try {
    const models = await import(module);
    new models[kind](object).validate();
    results.push(null);
  } catch (error) {
    results.push(String(error && error.message));
  }
}
process.stdout.write(JSON.stringify(results));
`;

const quantity = {
  anyOf: [
    { type: 'integer' },
    {
      type: 'string',
      pattern:
        '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    },
  ],
};
const resources = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: quantity },
    limits: { type: 'object', additionalProperties: quantity },
  },
};
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: { type: 'array', items: { type: 'object' } },
  },
};
const metadata = (clusterLabel: boolean): object => ({
  type: 'object',
  required: ['name', ...(clusterLabel ? ['labels'] : [])],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    namespace: { type: 'string' },
    labels: {
      type: 'object',
      additionalProperties: { type: 'string' },
      // The operator ignores node pools and topics without the cluster they belong to.
      ...(clusterLabel ? { required: ['strimzi.io/cluster'] } : {}),
    },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
});
const resource = (kind: string, spec: object, required: string[], clusterLabel: boolean) => ({
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'kafka.strimzi.io/v1' },
    kind: { const: kind },
    metadata: metadata(clusterLabel),
    spec: { type: 'object', additionalProperties: false, required, properties: spec },
  },
});
const operator = {
  type: 'object',
  additionalProperties: false,
  properties: {
    watchedNamespace: { type: 'string' },
    reconciliationIntervalMs: { type: 'integer', minimum: 0 },
    resources,
  },
};
const volume = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    id: { type: 'integer', minimum: 0 },
    type: { enum: ['ephemeral', 'persistent-claim'] },
    size: { type: 'string' },
    class: { type: 'string' },
    deleteClaim: { type: 'boolean' },
    kraftMetadata: { enum: ['shared'] },
  },
};

/** Strimzi kinds: minimal schemas of the fields used, after the kafka.strimzi.io/v1 CRDs. */
export const STRIMZI_SCHEMAS: Record<string, object> = {
  Kafka: resource(
    'Kafka',
    {
      kafka: {
        type: 'object',
        additionalProperties: false,
        required: ['listeners'],
        properties: {
          version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
          metadataVersion: { type: 'string' },
          listeners: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'port', 'type', 'tls'],
              properties: {
                name: { type: 'string', pattern: '^[a-z0-9]{1,11}$' },
                port: { type: 'integer', minimum: 9092 },
                type: {
                  enum: [
                    'internal',
                    'route',
                    'tlsroute',
                    'loadbalancer',
                    'nodeport',
                    'ingress',
                    'cluster-ip',
                  ],
                },
                tls: { type: 'boolean' },
                networkPolicyPeers: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      podSelector: labelSelector,
                      namespaceSelector: labelSelector,
                    },
                  },
                },
              },
            },
          },
          config: { type: 'object' },
        },
      },
      entityOperator: {
        type: 'object',
        additionalProperties: false,
        properties: { topicOperator: operator, userOperator: operator },
      },
    },
    ['kafka'],
    false,
  ),
  KafkaNodePool: resource(
    'KafkaNodePool',
    {
      replicas: { type: 'integer', minimum: 0 },
      roles: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { enum: ['controller', 'broker'] },
      },
      storage: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { enum: ['ephemeral', 'persistent-claim', 'jbod'] },
          size: { type: 'string' },
          class: { type: 'string' },
          deleteClaim: { type: 'boolean' },
          volumes: { type: 'array', items: volume },
        },
      },
      resources,
    },
    ['replicas', 'storage', 'roles'],
    true,
  ),
  KafkaTopic: resource(
    'KafkaTopic',
    {
      topicName: { type: 'string' },
      partitions: { type: 'integer', minimum: 1 },
      replicas: { type: 'integer', minimum: 1, maximum: 32767 },
      config: { type: 'object' },
    },
    [],
    true,
  ),
};

function describeAjv(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('; ');
}

/**
 * Validates every object against its kind's schema; one problem per invalid object, naming it.
 * A kind with no known schema is a problem too, so nothing renders unchecked.
 */
export function schemaProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const ajv = new Ajv({ allErrors: true });
  const forModels: { module: string; kind: string; object: K8sObject }[] = [];
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata?.name}`;
    if (object.apiVersion?.startsWith('kafka.strimzi.io/')) {
      const schema = STRIMZI_SCHEMAS[object.kind];
      if (!schema) problems.push(`${id}: no schema for ${object.apiVersion} ${object.kind}`);
      else if (!ajv.validate(schema, object)) problems.push(`${id}: ${describeAjv(ajv.errors)}`);
      continue;
    }
    const module = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!module) problems.push(`${id}: no schema for ${object.apiVersion} ${object.kind}`);
    else forModels.push({ module, kind: object.kind, object });
  }
  if (forModels.length > 0) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', VALIDATOR], {
      cwd: root,
      input: JSON.stringify(forModels),
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`schema validator failed: ${run.stderr}`);
    const results = JSON.parse(run.stdout) as (string | null)[];
    results.forEach((error, index) => {
      const { object } = forModels[index];
      if (error) problems.push(`${object.kind}/${object.metadata?.name}: ${error}`);
    });
  }
  return problems;
}
