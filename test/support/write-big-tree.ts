// Child process for the kill test: writes a large tree with writeTreeAtomically, so that a SIGKILL at a
// random moment lands inside the write far more often than with a real (small) service.
import { writeTreeAtomically } from '../../lib/write-tree.js';

const [target, count] = process.argv.slice(2);
const tree = new Map<string, Buffer>();
for (let i = 0; i < Number(count); i++) tree.set(`dir${i % 50}/file${i}.txt`, Buffer.from(`content ${i}\n`.repeat(50)));
process.stdout.write('writing\n');
writeTreeAtomically(tree, target!);
process.stdout.write('done\n');
