/**
 * How a layer above adds to every worker of a pool without a knob in WorkerPool's public
 * options (the lab's tagged and slow workers, the CLI's request printing): a module path
 * each worker imports. Not exported from the package.
 */

/**
 * How a layer above adds to every worker (the lab's slow and tagged workers, the CLI's
 * request printing) without a knob in the public options: a module each worker imports,
 * whose default export is a {@link WorkerSetup}, and the data it gets, per worker. Not
 * exported from the package.
 */
export interface WorkerExtension {
  /** An absolute path or file: URL. */
  readonly module: string;
  /** Structured-cloneable data for the worker at `index`. */
  readonly data: (index: number) => unknown;
  /**
   * What the extension in the worker at `index` sends (its setup's `send`), in the order
   * sent; a pool's `stop()` resolves only after the last of it has arrived here.
   */
  readonly receive?: (index: number, data: unknown) => void;
}

const extensions = new WeakMap<object, WorkerExtension>();

/** Adds `extension` to every worker `pool` starts from now on; returns the pool. */
export function extendWorkers<P extends object>(pool: P, extension: WorkerExtension): P {
  extensions.set(pool, extension);
  return pool;
}

/** The extension added to `pool`, if any. */
export function extensionOf(pool: object): WorkerExtension | undefined {
  return extensions.get(pool);
}
