/**
 * The one place that loads the native addon. Everything native is reached through
 * `native` below; its functions mirror the syscalls and return `-errno` on failure.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtltNotBuiltError, EtltUnsupportedPlatformError } from '../errors.js';
import type { NativeBinding } from './types.js';

export type { NativeBinding, NativeConstants, WatchHandle } from './types.js';
export type { TurnHandle } from './types.js';

function packageRoot(): string {
  // Compiled to dist/src/binding/index.js; the sources sit at src/binding/index.ts.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new EtltNotBuiltError(
    `etlt: cannot find the package root (binding.gyp) above ${fileURLToPath(import.meta.url)}`,
  );
}

function load(): NativeBinding {
  if (process.platform !== 'linux') throw new EtltUnsupportedPlatformError();
  const require = createRequire(import.meta.url);
  // ETLT_ADDON names another build of the addon to load instead (the sanitized one of
  // `npm run test:asan`); a name that is not there is an error, never a quiet fallback.
  const override = process.env.ETLT_ADDON;
  if (override !== undefined && override !== '') {
    const file = resolve(override);
    if (!existsSync(file)) throw new EtltNotBuiltError(`etlt: ETLT_ADDON names no file: ${file}`);
    return require(file) as NativeBinding;
  }
  const root = packageRoot();
  const candidates = [join(root, 'build', 'Release', 'etlt.node'), join(root, 'build', 'Debug', 'etlt.node')];
  for (const file of candidates) {
    if (existsSync(file)) return require(file) as NativeBinding;
  }
  // A consumer has no build script of ours to run, only npm's own rebuild of the package.
  throw new EtltNotBuiltError(
    `etlt: the native addon is not built (no ${candidates[0]}); run \`npm rebuild etlt\` (in a clone of etlt: \`npm install\`)`,
  );
}

/**
 * The native addon: one thin wrapper per syscall; failures come back as `-errno`.
 * A plain copy: the addon's own exports object is in V8's dictionary mode (properties
 * defined through Node-API), which made every `native.recv` a hash lookup on the hot path.
 */
export const native: NativeBinding = { ...load() };
