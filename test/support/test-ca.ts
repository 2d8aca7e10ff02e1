import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  /** The CA's certificate (PEM file): what the service is given to verify servers with. */
  caFile: string;
  /** The CA's key, to issue more certificates (issueCertificate). */
  caKeyFile: string;
  /** A server certificate and key signed by it, for 127.0.0.1 and localhost. */
  certFile: string;
  keyFile: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A throwaway certificate authority made with Debian's openssl (EC P-256, valid one day) and one server
 * certificate it signed, naming 127.0.0.1 and localhost: what a database or Redis on loopback presents to the
 * service, which verifies it as in production (the CA mounted from a Secret, the host name checked).
 */
export async function makeTestCa(dir: string, name = 'chs-test'): Promise<TestCa> {
  const caKeyFile = join(dir, `${name}-ca.key`);
  const caFile = join(dir, `${name}-ca.crt`);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', caKeyFile, '-out', caFile, '-days', '1', '-subj', `/CN=${name} CA`]);
  const server = await issueCertificate({ caFile, caKeyFile }, dir, `${name}-server`, 'IP:127.0.0.1, DNS:localhost');
  return { caFile, caKeyFile, ...server };
}

/** A server certificate the CA signs, naming `subjectAltName` (e.g. `DNS:localhost` only: a wrong name for 127.0.0.1). */
export async function issueCertificate(ca: Pick<TestCa, 'caFile' | 'caKeyFile'>, dir: string, name: string, subjectAltName: string): Promise<{ certFile: string; keyFile: string }> {
  const [keyFile, csr, certFile, ext] = ['key', 'csr', 'crt', 'ext'].map((suffix) => join(dir, `${name}.${suffix}`)) as [string, string, string, string];
  await run('openssl', ['req', '-new', ...EC, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(ext, `subjectAltName = ${subjectAltName}\nextendedKeyUsage = serverAuth\n`);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-CAcreateserial', '-out', certFile, '-days', '1', '-extfile', ext]);
  return { certFile, keyFile };
}
