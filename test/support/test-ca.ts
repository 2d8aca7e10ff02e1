import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  /** The CA's certificate (PEM file): what the service is given to verify servers with. */
  caFile: string;
  /** A server certificate and key signed by it, for 127.0.0.1 and localhost. */
  certFile: string;
  keyFile: string;
}

/**
 * A throwaway certificate authority made with Debian's openssl (EC P-256, valid one day) and one server
 * certificate it signed, naming 127.0.0.1 and localhost: what a database or Redis on loopback presents to the
 * service, which verifies it as in production (the CA mounted from a Secret, the host name checked).
 */
export async function makeTestCa(dir: string, name = 'chs-test'): Promise<TestCa> {
  const file = (suffix: string) => join(dir, `${name}-${suffix}`);
  const [caKey, caFile, keyFile, csr, certFile, ext] = ['ca.key', 'ca.crt', 'server.key', 'server.csr', 'server.crt', 'server.ext'].map(file) as [string, string, string, string, string, string];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '1', '-subj', `/CN=${name} CA`]);
  await run('openssl', ['req', '-new', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(ext, 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '1', '-extfile', ext]);
  return { caFile, certFile, keyFile };
}
