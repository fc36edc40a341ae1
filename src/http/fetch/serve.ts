/**
 * `serve({ fetch })`: web-standard apps (Hono, and any `export default { fetch }` module) on
 * etlt's HttpServer, with the signature of @hono/node-server's `serve`, so moving an app is
 * a change of one import. `fetchHandler(app)` is the same adapter as a plain request
 * handler, for a server made some other way (`etlt serve --app`, `WorkerPool`).
 */
import { EtltUnknownOptionError } from '../../errors.js';
import { boolean, func, options as checkOptions, string, typeError } from '../../validate.js';
import type { HttpRequest, HttpResponse, RequestHandler } from '../handler.js';
import { HttpServer } from '../server.js';
import type { HttpServerOptions } from '../server.js';
import { toHttpResponse } from './answer.js';
import { FetchRequest, WebRequest, isFetchRequest, nativeOf } from './request.js';
import type { ExchangeRequest } from './request.js';
import { LightResponse } from './response.js';
import { BadTarget, UrlPrefix, requestUrl } from './url.js';

/** A web-standard app's entry point: a Request in, a Response (or a Promise of one) out. */
export type FetchFunction = (request: Request, env: HttpRequest) => Response | Promise<Response>;

/** An app object with a `fetch` method: a Hono app, or a module's `export default { fetch }`. */
export interface FetchApp {
  fetch: FetchFunction;
}

/** Options of {@link fetchHandler}. */
export interface FetchHandlerOptions {
  /**
   * Install light `Response` and `Request` classes as the globals (default true, as
   * @hono/node-server does): an app's `new Response()` then costs a small object instead
   * of undici's (23 us in Node 20). false: undici's own, read through their streams.
   */
  overrideGlobalObjects?: boolean;
  /** The host of `request.url` for a request without Host (HTTP/1.0): default, the address it reached. */
  hostname?: string;
}

/** Options of {@link serve}: @hono/node-server's, and every HttpServer option but `handler`, `root` and `body`. */
export interface ServeOptions extends Omit<HttpServerOptions, 'handler' | 'root' | 'body' | 'host' | 'port'> {
  /** The app's entry point, called with a Request and the server's request as `env`. */
  fetch: FetchFunction;
  /** Default 3000 (@hono/node-server's); 0 picks a free one. */
  port?: number;
  /** Address to bind; default '0.0.0.0'. */
  hostname?: string;
  /** See {@link FetchHandlerOptions.overrideGlobalObjects}. */
  overrideGlobalObjects?: boolean;
}

/** Where the server listens, as node:net's `address()` says it (@hono/node-server's listener gets this). */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

const BAD_REQUEST: HttpResponse = Object.freeze({
  status: 400,
  headers: Object.freeze({ 'content-type': 'text/plain', connection: 'close' }),
  body: 'Bad Request',
});

/**
 * The `fetch` the adapter installs: undici's reads a Request's internal state, which a
 * stand-in has not, so it is given the real Request instead (`fetch(c.req.raw)`).
 */
let unwrappingFetch: typeof globalThis.fetch | undefined;

/** Installs the light Response and the Request that accepts stand-ins as the globals, once. */
function installGlobals(): void {
  if (globalThis.fetch !== unwrappingFetch) {
    const inner = globalThis.fetch;
    unwrappingFetch = function fetch(input, init) {
      return inner(isFetchRequest(input) ? nativeOf(input) : input, init);
    };
    Object.defineProperty(globalThis, 'fetch', { value: unwrappingFetch, writable: true, configurable: true });
  }
  if (globalThis.Response !== (LightResponse as unknown)) {
    Object.defineProperty(globalThis, 'Response', { value: LightResponse, writable: true, configurable: true });
  }
  if (globalThis.Request !== (WebRequest as unknown)) {
    Object.defineProperty(globalThis, 'Request', { value: WebRequest, writable: true, configurable: true });
  }
}

