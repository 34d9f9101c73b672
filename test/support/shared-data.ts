// Where the third-party evaluation data lives (../shared/data beside the repository), for tests, evals and benchmarks.
import fs from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from './gateway';

/**
 * `SHARED_DATA_DIR` when set, else `../shared/data` beside the repository, else the workplace's
 * `/work/shared/data` (a clone made elsewhere, e.g. in /tmp, still finds it). Never copied into the repo.
 */
export const SHARED_DATA_CANDIDATES = [process.env.SHARED_DATA_DIR, path.resolve(REPOSITORY_ROOT, '../shared/data'), '/work/shared/data'].filter((candidate): candidate is string => candidate !== undefined && candidate !== '');

export const SHARED_DATA = SHARED_DATA_CANDIDATES.find((candidate) => fs.existsSync(candidate)) ?? SHARED_DATA_CANDIDATES[0]!;

/** A path inside the shared data; fails naming every place looked at when the data is not there. */
export function sharedDataPath(...parts: string[]): string {
  const file = path.join(SHARED_DATA, ...parts);
  if (!fs.existsSync(file)) throw new Error(`evaluation data not found: ${path.join(...parts)} (looked in ${SHARED_DATA_CANDIDATES.join(', ')}; set SHARED_DATA_DIR)`);
  return file;
}
