// Layers point one way (DESIGN.md §1 and §10): a folder under runtime/ may import its own rank and
// lower ones, never a higher one, and nothing may form a cycle. Run by `npm test` (npm run lint:layers).
// DESIGN §10 puts the services on one rank; here each service has its own, in the order they may
// depend on each other, so that no two service folders can import each other (a folder-level cycle
// that file-level cycle detection cannot see). Webhooks read integrations' secrets through an
// injected port (CredentialOpener), not by importing integrations.
const ranks = [
  ['errors', 'config', 'lang', 'crypto'],
  ['manifest'],
  ['http'],
  ['auth'],
  ['engine'],
  ['testkit', 'codegen'],
  ['store'],
  ['access'],
  ['tenants'],
  ['webhooks'],
  ['integrations'],
  ['routing'],
  ['oauth'],
  ['sync'],
  ['operations'],
  ['jobs'],
  ['platform'],
  ['api', 'cli', 'mcp'],
];

const layerRules = ranks.flatMap((names, rank) => {
  const higher = ranks.slice(rank + 1).flat();
  if (higher.length === 0) return [];
  return [{
    name: `layer-${names.join('-')}`,
    comment: `${names.join(', ')} (rank ${rank}) must not import a higher layer: ${higher.join(', ')}`,
    severity: 'error',
    from: { path: `^runtime/(${names.join('|')})/` },
    to: { path: `^runtime/(${higher.join('|')})/` },
  }];
});

const known = ranks.flat();

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Cycles make layers meaningless.', from: {}, to: { circular: true } },
    {
      name: 'known-layer',
      severity: 'error',
      comment: 'Every folder under runtime/ has a rank in .dependency-cruiser.cjs.',
      from: { path: '^runtime/', pathNot: `^runtime/(${known.join('|')})/` },
      to: {},
    },
    {
      name: 'tooling-for-cli-only',
      severity: 'error',
      comment: 'testkit and codegen are tooling over manifest and engine, used by the cli only (DESIGN §10).',
      from: { path: '^runtime/', pathNot: '^runtime/(cli|testkit|codegen)/' },
      to: { path: '^runtime/(testkit|codegen)/' },
    },
    { name: 'tests-stay-out', severity: 'error', comment: 'runtime/ never imports tests or benchmarks.', from: { path: '^runtime/' }, to: { path: '^(test|bench)/' } },
    {
      name: 'store-implementations-private',
      severity: 'error',
      comment: 'Only runtime/store opens a store implementation; everything else sees the Store port (types.ts), never a SQLite (or PostgreSQL) store class or its connection.',
      from: { path: '^runtime/', pathNot: '^runtime/store/' },
      to: { path: '^runtime/store/(sqlite|postgres)/' },
    },
    {
      name: 'sqlite-driver-in-store',
      severity: 'error',
      comment: 'better-sqlite3 is used by the SQLite store and by Agenda\'s SQLite backend (jobs) only.',
      from: { path: '^runtime/', pathNot: '^runtime/(store/sqlite|jobs)/' },
      to: { path: 'node_modules/better-sqlite3' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
