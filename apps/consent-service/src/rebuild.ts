// `npm run consent:rebuild`: drops the consent projection and rebuilds it from the event log.
import 'reflect-metadata';
import { createServiceDataSource, loadConfig, withLocalDatabase } from '#common';
import { ConsentServiceEnv, environment } from './config/env';
import { ConsentServiceDefinition } from './consent-service.definition';
import { rebuildProjection } from './consent/stream/rebuild-projection';

function progressBar(done: number, total: number, started: number): string {
  const width = 30;
  const share = total === 0 ? 1 : done / total;
  const filled = Math.round(share * width);
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(done / seconds) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-GB')}/${total.toLocaleString('en-GB')} events ${rate.toLocaleString('en-GB')}/s`;
}

async function main(): Promise<void> {
  const config = loadConfig(ConsentServiceEnv, { PORT: '0', ...withLocalDatabase(environment()) });
  const ds = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: ConsentServiceDefinition.schema,
    migrations: [],
    // One connection reads the log while the other writes the projection.
    poolSize: 2,
    applicationName: 'consent-rebuild',
  });
  await ds.initialize();
  const started = Date.now();
  let lastShare = -1;
  const tty = process.stderr.isTTY;
  const result = await rebuildProjection(ds, (done, total) => {
    const share = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (tty) process.stderr.write(`\r${progressBar(done, total, started)}`);
    else if (share >= lastShare + 10 || done === total) {
      lastShare = share;
      process.stderr.write(`${progressBar(done, total, started)}\n`);
    }
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(
    `rebuilt the consent projection: ${result.events} events, ${result.subjects} people, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  await ds.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `consent:rebuild failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
