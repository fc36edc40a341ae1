/**
 * The CLI's voice for a library's argument error: a usage error (exit 2) that names the
 * flag of the option the library named.
 */
import { WORKER_POOL_OPTIONS } from '../cluster/options.js';
import { EtltArgTypeError, EtltOutOfRangeError, EtltUsageError } from '../errors.js';
import { HTTP_SERVER_OPTIONS } from '../http/options.js';
import type { OptionRow } from '../option-table.js';

/** The flag of the option a library error names (`The "index" option`). */
function flagNamed(message: string): string | undefined {
  const rows: Record<string, OptionRow> = { ...HTTP_SERVER_OPTIONS, ...WORKER_POOL_OPTIONS };
  const name = /"(?:server\.)?([A-Za-z]+)" option/.exec(message)?.[1];
  return name === undefined ? undefined : rows[name]?.cli?.flag;
}

/** Runs `check`, turning a library's argument error into a usage error that names the flag. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof EtltArgTypeError || e instanceof EtltOutOfRangeError)) throw e;
    const flag = flagNamed(e.message);
    throw new EtltUsageError(flag === undefined ? e.message : `--${flag}: ${e.message}`);
  }
}
