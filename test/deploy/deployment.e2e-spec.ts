// Deployment artefacts (issue 7), checked without a container engine or a cluster: the
// Dockerfile is parsed and linted, the compose file is read as Compose would, and the kustomize
// overlays are rendered with `kubectl kustomize` and validated against the Kubernetes and
// operator schemas and the rules below. Each service's required configuration is read from its
// env class at test time, so a new required variable fails here until it is deployed.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TOPIC_NAMES } from '#common';
import { AuditServiceEnv } from '../../apps/audit-service/src/config/env';
import { ConsentServiceEnv } from '../../apps/consent-service/src/config/env';
import { SharingGatewayEnv } from '../../apps/sharing-gateway/src/config/env';
import {
  commandLine,
  dependencies,
  parseCompose,
  serviceEnvironment,
  type ComposeFile,
} from './compose-rules';
import { command, dockerfileProblems, effective, parseDockerfile } from './dockerfile-rules';
import {
  admits,
  containerEnv,
  environmentProblems,
  named,
  ofKind,
  requiredVariables,
  secretProblems,
  selects,
  workloadProblems,
  type EnvSchema,
  type K8sObject,
  type LabelSelector,
  type NetworkPolicy,
  type Peer,
  type Workload,
} from './manifest-rules';
import { schemaProblems } from './schema-validation';

jest.setTimeout(60_000);

const root = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Every service and its configuration class; the first test keeps this in step with apps/. */
const SERVICES: Record<string, EnvSchema> = {
  'consent-service': ConsentServiceEnv,
  'sharing-gateway': SharingGatewayEnv,
  'audit-service': AuditServiceEnv,
};
const APPS = Object.keys(SERVICES);
/** Reachable from outside their namespace; the audit service is not. */
const PUBLIC_APIS = ['sharing-gateway', 'consent-service'];
const MIGRATIONS = 'migrations';

describe('service configuration classes', () => {
  it('cover every app under apps/', () => {
    expect(readdirSync(join(root, 'apps')).sort()).toEqual([...APPS].sort());
  });

  it.each(APPS)('%s requires DATABASE_URL, and a token key source in production', (app) => {
    // The deployment checks below rely on loadConfig naming what is missing.
    expect(requiredVariables(SERVICES[app])).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'JWT_PUBLIC_KEY_FILE']),
    );
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = parseDockerfile(read('docker/Dockerfile'));
  const targets = [
    ...APPS.map((name) => ({ name, healthcheck: true })),
    { name: MIGRATIONS, healthcheck: false },
  ];

  it('pins its bases, runs as non-root with a health check and production dependencies only', () => {
    expect(dockerfileProblems(dockerfile, targets)).toEqual([]);
  });

  it.each(APPS)('has a %s target that starts the service on its port', (app) => {
    expect(command(dockerfile, app)).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    const port = String(new SERVICES[app]().PORT);
    expect(effective(dockerfile, app, 'EXPOSE')?.args).toBe(port);
    expect(effective(dockerfile, app, 'ENV')?.args).toBe(`PORT=${port}`);
  });

  it('has a migrations target running every migrate script', () => {
    const line = command(dockerfile, MIGRATIONS).join(' ');
    expect(line).toContain('set -e');
    for (const app of APPS) expect(line).toContain(app);
    expect(line).toContain('dist/apps/$service/src/migrate.js');
  });

  it('keeps dependencies, builds, local data, keys and env files out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.data', '.git', 'coverage', '*.pem', '.env*']) {
      expect(ignored).toContain(entry);
    }
  });

  it('the rules catch a root user, an unpinned base, a baked-in secret and dev dependencies', () => {
    const bad = parseDockerfile(
      [
        'FROM node:22 AS api',
        'ENV DB_PASSWORD=hunter2',
        'COPY keys/server.pem /app/',
        'RUN npm install',
        'USER root',
        'CMD ["node", "main.js"]',
      ].join('\n'),
    );
    const problems = dockerfileProblems(bad, [{ name: 'api', healthcheck: true }]).join('\n');
    expect(problems).toMatch(/"node:22" is not pinned/);
    expect(problems).toMatch(/ENV DB_PASSWORD would bake a secret/);
    expect(problems).toMatch(/COPY copies key or environment files/);
    expect(problems).toMatch(/USER root is root/);
    expect(problems).toMatch(/not installed with `npm ci --omit=dev`/);
    expect(problems).toMatch(/installs dev dependencies/);
    expect(problems).toMatch(/no HEALTHCHECK/);
  });
});

