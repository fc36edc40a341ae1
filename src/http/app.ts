/**
 * An application given as a module path (`etlt serve --app ./app.mjs`, `WorkerPool`'s `app`):
 * a path, unlike a function, can cross to a worker process, and each worker imports it.
 * `appHandler` is the one place a module becomes a handler: its default export is either a
 * handler function, or a web-standard application with a `fetch` method (`export default
 * { fetch }`, the convention of `deno serve` and Bun, which a Hono app satisfies), run
 * through the fetch adapter with its request bodies streamed. A handler module may say how
 * it reads bodies: `export const requestBody = 'stream'` (HttpServer's `requestBody`).
 */
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EtltAppError } from '../errors.js';
import { fetchHandler } from './fetch/serve.js';
import type { FetchApp } from './fetch/serve.js';
import type { RequestHandler } from './handler.js';

/** What an application module gives the server it runs on. */
export interface AppOptions {
  handler: RequestHandler;
  /** A fetch application reads its body as a stream (`request.body`). */
  requestBody?: 'stream';
}

/** Extensions Node 20 cannot import: it has no type stripping. */
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * The request handler of an imported application module: its default export, a function
 * (with its `requestBody` export, if any), or a fetch app. `path` names the module in errors.
 */
export function appHandler(module: unknown, path: string): AppOptions {
  const exported = (module as { default?: unknown } | null)?.default;
  if (typeof exported === 'function') {
    // How the handler reads bodies is the handler's own fact, so the module states it.
    const requestBody = (module as { requestBody?: unknown }).requestBody;
    if (requestBody === 'stream') return { handler: exported as RequestHandler, requestBody };
    if (requestBody === undefined || requestBody === 'buffer') return { handler: exported as RequestHandler };
    throw new EtltAppError(
      `app ${path}: the module exports requestBody ${typeof requestBody === 'string' ? JSON.stringify(requestBody) : `as a ${typeof requestBody}`}; ` +
        "it must be 'buffer' (the default: req.body) or 'stream' (req.stream() as the body arrives)",
    );
  }
  if (typeof exported === 'object' && exported !== null && typeof (exported as FetchApp).fetch === 'function')
    return { handler: fetchHandler(exported as FetchApp), requestBody: 'stream' };
  const got =
    exported === undefined
      ? 'has no default export'
      : `exports ${exported === null ? 'null' : typeof exported} as its default, not a function or an object with a fetch method`;
  throw new EtltAppError(
    `app ${path}: the module ${got}; it must \`export default (req) => ({ status, headers, body })\` ` +
      'or `export default { fetch(request) { return new Response(...) } }` (a Hono app, for one)',
  );
}

/** Imports the application at `path` (resolved against the current directory): its handler, and how it reads bodies. */
export async function loadApp(path: string): Promise<AppOptions> {
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
