#!/usr/bin/env node
// `npm run test:asan`: the native addon under AddressSanitizer and UndefinedBehaviorSanitizer.
// Builds it (binding.gyp with etlt_sanitize=1, a Debug build) in build-asan/, leaving build/
// alone, then runs test/binding and a few test/http files with ETLT_ADDON naming that build
// and the sanitizer runtimes preloaded (node itself is not instrumented, so the runtime must
// come first). Any sanitizer report in the tests' output fails the run, and so does any
// failed test (a server the sanitizer stopped fails the test that started it). Arguments
// narrow the files:
//   npm run test:asan -- test/binding/socket.test.mjs
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'build-asan');
const ADDON = join(OUT, 'build', 'Debug', 'etlt.node');
/** The first line of a report, from either sanitizer (node --test prefixes a file's stderr with "# "). */
const REPORT = /runtime error: |ERROR: AddressSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer/;
/** The HTTP files that run under it beside test/binding: framing, bad heads, hostile peers, handlers. */
const HTTP = ['framing', 'heads', 'hostile', 'handler'].map((f) => `test/http/${f}.test.mjs`);

const t0 = performance.now();
const say = (line) => process.stderr.write(`test:asan: ${line}\n`);

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function runtime(name) {
  const r = spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim() : '';
  if (!path.startsWith('/') || !existsSync(path)) {
    say(`no ${name} (gcc -print-file-name=${name}); install gcc's sanitizer runtimes (Debian: libasan8 libubsan1)`);
    process.exit(1);
  }
  return path;
}

function build() {
  // A copy of the build's inputs, so that node-gyp's build/ under OUT is a tree of its own.
  rmSync(join(OUT, 'native'), { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // Fresh timestamps: make then compiles every file again (seconds), whatever was checked out.
  cpSync(join(ROOT, 'binding.gyp'), join(OUT, 'binding.gyp'));
  cpSync(join(ROOT, 'native'), join(OUT, 'native'), { recursive: true });
  const local = join(ROOT, 'node_modules', '.bin', 'node-gyp');
  const gyp = existsSync(local)
    ? [local]
    : process.env.npm_config_node_gyp
      ? [process.execPath, process.env.npm_config_node_gyp]
      : ['node-gyp'];
  const [command, ...pre] = gyp;
  // Configured once (a binding.gyp newer than the Makefile makes make run gyp again).
  const configured = existsSync(join(OUT, 'build', 'Makefile'));
  const step = configured ? ['build', '--debug'] : ['rebuild', '--debug', '--', '-Detlt_sanitize=1'];
  if (run(command, [...pre, ...step], { cwd: OUT }) !== 0) process.exit(1);
  if (run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']) !== 0)
    process.exit(1);
}

function testFiles(args) {
  const targets = args.length > 0 ? args : ['test/binding', ...HTTP];
  return targets.flatMap((target) => {
    const path = resolve(ROOT, target);
    if (target.endsWith('.mjs')) return [path];
    return readdirSync(path)
      .filter((f) => f.endsWith('.test.mjs'))
      .sort()
      .map((f) => join(path, f));
  });
}

/** Runs node --test on `files`, passing its output through; resolves with its status and the report lines. */
function runTests(files, env) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const found = [];
    let rest = '';
    const scan = (out) => (chunk) => {
      out.write(chunk);
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (REPORT.test(line)) found.push(line);
    };
    child.stdout.on('data', scan(process.stdout));
    child.stderr.on('data', scan(process.stderr));
    child.on('close', (code) => done({ status: code ?? 1, found }));
  });
}

build();
const env = {
  ...process.env,
  ETLT_ADDON: ADDON,
  LD_PRELOAD: [runtime('libasan.so'), runtime('libubsan.so'), process.env.LD_PRELOAD].filter(Boolean).join(':'),
  // Leaks off: node's own allocations are not instrumented and would drown ours.
  ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  // A child starts about 3x slower under the preloaded runtime, and ten of them at once on a
  // busy machine far more so: the tests' process deadlines stretch (they catch hangs, not speed).
  ETLT_TEST_SLOWDOWN: '6',
};

// The override is strict (a missing file throws), and this shows the runtime is really in.
const probe = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    "import { readFileSync } from 'node:fs'; await import('./dist/src/binding/index.js');" +
      "process.stdout.write(readFileSync('/proc/self/maps', 'utf8'));",
  ],
  { cwd: ROOT, env, encoding: 'utf8', input: '' },
);
const maps = probe.stdout ?? '';
if (probe.status !== 0 || !maps.includes(ADDON) || !/libasan\.so/.test(maps)) {
  say(`the sanitized addon did not load (status ${probe.status}):\n${probe.stderr}`);
  process.exit(1);
}
say(`${ADDON} loaded with ${env.LD_PRELOAD}`);

const { status, found } = await runTests(testFiles(process.argv.slice(2)), env);
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
if (found.length > 0) say(`${found.length} sanitizer report(s):\n  ${found.join('\n  ')}`);
say(
  `${found.length === 0 && status === 0 ? 'clean' : 'FAILED'}: ${found.length} report(s), tests ${status === 0 ? 'passed' : 'failed'}; ${seconds} s`,
);
process.exit(found.length > 0 ? 1 : status);
