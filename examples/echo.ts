/**
 * An echo server on etlt's HttpServer: every request, of every method, is answered 200
 * with its own body (and its Content-Type, when it had one), the server HTTP conformance
 * suites expect to talk to. Run: `node dist/examples/echo.js [host] [port] [mode]` (default
 * 0.0.0.0 8080 et), then `curl -d hello http://127.0.0.1:8080/`. Ctrl-C stops it gracefully.
 */
import { HttpServer } from 'etlt';
import type { HttpRequest, HttpResponse, Mode } from 'etlt';

const host = process.argv[2] ?? '0.0.0.0';
const port = Number(process.argv[3] ?? 8080);
const mode = (process.argv[4] ?? 'et') as Mode;

function echo(request: HttpRequest): HttpResponse {
  const type = request.headers['content-type'];
  return {
    status: 200,
    headers: {
      'Content-Type': type ?? 'application/octet-stream',
      'X-Echo-Method': request.method,
      'X-Echo-Target': request.target,
    },
    body: request.body,
  };
}

const server = new HttpServer({ mode, host, port, handler: echo });
const address = server.listen();
console.log(
  `echo: serving on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}/ (mode ${server.mode})`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => console.log(`echo: ${signal}: closed`));
  });
}
