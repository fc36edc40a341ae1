/**
 * Helpers of the fetch adapter's tests: a `serve({ fetch })` server in a test's scope, and
 * one raw request answered (for targets and fields no client library would send).
 */
import { serve } from 'etlt';
import { HOST, exchange, responsesIn } from './helpers.mjs';

/**
 * Serves `fetch` with etlt's serve in `scope` (stopped and checked after the test); returns
 * { server, port }. Node's fetch keeps its connections (undici: 4 s), so the server keeps
 * them longer (no race between its close of an idle connection and the client's next request
 * on it) and is closed gracefully, idle connections first, before the scope's checks.
 */
export function served(scope, fetch, options) {
  const server = serve({
    fetch,
    hostname: HOST,
    port: 0,
    idleTimeoutMs: 10_000,
    keepAliveTimeoutMs: 10_000,
    ...options,
  });
  server.on('error', (err) => {
    scope.serverError = err;
  });
  scope.servers.push(server);
  if (scope.fetchServers === undefined) {
    scope.fetchServers = [];
    const dispose = scope.dispose.bind(scope);
    scope.dispose = async () => {
      await Promise.all(scope.fetchServers.map((s) => s.close(1000)));
      return dispose();
    };
  }
  scope.fetchServers.push(server);
  return { server, port: server.address().port };
}

/**
 * Sends `request` (bytes, one request that ends the connection) and returns its one response;
 * `head`: it answers a HEAD (its fields may promise a body that never comes).
 */
export async function ask(scope, port, request, { head = false } = {}) {
  const r = await exchange(scope, port, Buffer.isBuffer(request) ? request : Buffer.from(request, 'latin1'));
  const rs = responsesIn(r.data, { isHead: () => head });
  if (rs.length !== 1) throw new Error(`expected one response, got ${rs.length}: ${r.data.toString('latin1')}`);
  return rs[0];
}
