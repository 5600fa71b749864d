// Monaco's web workers, bundled beside the IDE by scripts/ide-build.mjs and loaded from this
// service (GraphiQL's own setups load them from a CDN or need a bundler plugin). Imported first,
// so the environment is set before Monaco starts.
const WORKERS: Readonly<Record<string, string>> = { json: 'json.worker.js', graphql: 'graphql.worker.js' };

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    return new Worker(`/ide/assets/${WORKERS[label] ?? 'editor.worker.js'}`, { name: label });
  },
};
