/** Layer rules from STYLE.md, checked on every `npm run lint`. */
module.exports = {
  forbidden: [
    {
      name: 'no-app-to-app',
      comment: 'Services talk through events and HTTP only; an app never imports another app.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-not-to-apps',
      comment: 'The shared library never depends on a service.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'pure-core',
      comment:
        'Domain (decide/evolve) and policy (evaluate) import no framework or infrastructure.',
      severity: 'error',
      from: { path: '^apps/[^/]+/src/.*(domain|policy)/' },
      to: {
        path: [
          '^node_modules/(@nestjs|typeorm|kafkajs|pg|fastify|passport)',
          '^apps/[^/]+/src/.*(infrastructure|persistence|migrations)/',
          '^libs/common/src/(database|transport|service|http|auth|observability)/',
        ],
      },
    },
    {
      name: 'common-through-barrel',
      comment: 'Apps import libs/common only through its one barrel (#common).',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: '^libs/common/src/', pathNot: '^libs/common/src/index\\.ts$' },
    },
    {
      name: 'no-production-to-test',
      comment: 'Production code never imports test support.',
      severity: 'error',
      from: { path: '^(apps|libs|scripts)/', pathNot: '\\.(int-|e2e-)?spec\\.ts$' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code, unless it is an entry point.',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.(int-|e2e-)?spec\\.ts$',
          '\\.d\\.ts$',
          '(^|/)(main|migrate|rebuild)\\.ts$',
          '^scripts/[^/]+\\.ts$',
          '^bench/',
          '^test/(fixtures|support)/',
          '(^|/)\\.[^/]+\\.(js|cjs|mjs|json)$',
          '\\.config\\.(js|ts)$',
        ],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
