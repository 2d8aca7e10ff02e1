import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listSecrets, readSecret, SecretError } from '../src/secrets.ts';

describe('secrets from files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    // The layout Kubernetes uses for a mounted Secret: files are symlinks into a timestamped dir.
    mkdirSync(join(dir, '..2026_11_23_12_00_00.1'));
    writeFileSync(join(dir, '..2026_11_23_12_00_00.1', 'api-token'), 's3cr3t-value\n');
    symlinkSync('..2026_11_23_12_00_00.1', join(dir, '..data'));
    symlinkSync(join('..data', 'api-token'), join(dir, 'api-token'));
    writeFileSync(join(dir, 'db-password'), 'p@ss\r\n');
    writeFileSync(join(dir, 'multi-line'), 'line 1\nline 2\n\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a secret file without its trailing newline', () => {
    assert.equal(readSecret('api-token', dir), 's3cr3t-value');
    assert.equal(readSecret('db-password', dir), 'p@ss');
    assert.equal(readSecret('multi-line', dir), 'line 1\nline 2\n');
  });

  it('lists secret names, not Kubernetes bookkeeping entries', () => {
    assert.deepEqual(listSecrets(dir), ['api-token', 'db-password', 'multi-line']);
    assert.deepEqual(listSecrets(join(dir, 'missing')), []);
  });

  it('fails with an error naming the file, never a value', () => {
    assert.throws(() => readSecret('absent', dir), (err: unknown) => err instanceof SecretError && /absent not found/.test(err.message));
    for (const name of ['../etc/passwd', '..data', 'a/b', '']) {
      assert.throws(() => readSecret(name, dir), SecretError, name);
    }
  });
});
