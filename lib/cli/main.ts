import { isKnownError } from '../errors.js';
import { generatorVersion } from '../../core/package-root.js';
import { type CliIO, printer, processIO } from './io.js';
import { parseCliArgs } from './parse-args.js';

/** Runs the CLI and returns its exit code. Known errors become one line on stderr; nothing else escapes. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const fail = printer(io.stderr);
  try {
    const args = parseCliArgs(argv);
    // Help names every check rule and Kubernetes minor: loaded only when asked for.
    if (args.flags.help) {
      io.stdout.write((await import('./help.js')).helpText(generatorVersion, args.command));
      return 0;
    }
    if (args.flags.version) {
      printer(io.stdout)(generatorVersion);
      return 0;
    }
    // Commands are loaded when they run (each is a lazy chunk of the bundle): --help, --version and bad usage
    // never load the template engine, node-plop or the merge code.
    if (args.command === 'upgrade') return await (await import('./upgrade-command.js')).upgradeCommand(args, io);
    if (args.command === 'check') return await (await import('./check-command.js')).checkCommand(args, io);
    return await (await import('./create-command.js')).createCommand(args, io);
  } catch (err) {
    if (isKnownError(err)) {
      fail(`create-hardened-service: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof Error && err.name === 'ExitPromptError') {
      fail('create-hardened-service: cancelled, nothing written');
      return 130;
    }
    fail(`create-hardened-service: unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    if (io.env.DEBUG) fail(err instanceof Error ? (err.stack ?? '') : '');
    return 1;
  }
}