/** `host:port` of the address a request reached (IPv6 in brackets). */
function hostOf(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * A request handler that runs a web-standard app: each request becomes a `Request` (a light
 * stand-in, see request.ts), the app's `Response` the answer. A `fetch` that throws, rejects
 * or resolves to anything but a Response gets the client a 500 and the server a
 * 'handlerError'. A request whose target and Host make no URL gets a 400 without the app.
 * Give the server `requestBody: 'stream'` where it has it, so request bodies stream too.
 */
export function fetchHandler(app: FetchApp | FetchFunction, options?: FetchHandlerOptions): RequestHandler {
  const o = checkOptions<FetchHandlerOptions>(options, 'fetchHandler options', ['overrideGlobalObjects', 'hostname']);
  const hostname = o.hostname === undefined ? undefined : string(o.hostname, 'hostname', 'option');
  return adapter(app, o.overrideGlobalObjects, hostname, () => undefined);
}

/**
 * The adapter. The host of a request without Host (HTTP/1.0): `hostname` when given, else
 * the address the request reached where the server says it (`localAddress`), else
 * `boundHost()`, else 'localhost'.
 */
function adapter(
  app: FetchApp | FetchFunction,
  overrideGlobalObjects: boolean | undefined,
  hostname: string | undefined,
  boundHost: () => string | undefined,
): RequestHandler {
  let target: object | undefined;
  let fetch: FetchFunction;
  if (typeof app === 'function') fetch = app;
  else if (typeof app === 'object' && app !== null && typeof app.fetch === 'function') {
    target = app;
    fetch = app.fetch;
  } else throw typeError('app', 'a function or an object with a fetch method', app);
  if (boolean(overrideGlobalObjects ?? true, 'overrideGlobalObjects', 'option')) installGlobals();
  const fallbackHost = (req: ExchangeRequest & { localAddress?: string; localPort?: number }): string => {
    if (hostname !== undefined) return hostname;
    if (req.localAddress !== undefined && req.localPort !== undefined) return hostOf(req.localAddress, req.localPort);
    return boundHost() ?? 'localhost';
  };
  const lastUrl = new UrlPrefix();
  return (req: HttpRequest) => {
    const r = req as ExchangeRequest & { header?: (name: string) => string | undefined };
    let url: string;
    try {
      // header() looks one field up without building the headers object (where the server has it).
      const host = typeof r.header === 'function' ? r.header('host') : req.headers.host;
      // An empty Host (a target URI without authority, RFC 9112 section 3.2) is none.
      url = requestUrl(req.target, host === undefined || host === '' ? fallbackHost(r) : host, lastUrl);
    } catch (err) {
      if (err instanceof BadTarget) return BAD_REQUEST;
      throw err;
    }
    const streaming = typeof r.stream === 'function';
    const isHead = req.method === 'HEAD';
    const res = fetch.call(target, new FetchRequest(r, url) as unknown as Request, req);
    if (res !== null && typeof res === 'object' && typeof (res as Promise<Response>).then === 'function')
      return Promise.resolve(res).then((value) => toHttpResponse(value, isHead, streaming));
    return toHttpResponse(res, isHead, streaming);
  };
}

/**
 * Serves a web-standard app, as @hono/node-server's `serve` does: binds `hostname:port`
 * (default 0.0.0.0:3000), calls `listeningListener` with `{ address, family, port }` once
 * listening, and returns the running HttpServer (`close()`, `address()`, its events). Every
 * other option is an HttpServer option (`mode`, `backend`, timeouts, limits). Throws an
 * EtltSystemError naming the address when it cannot listen.
 */
export function serve(options: ServeOptions, listeningListener?: (info: AddressInfo) => void): HttpServer {
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  if (listeningListener !== undefined) func(listeningListener, 'listeningListener');
  const { fetch, port: askedPort, hostname, overrideGlobalObjects, ...rest } = options;
  if ('handler' in rest || 'root' in rest || 'body' in rest)
    throw new EtltUnknownOptionError('serve() answers with the fetch function: no handler, root or body option');
  // A request without Host (HTTP/1.0) names the address it reached: the one the server
  // says (localAddress), or the bound one.
  const bound: { host?: string } = {};
  const handler = adapter(
    func<FetchFunction>(fetch, 'fetch', 'option'),
    overrideGlobalObjects,
    undefined,
    () => bound.host,
  );
  // `port: process.env.PORT` is a string, which node-server hands to listen(), which takes
  // digits as a port: so do we. Anything else goes to HttpServer's check, named.
  const port = typeof askedPort === 'string' && /^\d+$/.test(askedPort) ? Number(askedPort) : askedPort;
  const serverOptions: HttpServerOptions = { ...rest, host: hostname ?? '0.0.0.0', port: port ?? 3000, handler };
  const server = createServer(serverOptions);
  const address = server.listen();
  bound.host = hostOf(address.host, address.port);
  if (listeningListener !== undefined) {
    const family = address.host.includes(':') ? 'IPv6' : 'IPv4';
    server.once('listening', () => listeningListener({ address: address.host, family, port: address.port }));
  }
  return server;
}

/** The server, with request bodies streamed (a web Request's body is a stream) unless the caller chose. */
function createServer(options: HttpServerOptions): HttpServer {
  return new HttpServer('requestBody' in options ? options : { ...options, requestBody: 'stream' });
}
