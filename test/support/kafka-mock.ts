import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Whether Debian's kcat (which hosts the librdkafka mock cluster) is installed. */
export function kcatInstalled(): boolean {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * `describe` for Kafka tests: without kcat they are skipped with a warning on a developer's
 * machine, but under CI=true they run and fail, so a CI without Kafka cannot pass silently.
 */
export function describeKafka(name: string, body: () => void): void {
  const run = kcatInstalled() || process.env.CI === 'true';
  if (!run)
    process.stderr.write(`\n  kcat not installed: skipping "${name}" (apt-get install kcat)\n`);
  (run ? describe : describe.skip)(name, body);
}

export interface KafkaMock {
  brokers: string[];
  process: ChildProcess;
  /** Freezes the brokers (SIGSTOP): connections hang, as in a network partition or a hung broker. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Starts a 3-broker librdkafka mock cluster; real Kafka protocol on loopback. */
export function startKafkaMock(timeoutMs = 10_000): Promise<KafkaMock> {
  if (!kcatInstalled()) {
    return Promise.reject(
      new Error('kcat is not installed: apt-get install kcat (Kafka tests need its mock cluster)'),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kcat',
      [
        '-b',
        'localhost:1',
        '-X',
        'test.mock.num.brokers=3',
        '-X',
        'debug=mock',
        '-C',
        '-t',
        'keepalive',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat mock cluster did not start: ${stderr.slice(0, 500)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString();
      const match = /bootstrap\.servers=(\S+)/.exec(stderr);
      if (!match) return;
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.stderr?.resume(); // keep draining the debug log so kcat never blocks on a full pipe
      const brokers = match[1].split(',');
      resolve({
        brokers,
        process: child,
        pause: () => child.kill('SIGSTOP'),
        resume: () => child.kill('SIGCONT'),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGCONT');
            child.kill('SIGKILL');
          }),
      });
    };
    child.stderr?.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
