// The floors of the house (docs/architecture.md): a module imports from its own floor or the floors below it,
// never above, and no two modules import each other, directly or round a circle. `npm test` runs this check
// (`npm run floors`); a new folder must be given its floor here before it can import anything.
/** Bottom first. */
const FLOORS = [
  ['schemas', '^schemas/'],
  ['core', '^core/'],
  ['readers and declarations', '^(connectors|pipelines/feeds)/'],
  ['normalize', '^src/normalize/'],
  ['warehouse', '^src/warehouse/'],
  ['rules', '^pipelines/rules/'],
  ['identity review', '^src/identity/'],
  ['load', '^src/load/'],
  // approvals stand on the warehouse alone; the doors above (cli, http) ask them before a bulk disclosure.
  ['regions, drops, config, approvals', '^src/(regions|drop|config|approvals)/'],
  ['matching and findings', '^src/(matching|findings)/'],
  ['delivery', '^src/delivery/'],
  // Deletes what delivery and findings made once it is old enough; reporting reads what it leaves (retired counts).
  ['retention', '^src/retention/'],
  ['reporting', '^src/reporting/'],
  ['scheduler', '^src/scheduler/'],
  ['http and demo', '^src/(http|demo)/'],
  ['cli', '^src/cli/'],
  ['entry points and tests', '^(bin|bench|scripts|test)/'],
];

const upward = FLOORS.slice(0, -1).map(([name, path], i) => ({
  name: `floor-${name.replace(/\W+/g, '-')}`,
  comment: `the ${name} floor imports only from its own floor or below`,
  severity: 'error',
  from: { path },
  to: { path: FLOORS.slice(i + 1).map(([, p]) => p) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'a circle of imports makes two modules one; merge them or move the shared piece below both',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'every-module-has-a-floor',
      comment: 'a folder that is not on a floor is not checked: give it its floor in .dependency-cruiser.cjs',
      severity: 'error',
      from: { pathNot: [...FLOORS.map(([, p]) => p), '^node_modules/'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    // Type-only imports count: a type from a floor above is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
