// `make eval`: quality numbers on ../shared/data. The plugins that produce them (pii-redact,
// semantic-cache, prompt-guard) add their evaluations here; until then it only checks the data is there.
import fs from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '../test/support/gateway';

const DATA = path.resolve(REPOSITORY_ROOT, '../shared/data');
const SETS = ['paraphrase', 'pii', 'injection', 'prompts', 'models'];

function main(): void {
  if (!fs.existsSync(DATA)) {
    process.stderr.write(`evaluation data not found at ${DATA}\n`);
    process.exitCode = 1;
    return;
  }
  for (const set of SETS) {
    const files = fs.existsSync(path.join(DATA, set)) ? fs.readdirSync(path.join(DATA, set)) : [];
    process.stdout.write(`${set.padEnd(11)} ${files.length} files\n`);
  }
  process.stdout.write('No evaluations yet: pii-redact, semantic-cache and prompt-guard add theirs with their issues.\n');
}

main();