describe('docker/compose.yaml', () => {
  const compose: ComposeFile = parseCompose(read('docker/compose.yaml'));
  const services = compose.services;
  const stages = parseDockerfile(read('docker/Dockerfile')).stages.map((s) => s.name);
  const env = (name: string): Record<string, string> => serviceEnvironment(services[name]);
  const brokers = Object.keys(services).filter((name) =>
    (env(name).KAFKA_PROCESS_ROLES ?? '').split(',').includes('broker'),
  );
  const topicsStep = Object.keys(services).find((name) =>
    commandLine(services[name]).includes('kafka-topics.sh'),
  );

  it('runs PostgreSQL 17 with a health check', () => {
    expect(services.postgres.image).toMatch(/^postgres:17\.\d+/);
    expect(services.postgres).toHaveProperty('healthcheck');
  });

  it('runs three Kafka brokers in KRaft mode, one cluster id, distinct node ids', () => {
    expect(brokers).toHaveLength(3);
    for (const broker of brokers) {
      const e = env(broker);
      expect(e.KAFKA_PROCESS_ROLES.split(',')).toEqual(
        expect.arrayContaining(['broker', 'controller']),
      );
      expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS.split(',')).toHaveLength(3);
      expect(e.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
      expect(e).toHaveProperty('CLUSTER_ID');
      expect(services[broker].image).toMatch(/:\d+\.\d+\.\d+/);
    }
    expect(new Set(brokers.map((b) => env(b).CLUSTER_ID)).size).toBe(1);
    expect(new Set(brokers.map((b) => env(b).KAFKA_NODE_ID)).size).toBe(3);
  });

  it('creates every topic with replication factor 3 once the brokers are healthy', () => {
    expect(topicsStep).toBeDefined();
    const step = services[topicsStep as string];
    const line = commandLine(step);
    for (const topic of TOPIC_NAMES) expect(line).toContain(topic);
    expect(line).toContain('--create');
    expect(line).toContain('--replication-factor 3');
    for (const broker of brokers) expect(dependencies(step)[broker]).toBe('service_healthy');
  });

  it('migrates once PostgreSQL is healthy, with a configuration every service accepts', () => {
    const migrations = services[MIGRATIONS];
    expect(migrations.build?.target).toBe(MIGRATIONS);
    expect(dependencies(migrations).postgres).toBe('service_healthy');
    for (const app of APPS) {
      // As migrate-cli does: PORT is irrelevant to migrations.
      expect(environmentProblems(SERVICES[app], { PORT: '0', ...env(MIGRATIONS) })).toEqual([]);
    }
  });

  describe.each(APPS)('%s', (app) => {
    it('is built from its Dockerfile target', () => {
      expect(services[app].build?.dockerfile).toBe('docker/Dockerfile');
      expect(services[app].build?.target).toBe(app);
      expect(stages).toContain(app);
    });

    it('starts after the migrations and the topics are in place', () => {
      expect(dependencies(services[app])).toEqual(
        expect.objectContaining({
          [MIGRATIONS]: 'service_completed_successfully',
          [topicsStep as string]: 'service_completed_successfully',
        }),
      );
    });

    it('has every variable its env class requires, with valid values', () => {
      const e = env(app);
      expect(environmentProblems(SERVICES[app], e)).toEqual([]);
      expect(e.DATABASE_URL).toMatch(/@postgres:5432\//);
      const hosts = e.KAFKA_BROKERS.split(',').map((b) => b.split(':')[0]);
      expect(hosts.sort()).toEqual([...brokers].sort());
    });

    it('runs with a read-only root filesystem, a tmpfs /tmp and no capabilities', () => {
      const service = services[app];
      expect(service.read_only).toBe(true);
      expect([service.tmpfs].flat().some((t) => /^\/tmp(:|$)/.test(String(t)))).toBe(true);
      expect(service.cap_drop).toContain('ALL');
    });
  });

  it('the rules catch a service without DATABASE_URL', () => {
    const { DATABASE_URL: _dropped, ...rest } = env('sharing-gateway');
    expect(environmentProblems(SharingGatewayEnv, rest).join('\n')).toMatch(/^DATABASE_URL: /m);
  });
});

// ---- Kubernetes ------------------------------------------------------------------------------

function kubectlInstalled(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

/**
 * `describe` for the kustomize renders: without kubectl they are skipped with a warning on a
 * developer's machine, but under CI=true they run and fail, so CI cannot pass without them.
 */
function describeKubectl(name: string, body: () => void): void {
  const run = kubectlInstalled() || process.env.CI === 'true';
  if (!run) {
    process.stderr.write(
      `\n  kubectl not installed: skipping "${name}" (apt-get install kubernetes-client)\n`,
    );
  }
  (run ? describe : describe.skip)(name, body);
}

function render(overlay: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', join(root, 'k8s', 'overlays', overlay)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw new Error(`kubectl kustomize: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

interface Overlay {
  name: string;
  namespace: string;
  /** Fewest replicas of the gateway and consent API the autoscaler may leave. */
  minApiReplicas: number;
  backups: boolean;
}

const OVERLAYS: Overlay[] = [
  { name: 'dev', namespace: 'care-ledger-dev', minApiReplicas: 1, backups: false },
  { name: 'prod', namespace: 'care-ledger', minApiReplicas: 2, backups: true },
];

describeKubectl('k8s overlays', () => {
  describe.each(OVERLAYS)('$name', (overlay) => {
    let objects: K8sObject[];
    const deployment = (app: string): Workload => {
      const found = named(ofKind<Workload>(objects, 'Deployment'), app);
      if (!found) throw new Error(`no Deployment ${app}`);
      return found;
    };
    const container = (workload: Workload, name: string) => {
      const found = workload.spec.template.spec.containers.find((c) => c.name === name);
      if (!found) throw new Error(`${workload.metadata.name} has no container ${name}`);
      return found;
    };
    const cluster = (): K8sObject => {
      const [found] = ofKind(objects, 'Cluster');
      if (!found) throw new Error('no CloudNativePG Cluster');
      return found;
    };

    beforeAll(() => {
      objects = render(overlay.name);
    });

    it('renders with kubectl kustomize', () => {
      expect(objects.length).toBeGreaterThan(20);
      for (const o of objects) {
        expect(typeof o.apiVersion).toBe('string');
        expect(typeof o.kind).toBe('string');
        expect(typeof o.metadata?.name).toBe('string');
      }
    });

    it('every object validates against the Kubernetes or its operator schema', () => {
      expect(schemaProblems(objects)).toEqual([]);
    });

    it('puts everything in the overlay namespace', () => {
      const [namespace] = ofKind(objects, 'Namespace');
      expect(namespace?.metadata.name).toBe(overlay.namespace);
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(
          `${o.kind}/${o.metadata.name} ${overlay.namespace}`,
        );
      }
    });

    it('hardens every Deployment and Job: probes, requests and limits, non-root, read-only', () => {
      const workloads = [
        ...ofKind<Workload>(objects, 'Deployment'),
        ...ofKind<Workload>(objects, 'Job'),
      ];
      expect(workloads.map((w) => w.metadata.name).sort()).toEqual(
        [...APPS, `ledger-${MIGRATIONS}`].sort(),
      );
      expect(workloads.flatMap(workloadProblems)).toEqual([]);
    });

    it('references Secrets and never writes one', () => {
      expect(secretProblems(objects)).toEqual([]);
    });

    describe.each(APPS)('%s', (app) => {
      it('gets every variable its env class requires, with valid values', () => {
        const c = container(deployment(app), app);
        const env = containerEnv(c, ofKind(objects, 'ConfigMap'));
        expect(env.problems).toEqual([]);
        expect(environmentProblems(SERVICES[app], env.values, env.fromSecrets)).toEqual([]);
        expect(env.values).toHaveProperty('KAFKA_BROKERS');
        expect(env.values.NODE_ENV).toBe('production');
        // Files named by *_FILE variables are mounted.
        for (const [name, path] of Object.entries(env.values)) {
          if (!name.endsWith('_FILE')) continue;
          expect({
            name,
            mounted: (c.volumeMounts ?? []).some((m) => path.startsWith(`${m.mountPath}/`)),
          }).toEqual({ name, mounted: true });
        }
        // PORT is where the probes and the Service point.
        const http = (c.ports ?? []).find((p) => p.name === 'http');
        expect(http?.containerPort).toBe(Number(env.values.PORT));
      });

      it('connects to the CloudNativePG cluster through its app Secret', () => {
        const variable = container(deployment(app), app).env?.find(
          (v) => v.name === 'DATABASE_URL',
        );
        expect(variable?.valueFrom?.secretKeyRef).toEqual({
          name: `${cluster().metadata.name}-app`,
          key: 'uri',
        });
      });

      it('has a Service on its http port', () => {
        const service = named(ofKind(objects, 'Service'), app) as
          | (K8sObject & {
              spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
            })
          | undefined;
        expect(service).toBeDefined();
        const labels = deployment(app).spec.template.metadata?.labels ?? {};
        expect(selects({ matchLabels: service?.spec.selector }, labels)).toBe(true);
        expect(service?.spec.ports.map((p) => p.targetPort)).toContain('http');
      });
    });

    it('runs every migrate script in one Job, configured for every service', () => {
      const job = named(ofKind<Workload>(objects, 'Job'), `ledger-${MIGRATIONS}`);
      expect(job).toBeDefined();
      const [c] = (job as Workload).spec.template.spec.containers;
      expect(c.image).toContain(`/${MIGRATIONS}`);
      const line = [...((c as { command?: string[] }).command ?? [])].join(' ');
      expect(line).toContain('dist/apps/$service/src/migrate.js');
      for (const app of APPS) expect(line).toContain(app);
      const env = containerEnv(c, ofKind(objects, 'ConfigMap'));
      for (const app of APPS) {
        expect(
          environmentProblems(SERVICES[app], { PORT: '0', ...env.values }, env.fromSecrets),
        ).toEqual([]);
      }
    });

    it.each(PUBLIC_APIS)('autoscales %s and bounds its voluntary disruptions', (app) => {
      const hpa = named(ofKind(objects, 'HorizontalPodAutoscaler'), app) as
        | (K8sObject & {
            spec: {
              scaleTargetRef: { kind: string; name: string };
              minReplicas: number;
              maxReplicas: number;
            };
          })
        | undefined;
      expect(hpa?.spec.scaleTargetRef).toEqual(
        expect.objectContaining({ kind: 'Deployment', name: app }),
      );
      expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(overlay.minApiReplicas);
      expect(hpa?.spec.maxReplicas).toBeGreaterThan(hpa?.spec.minReplicas ?? 0);
      // The autoscaler owns the replica count; a fixed one would be reset on every apply.
      expect(deployment(app).spec.replicas).toBeUndefined();
      const pdb = named(ofKind(objects, 'PodDisruptionBudget'), app) as
        (K8sObject & { spec: { selector: LabelSelector } }) | undefined;
      const labels = deployment(app).spec.template.metadata?.labels ?? {};
      expect(selects(pdb?.spec.selector, labels)).toBe(true);
    });

    it('runs a standby audit-service replica where the APIs run two or more', () => {
      // One replica extends the chain at a time; another takes over when it stops.
      const replicas = deployment('audit-service').spec.replicas ?? 1;
      expect(replicas).toBeGreaterThanOrEqual(overlay.minApiReplicas);
    });

    it('lets only the gateway and the consent API be reached from outside the namespace', () => {
      const policies = ofKind<NetworkPolicy>(objects, 'NetworkPolicy');
      const ns = overlay.namespace;
      const peer = (namespace: string, labels: Record<string, string>): Peer => ({
        namespace,
        namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
        labels,
      });
      const outsider = peer('elsewhere', { 'app.kubernetes.io/name': 'curious-app' });
      const igTooling = peer('ig-reporting', { 'app.kubernetes.io/part-of': 'ig-tooling' });
      const neighbour = peer(ns, { 'app.kubernetes.io/name': 'sharing-gateway' });
      const prometheus = peer('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
      const pod = (app: string) => {
        const d = deployment(app);
        return {
          namespace: ns,
          labels: d.spec.template.metadata?.labels ?? {},
          ports: container(d, app).ports,
        };
      };
      const port = (app: string): number => new SERVICES[app]().PORT;
      const postgres = { namespace: ns, labels: { 'cnpg.io/cluster': cluster().metadata.name } };

      for (const app of APPS) {
        expect({ app, outsider: admits(policies, outsider, pod(app), port(app)) }).toEqual({
          app,
          outsider: PUBLIC_APIS.includes(app),
        });
        expect(admits(policies, neighbour, pod(app), port(app))).toBe(true);
        expect(admits(policies, prometheus, pod(app), port(app))).toBe(true);
        expect(admits(policies, outsider, pod(app), 22)).toBe(false);
      }
      expect(admits(policies, igTooling, pod('audit-service'), port('audit-service'))).toBe(true);
      expect(admits(policies, outsider, postgres, 5432)).toBe(false);
      expect(admits(policies, neighbour, postgres, 5432)).toBe(true);
    });

    it('has Prometheus scrape /metrics on every service', () => {
      const [monitor] = ofKind(objects, 'ServiceMonitor') as (K8sObject & {
        spec: { selector: LabelSelector; endpoints: { port: string; path: string }[] };
      })[];
      expect(monitor).toBeDefined();
      expect(monitor.spec.endpoints).toEqual([
        expect.objectContaining({ port: 'http', path: '/metrics' }),
      ]);
      const scraped = ofKind(objects, 'Service')
        .filter((s) => selects(monitor.spec.selector, s.metadata.labels ?? {}))
        .map((s) => s.metadata.name);
      expect(scraped.sort()).toEqual([...APPS].sort());
    });

    it('uses a Strimzi KRaft cluster whose topics have replication factor 3', () => {
      const [kafka] = ofKind(objects, 'Kafka') as (K8sObject & {
        spec: { kafka: { listeners: { port: number; tls: boolean }[] } };
      })[];
      expect(kafka).toBeDefined();
      const pools = ofKind(objects, 'KafkaNodePool') as (K8sObject & {
        spec: { replicas: number; roles: string[] };
      })[];
      for (const pool of pools) {
        expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
      }
      const brokers = pools
        .filter((p) => p.spec.roles.includes('broker'))
        .reduce((n, p) => n + p.spec.replicas, 0);
      const controllers = pools
        .filter((p) => p.spec.roles.includes('controller'))
        .reduce((n, p) => n + p.spec.replicas, 0);
      expect(brokers).toBeGreaterThanOrEqual(3);
      expect(controllers % 2).toBe(1); // a KRaft quorum needs a majority

      const topics = ofKind(objects, 'KafkaTopic') as (K8sObject & {
        spec: { topicName?: string; replicas: number };
      })[];
      for (const topic of TOPIC_NAMES) {
        const found = topics.find((t) => (t.spec.topicName ?? t.metadata.name) === topic);
        expect({ topic, replicas: found?.spec.replicas }).toEqual({ topic, replicas: 3 });
        expect(found?.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
      }

      // KAFKA_BROKERS points at the cluster's bootstrap Service on a plain listener.
      const env = containerEnv(
        container(deployment('sharing-gateway'), 'sharing-gateway'),
        ofKind(objects, 'ConfigMap'),
      );
      const plainPorts = kafka.spec.kafka.listeners.filter((l) => !l.tls).map((l) => l.port);
      for (const broker of env.values.KAFKA_BROKERS.split(',')) {
        const [host, port] = broker.split(':');
        expect(host).toBe(`${kafka.metadata.name}-kafka-bootstrap`);
        expect(plainPorts).toContain(Number(port));
      }
    });

    it('uses a CloudNativePG PostgreSQL 17 cluster, with backups in production', () => {
      const db = cluster() as K8sObject & {
        spec: {
          instances: number;
          imageName: string;
          backup?: { barmanObjectStore?: { destinationPath: string } };
        };
      };
      expect(db.spec.imageName).toMatch(/postgresql:17\.\d+/);
      const schedules = ofKind(objects, 'ScheduledBackup') as (K8sObject & {
        spec: { cluster: { name: string }; method?: string };
      })[];
      if (overlay.backups) {
        expect(db.spec.instances).toBeGreaterThanOrEqual(3);
        expect(db.spec.backup?.barmanObjectStore?.destinationPath).toMatch(/^s3:\/\//);
        expect(schedules.map((s) => s.spec.cluster.name)).toEqual([db.metadata.name]);
        expect(schedules[0].spec.method).toBe('barmanObjectStore');
      }
    });

    it('the rules catch a Deployment without probes, limits or runAsNonRoot', () => {
      const broken = structuredClone(deployment('sharing-gateway'));
      const c = container(broken, 'sharing-gateway');
      delete c.readinessProbe;
      delete c.resources?.limits;
      delete broken.spec.template.spec.securityContext?.runAsNonRoot;
      delete c.securityContext?.runAsNonRoot;
      const problems = workloadProblems(broken).join('\n');
      expect(problems).toMatch(/no readinessProbe/);
      expect(problems).toMatch(/no resources\.limits\.cpu/);
      expect(problems).toMatch(/no resources\.limits\.memory/);
      expect(problems).toMatch(/runAsNonRoot is not true/);
    });

    it('the rules catch a missing variable, a literal secret and an invalid object', () => {
      const broken = structuredClone(deployment('sharing-gateway'));
      const c = container(broken, 'sharing-gateway');
      c.env = (c.env ?? []).filter((v) => v.name !== 'DATABASE_URL');
      const env = containerEnv(c, ofKind(objects, 'ConfigMap'));
      expect(
        environmentProblems(SharingGatewayEnv, env.values, env.fromSecrets).join('\n'),
      ).toMatch(/^DATABASE_URL: /m);

      c.env.push({ name: 'DATABASE_URL', value: 'postgres://ledger:hunter2@db:5432/care_ledger' });
      expect(secretProblems([broken]).join('\n')).toMatch(/DATABASE_URL has a literal secret/);

      const invalid: K8sObject[] = [
        { ...broken, spec: { ...broken.spec, replicas: 'three' } } as K8sObject,
        {
          apiVersion: 'kafka.strimzi.io/v1',
          kind: 'KafkaTopic',
          metadata: { name: 'consent.events', labels: { 'strimzi.io/cluster': 'x' } },
          spec: { replicas: 0, retentionMs: 1 },
        },
      ];
      const problems = schemaProblems(invalid).join('\n');
      expect(problems).toMatch(/Deployment\/sharing-gateway: .*replicas/);
      expect(problems).toMatch(/KafkaTopic\/consent.events: .*replicas/);
      expect(problems).toMatch(/retentionMs/);
    });
  });
});
