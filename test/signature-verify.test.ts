import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';

/**
 * A signature in the formats the emitted pipeline produces verifies, offline, with Sigstore's own verifier
 * (@sigstore/verify), and a tampered one does not. The pipeline signs keylessly (a Fulcio certificate, a Rekor
 * entry): neither exists offline, so a local ECDSA P-256 key (cosign's key type) stands in for the certificate,
 * and the signature, the payload and the digest checks are the real ones:
 * - the image signature, cosign's legacy format (what the pipeline signs with, data/admission-facts.json):
 *   the simple-signing payload naming the manifest digest, signed directly;
 * - the SBOM attestation and cosign 3's default, a DSSE envelope holding an in-toto Statement whose subject is
 *   the manifest digest.
 */
const facts = JSON.parse(await readFile(new URL('../data/admission-facts.json', import.meta.url), 'utf8'));
const IMAGE = 'ghcr.io/acme/orders-api';
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

/** A local image manifest (OCI image manifest v1) and its digest, as the registry names it. */
function imageManifest(layer = 'layer'): { bytes: Buffer; digest: string } {
  const descriptor = (mediaType: string, content: string) => ({ mediaType, digest: `sha256:${sha256(content).toString('hex')}`, size: content.length });
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: descriptor('application/vnd.oci.image.config.v1+json', '{"architecture":"amd64","os":"linux"}'),
    layers: [descriptor('application/vnd.oci.image.layer.v1.tar+gzip', layer)],
  }));
  return { bytes, digest: `sha256:${sha256(bytes).toString('hex')}` };
}

/** cosign's simple-signing payload for a digest (the legacy format's signed content). */
function simpleSigningPayload(digest: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': IMAGE }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
}

const key = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const HINT = 'local-test-key';

function verifier(publicKey: KeyObject) {
  const trust = toTrustMaterial(
    { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
    (hint: string) => {
      if (hint !== HINT) throw new Error(`unknown key ${hint}`);
      return { publicKey, validFor: () => true };
    },
  );
  // Offline: no Rekor entry, no timestamp; the key stands in for the Fulcio certificate.
  return new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
}

const material = { publicKey: { hint: HINT }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } };

/** The legacy signature as a Sigstore bundle: a message signature over the payload. */
function legacySignature(payload: Buffer, privateKey: KeyObject) {
  return bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: material,
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: sha256(payload).toString('base64') }, signature: sign('sha256', payload, privateKey).toString('base64') },
  });
}

/** cosign's checks after the signature: the payload names this image and exactly this manifest digest. */
function claimsMatch(payload: Buffer, manifest: Buffer): boolean {
  const { critical } = JSON.parse(payload.toString('utf8'));
  return critical.type === 'cosign container image signature' && critical.identity['docker-reference'] === IMAGE && critical.image['docker-manifest-digest'] === `sha256:${sha256(manifest).toString('hex')}`;
}

describe("the image signature, in cosign's legacy format (the pipeline's)", () => {
  it('is the format the pipeline signs with', () => {
    expect(facts.signing.cosign.legacyFlags).toEqual(['--new-bundle-format=false', '--use-signing-config=false']);
    expect(facts.signing.cosign.legacyFormat).toContain("type: 'cosign container image signature'");
  });

  it('verifies, and its payload names the manifest digest', () => {
    const { privateKey, publicKey } = key();
    const manifest = imageManifest();
    const payload = simpleSigningPayload(manifest.digest);
    expect(() => verifier(publicKey).verify(toSignedEntity(legacySignature(payload, privateKey), payload))).not.toThrow();
    expect(claimsMatch(payload, manifest.bytes)).toBe(true);
  });

  it('a tampered digest in the payload fails the signature', () => {
    const { privateKey, publicKey } = key();
    const manifest = imageManifest();
    const bundle = legacySignature(simpleSigningPayload(manifest.digest), privateKey);
    const tampered = simpleSigningPayload(imageManifest('another layer').digest);
    expect(() => verifier(publicKey).verify(toSignedEntity(bundle, tampered))).toThrow(/signature|digest/i);
  });

  it("a signature for one manifest does not vouch for another (a swapped image's digest differs)", () => {
    const { privateKey, publicKey } = key();
    const payload = simpleSigningPayload(imageManifest().digest);
    expect(() => verifier(publicKey).verify(toSignedEntity(legacySignature(payload, privateKey), payload))).not.toThrow();
    expect(claimsMatch(payload, imageManifest('swapped layer').bytes)).toBe(false);
  });

  it("another signer's key fails", () => {
    const { privateKey } = key();
    const payload = simpleSigningPayload(imageManifest().digest);
    expect(() => verifier(key().publicKey).verify(toSignedEntity(legacySignature(payload, privateKey), payload))).toThrow();
  });
});

describe("the attestation format (the SBOM's; cosign 3's default): a DSSE envelope over an in-toto Statement", () => {
  const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
  /** DSSE's pre-authentication encoding: what is signed. */
  const pae = (type: string, body: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
  const statement = (digest: string) =>
    Buffer.from(JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: digest.replace('sha256:', '') } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    }));
  const envelope = (body: Buffer, signature: Buffer) =>
    bundleFromJSON({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: material,
      dsseEnvelope: { payload: body.toString('base64'), payloadType: PAYLOAD_TYPE, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
    });
  const subjectOf = (body: Buffer) => `sha256:${JSON.parse(body.toString('utf8')).subject[0].digest.sha256}`;

  it('is the predicate type cosign 3 signs with', () => {
    expect(facts.signing.cosign.defaultFormat).toContain('predicateType https://sigstore.dev/cosign/sign/v1');
  });

  it('verifies, and its subject is the manifest digest', () => {
    const { privateKey, publicKey } = key();
    const manifest = imageManifest();
    const body = statement(manifest.digest);
    expect(() => verifier(publicKey).verify(toSignedEntity(envelope(body, sign('sha256', pae(PAYLOAD_TYPE, body), privateKey))))).not.toThrow();
    expect(subjectOf(body)).toBe(manifest.digest);
  });

  it('a tampered subject digest fails', () => {
    const { privateKey, publicKey } = key();
    const signature = sign('sha256', pae(PAYLOAD_TYPE, statement(imageManifest().digest)), privateKey);
    const tampered = statement(imageManifest('another layer').digest);
    expect(() => verifier(publicKey).verify(toSignedEntity(envelope(tampered, signature)))).toThrow(/signature/i);
  });
});
