// `make eval`: quality numbers: token-limit's prompt counts against recorded provider usage, pii-redact's
// detectors, semantic-cache's hit decisions and prompt-guard's injection classifier (on ../shared/data).
import fs from 'node:fs';
import path from 'node:path';
import { report as tokenCountReport } from './token-counts';
import { report as piiReport } from './pii';
import { report as semanticCacheReport } from './semantic-cache';
import { report as promptGuardReport } from './prompt-guard';
import { SHARED_DATA } from '../test/support/shared-data';

const DATA = SHARED_DATA;
const SETS = ['paraphrase', 'pii', 'injection', 'prompts', 'models'];

async function main(): Promise<void> {
  if (!fs.existsSync(DATA)) {
    process.stderr.write(`evaluation data not found at ${DATA}\n`);
    process.exitCode = 1;
    return;
  }
  for (const set of SETS) {
    const files = fs.existsSync(path.join(DATA, set)) ? fs.readdirSync(path.join(DATA, set)) : [];
    process.stdout.write(`${set.padEnd(11)} ${files.length} files\n`);
  }
  process.stdout.write(`\n${tokenCountReport()}\n`);
  process.stdout.write(`\n${piiReport()}\n`);
  process.stdout.write(`\n${await semanticCacheReport()}\n`);
  process.stdout.write(`\n${await promptGuardReport()}\n`);
}

void main();
