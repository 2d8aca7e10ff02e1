import { execa } from 'execa';

/** shellcheck from Debian's package (`apt-get install shellcheck`, as .ci/run does): its findings, or ''. */
export async function shellcheck(script: string, dialect: string): Promise<string> {
  const result = await execa('shellcheck', ['--shell', dialect, '--format', 'gcc', '-'], { input: script, reject: false });
  if (result.exitCode !== 0 && result.stdout === '') throw new Error(`shellcheck did not run: ${result.stderr || result.message} (apt-get install shellcheck)`);
  return result.stdout;
}
