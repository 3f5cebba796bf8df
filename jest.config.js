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
  // NestJS 12 ships ES modules only; jest's CommonJS runtime needs them compiled.
  '^.+\\.m?js$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
      module: { type: 'commonjs', ignoreDynamic: false },
    },
  ],
};
const shared = {
  transform,
  moduleNameMapper: { '^#common$': '<rootDir>/libs/common/src/index.ts' },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
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
