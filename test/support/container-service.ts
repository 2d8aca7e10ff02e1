import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { renderService } from '../../lib/render-service.js';
import { answersFor } from './answers.js';
import { hostExtraCaCerts } from './container-image.js';

/**
 * Files a developer's checkout holds that must never reach an image build: the emitted .dockerignore keeps them
 * out of the build context. Each is planted in the context the image tests build from.
 */
export const BAIT_FILES: Record<string, string> = {
  '.env': 'API_TOKEN=bait-dotenv\n',
  'src/.env.local': 'API_TOKEN=bait-dotenv-local\n',
  'src/tls.key': '-----BEGIN PRIVATE KEY-----\nbait\n-----END PRIVATE KEY-----\n',
  'secrets/db.pem': '-----BEGIN CERTIFICATE-----\nbait\n-----END CERTIFICATE-----\n',
  '.git/config': '[remote "origin"]\n\turl = https://bait@example.com/svc.git\n',
  'src/bait.test.ts': 'export {};\n',
  'coverage/lcov.info': 'TN:bait\n',
  'node_modules/bait/package.json': '{ "name": "bait", "version": "1.0.0" }\n',
};

export interface ServiceCheckout {
  dir: string;
  files: Map<string, Buffer>;
  text(path: string): string;
}

/** Renders a service (as `--yes` with these flags would) into a fresh folder, with the bait files beside it. */
export async function checkoutWithBait(flags: Parameters<typeof answersFor>[1]): Promise<ServiceCheckout> {
  const files = await renderService(await answersFor('img-svc', flags));
  const dir = join(await mkdtemp(join(tmpdir(), 'chs-image-')), 'img-svc');
  for (const [path, bytes] of [...files, ...Object.entries(BAIT_FILES).map(([p, t]) => [p, Buffer.from(t)] as const)]) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  return { dir, files, text: (path) => files.get(path)!.toString('utf8') };
}

/**
 * The CA file the build passes as the `extra_ca_certs` secret: the host's extra CAs (a TLS-inspecting proxy's),
 * or, where there are none, one of Node's own roots, so that the secret is always exercised (and can be looked for
 * in the layers).
 */
export async function extraCaFile(): Promise<{ path: string; pem: string }> {
  const pem = hostExtraCaCerts() || `${rootCertificates[0]}\n`;
  const path = join(await mkdtemp(join(tmpdir(), 'chs-ca-')), 'extra-ca.pem');
  await writeFile(path, pem);
  return { path, pem };
}

/**
 * The flags of the `podman build` command the emitted README gives, for this checkout: its CA file placeholder
 * replaced by `caFile`, its tag and context dropped (the tests give their own).
 */
export function readmePodmanBuildFlags(readme: string, caFile: string): string[] {
  const command = readme.split('\n').find((line) => line.startsWith('podman build '));
  if (!command) throw new Error('the README gives no podman build command');
  const words = command.trim().split(/\s+/).slice(2);
  const flags: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    if (words[i] === '-t') i += 1;
    else if (words[i] !== '.') flags.push(words[i]!.replace(/^(id=extra_ca_certs,src=).+$/, `$1${caFile}`));
  }
  return flags;
}
