// Child process for the upgrade kill test: applies a large change set with applyChangesAtomically, so
// that a SIGKILL at a random moment lands inside the apply.
import { applyChangesAtomically } from '../../lib/upgrade/apply-changes.js';

const [dir, count] = process.argv.slice(2);
const changes = [];
for (let i = 0; i < Number(count); i++) {
  // Every third file is deleted, the rest rewritten; a few are new.
  changes.push({ path: `d${i % 20}/f${i}.txt`, bytes: i % 3 === 0 ? null : Buffer.from(`new ${i}\n`.repeat(40)) });
}
changes.push({ path: 'added/new.txt', bytes: Buffer.from('new file\n') });
process.stdout.write('applying\n');
await applyChangesAtomically(dir!, changes);
process.stdout.write('done\n');
