import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// Compiled (a bench imports the test harness from dist/), this file already lives under dist/.
export const DIST = __filename.endsWith('.js')
  ? join(__dirname, '..', '..')
  : join(__dirname, '..', '..', 'dist');

/** Starts a compiled script and resolves once it prints `readyLine` on stdout. */
export function startScript(
  script: string,
  env: Record<string, string>,
  readyLine: string,
  timeoutMs = 20000,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(DIST, script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} not ready in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(readyLine)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${stderr}`));
    });
  });
}

/** Kills a child and waits until the operating system has reaped it. */
export function killAndWait(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
