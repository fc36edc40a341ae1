/**
 * The layer rules, checked by `npm run lint` (docs/architecture.md explains them):
 * native <- binding <- the Python-faithful API (epoll, socket, sys, address, constants)
 * <- reactor <- http <- cluster <- cli, with lab beside cli, trace for counters, and no cycles.
 * A worker process's entry point is cluster/worker-main.ts; what the layers above add to a
 * worker (the lab's knobs, the CLI's printing) reaches it as a module path, never an import.
 */
const layer = (name, path, forbidden) => ({ name, severity: 'error', from: { path }, to: { path: forbidden } });

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'only-the-binding-layer-loads-the-addon',
      severity: 'error',
      comment: 'Above the Python-faithful API, the kernel is reached through sys.ts.',
      from: {
        pathNot:
          '^src/(binding/|sys\\.ts|constants\\.ts|address\\.ts|epoll\\.ts|socket\\.ts|socket-wait\\.ts|socket-create\\.ts|os\\.ts|finalizer\\.ts)',
      },
      to: { path: '^src/binding/' },
    },
    layer('binding-knows-no-policy', '^src/binding/', '^src/(?!binding/|errors\\.ts)'),
    layer(
      'api-knows-no-server',
      '^src/(epoll|socket|socket-wait|socket-create|sys|os|address|constants|finalizer|validate|option-table|errors|fdset|fdsets|pollfds|select|selectors|selector-map|epoll-compat)\\.ts$',
      '^src/(reactor|http|trace|lab|cli|cluster)/',
    ),
    layer(
      'binding-entries-load-no-server',
      '^src/entry/(select|socket)\\.ts$',
      '^src/(reactor|http|trace|lab|cli|cluster)/',
    ),
    layer('reactor-knows-fds-not-http', '^src/reactor/', '^src/(http|lab|cli|binding)/'),
    layer('trace-knows-no-server', '^src/trace/', '^src/(http|lab|cli|reactor)/'),
    layer('http-is-below-cli-and-lab', '^src/http/', '^src/(cli|lab)/'),
    layer('lab-is-beside-cli', '^src/lab/', '^src/cli/'),
    layer('cluster-is-below-cli-and-lab', '^src/cluster/', '^src/(cli|lab|binding)/'),
    layer('http-knows-no-cluster', '^src/(http|reactor|trace)/', '^src/cluster/'),
    layer('option-table-is-data', '^src/option-table\\.ts$', '^src/(?!option-table\\.ts$|validate\\.ts$|errors\\.ts$)'),
    {
      name: 'parser-is-pure',
      severity: 'error',
      comment: 'The parser, its head types and field readers, and the chunked decoder import only each other.',
      from: { path: '^src/http/(parser|head|fields|chunked)\\.ts$' },
      to: { pathNot: '^src/http/(parser|head|fields|chunked)\\.ts$' },
    },
    {
      name: 'catalog-is-data',
      severity: 'error',
      comment: 'The catalog loads no addon (the lab report renders from JSON): it reads only the backend names.',
      from: { path: '^src/http/trigger/catalog\\.ts$' },
      to: { pathNot: '^src/reactor/backend\\.ts$' },
    },
    layer('backend-names-are-a-leaf', '^src/reactor/backend\\.ts$', '.'),
    layer('readiness-is-a-leaf', '^src/reactor/readiness\\.ts$', '.'),
    {
      name: 'contract-is-the-leaf-of-http',
      severity: 'error',
      from: { path: '^src/http/contract\\.ts$' },
      to: { path: '^src/http/', pathNot: '^src/http/trigger/catalog\\.ts$' },
    },
    {
      name: 'strategies-see-only-the-contract',
      severity: 'error',
      from: { path: '^src/http/trigger/' },
      to: { path: '^src/http/', pathNot: '^src/http/(contract\\.ts|trigger/)' },
    },
    {
      name: 'index-is-not-imported',
      severity: 'error',
      comment: 'src/index.ts is the public surface; nothing inside imports it.',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
