/**
 * An application given as a module path (`etlt serve --app ./app.mjs`, `WorkerPool`'s `app`):
 * a path, unlike a function, can cross to a worker process, and each worker imports it.
 * `appHandler` is the one place a module becomes a handler: a module of another shape (a
 * `{ fetch }` application) is one more branch there.
 */
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EtltAppError } from '../errors.js';
import type { RequestHandler } from './handler.js';

/** Extensions Node 20 cannot import: it has no type stripping. */
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * The request handler of an imported application module: its default export, a function.
 * `path` names the module in errors.
 */
export function appHandler(module: unknown, path: string): RequestHandler {
  const exported = (module as { default?: unknown } | null)?.default;
  if (typeof exported === 'function') return exported as RequestHandler;
  const got =
    exported === undefined ? 'has no default export' : `exports ${typeof exported} as its default, not a function`;
  throw new EtltAppError(
    `app ${path}: the module ${got}; it must \`export default (req) => ({ status, headers, body })\``,
  );
}

/** Imports the application at `path` (resolved against the current directory) and returns its handler. */
export async function loadApp(path: string): Promise<RequestHandler> {
  const absolute = resolve(path);
  if (TYPESCRIPT.has(extname(absolute))) {
    throw new EtltAppError(
      `app ${path}: Node ${process.versions.node.split('.')[0]} cannot import TypeScript (no type stripping before Node 22.6); ` +
        'compile it first (npx tsc) and give the .js or .mjs file',
    );
  }
  let module: unknown;
  try {
    module = await import(pathToFileURL(absolute).href);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(absolute)
        ? 'no such file'
        : `${err.code === undefined ? '' : `${err.code}: `}${err.message}`;
    throw new EtltAppError(`app ${path}: cannot import ${absolute}: ${why}`);
  }
  return appHandler(module, path);
}
