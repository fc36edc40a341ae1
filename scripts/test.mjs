#!/usr/bin/env node
// `npm test`: makes sure the system tools the tests drive are there (installing them with
// apt-get when run as root on Debian, otherwise stopping at once with the exact command),
// builds the addon and the TypeScript (so no stale dist/ is ever tested), then runs every
// tier: test/unit, test/binding, test/http, test/cli. Arguments narrow it to files or tiers:
//   npm test -- test/http            one tier
//   npm test -- test/unit/errors.test.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIERS = ['unit', 'binding', 'http', 'cli'];
/** [command the tests run, Debian package that provides it] */
const TOOLS = [
  ['curl', 'curl'],
  ['ab', 'apache2-utils'],
  ['wrk', 'wrk'],
  ['strace', 'strace'],
  ['python3', 'python3'],
  ['chromium', 'chromium'],
  ['prlimit', 'util-linux'],
  ['systemd-socket-activate', 'systemd'],
];

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function ensureTools() {
  const missing = TOOLS.filter(([command]) => !have(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const install = `apt-get install -y ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !have('apt-get')) {
    process.stderr.write(`etlt tests drive real clients and tools that are missing here: ${missing.join(', ')}.\n`);
    process.stderr.write(`Install them, then run npm test again:\n  sudo apt-get update && sudo ${install}\n`);
    process.exit(1);
  }
  process.stderr.write(`test: installing ${missing.join(' ')} (apt-get, as root)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    run('apt-get', ['update', '-qq'], { env }) !== 0 ||
    run('apt-get', ['install', '-y', '-qq', ...missing], { env }) !== 0
  ) {
    process.stderr.write(`test: apt-get failed; install by hand: ${install}\n`);
    process.exit(1);
  }
}

function build() {
  const gyp = join(ROOT, 'node_modules', '.bin', 'node-gyp');
  const nodeGyp = existsSync(gyp) ? gyp : 'node-gyp';
  // An incremental make when the build tree exists (npm install made it), a full one when not.
  const configured = existsSync(join(ROOT, 'build', 'Makefile'));
  if (run(nodeGyp, [configured ? 'build' : 'rebuild']) !== 0) process.exit(1);
  if (run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']) !== 0)
    process.exit(1);
}

function testFiles(args) {
  const targets = args.length > 0 ? args : TIERS.map((t) => join('test', t));
  const files = [];
  for (const target of targets) {
    const path = resolve(ROOT, target);
    if (target.endsWith('.mjs')) files.push(path);
    else for (const f of readdirSync(path).sort()) if (f.endsWith('.test.mjs')) files.push(join(path, f));
  }
  return files;
}

ensureTools();
build();
// One file at a time: several tests measure the server's own counters and fds.
process.exit(run(process.execPath, ['--test', '--test-concurrency=1', ...testFiles(process.argv.slice(2))]));
