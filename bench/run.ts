// `npm run bench -- <name...>`: runs the named benchmarks (all when none is named). Figures are
// ratios against a baseline measured in the same run, because these machines are shared.
import { runAuditBench } from './audit.bench';
import { runConsentBench } from './consent.bench';
import { runE2eBench } from './e2e.bench';
import { runGatewayBench } from './gateway.bench';
import { runTransportBench } from './transport.bench';

const BENCHES: Record<string, () => Promise<void>> = {
  transport: runTransportBench,
  consent: runConsentBench,
  gateway: runGatewayBench,
  audit: runAuditBench,
  e2e: runE2eBench,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const selected = names.length > 0 ? names : Object.keys(BENCHES);
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench)
      throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.stdout.write(`\n== ${name}\n`);
    await bench();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
