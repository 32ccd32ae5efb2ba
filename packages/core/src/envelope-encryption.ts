import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from './node-crypto.js';
import { systemClock, type Clock } from './clock.js';
import { createBoundedCache } from './bounded-cache.js';
import { LetmepostError } from './letmepost-error.js';
import type { StoreEntry, TokenStore } from './token-store.js';

/*
 * Envelope format (every part base64url, no padding):
 *
 *   lmp1.<kid>.<wrapIv>.<wrappedDataKey+tag>.<dataIv>.<ciphertext+tag>
 *
 * Each record gets its own random 256-bit data key. The plaintext is sealed with it
 * (AES-256-GCM, AAD = "lmp1:data:" + associatedData), and the data key is sealed ("wrapped") with
 * the master key `kid` (AES-256-GCM, AAD = "lmp1:wrap:" + kid + ":" + SHA-256(dataIv ‖ ciphertext+tag)).
 *
 * Why the wrap is bound to the sealed data and not to the associated data itself: rotation must
 * re-wrap every data key knowing only the keyring, and the associated data (which record, which
 * field) is known only to the code that wrote it. Binding the wrap to a digest of the sealed data
 * keeps rotation keyring-only, while the associated data still protects the record: it is
 * authenticated by the data seal, so an envelope moved to another record fails there, and the
 * wrapped key cannot be spliced onto another record's data because the wrap authenticates exactly
 * that data. Storing a hash of the associated data in the header would have worked too, but it
 * would publish a guessable fingerprint of every record's identity next to its ciphertext.
 * The kid is in the wrap AAD so the label cannot be swapped for another key's.
 *
 * Version-bound envelopes (`lmp2.`, same layout) also carry the version of the store record they
 * are written into, in the wrap AAD ("lmp2:wrap:" + kid + ":" + recordVersion + ":" + digest) and
 * in the data AAD's prefix ("lmp2:data:"). A record replayed over a newer one (an attacker with
 * write access to the store putting back yesterday's tokens) lands at a higher store version than
 * the one it was sealed for, so it fails to open. Rotation knows the version it writes at (it
 * writes with compare-and-set), so it re-binds the wrap while re-wrapping, still keyring-only.
 * `lmp1.` envelopes (written before version binding) keep opening until their record is rewritten.
 */

const FORMAT_PREFIX = 'lmp1';
const VERSIONED_FORMAT_PREFIX = 'lmp2';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_KEY_BYTES = KEY_BYTES + TAG_BYTES;
/** Opened envelopes a cipher remembers (see `opened` in `createEnvelopeCipher`). */
const OPENED_MAX = 1024;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL_PART = '[A-Za-z0-9_-]+';
const CIPHERTEXT_PATTERN = new RegExp(
  `^(?:${FORMAT_PREFIX}|${VERSIONED_FORMAT_PREFIX})\\.([A-Za-z0-9_-]{1,64})\\.${BASE64URL_PART}\\.${BASE64URL_PART}\\.${BASE64URL_PART}\\.${BASE64URL_PART}$`,
);

/** One master key. The key material is held as a `KeyObject`, which never prints its bytes. */
export interface EncryptionKey {
  /** Stored in every envelope it wraps; not secret. */
  readonly id: string;
  readonly key: KeyObject;
}

/** The master key new envelopes are wrapped with, plus older keys still able to open envelopes. */
export interface Keyring {
  readonly current: EncryptionKey;
  readonly previous: readonly EncryptionKey[];
}

export type EncryptionKeyInput =
  | string
  | { current: { id: string; key: string }; previous?: ReadonlyArray<{ id: string; key: string }> };

/**
 * Parses a master key (`KEK_MASTER`: base64 of exactly 32 bytes, standard or url-safe alphabet,
 * padding optional) or a keyring with rotation history. A plain string gets a key id derived from
 * the key: a short digest, so it is stable across restarts and reveals nothing usable. Passing a
 * `Keyring` returns it unchanged, so hosts can hand either form to `createLetmepost`.
 */
export function parseEncryptionKey(input: EncryptionKeyInput | Keyring): Keyring {
  if (typeof input === 'string') {
    const key = decodeKey({ encoded: input, field: 'encryptionKey' });
    return freezeKeyring({ current: { id: deriveKeyId(key), key: nodeCrypto().createSecretKey(key) }, previous: [] });
  }
  if (input === null || typeof input !== 'object' || input.current === null || typeof input.current !== 'object') {
    throw keyError({
      field: 'encryptionKey',
      message: 'The encryption key is missing: pass KEK_MASTER (base64 of 32 random bytes) or a keyring { current, previous }.',
    });
  }
  if (isKeyring(input)) return input;

  const rawInput = input as Exclude<EncryptionKeyInput, string>;
  const previousInput = rawInput.previous ?? [];
  if (!Array.isArray(previousInput)) {
    throw keyError({ field: 'encryptionKey.previous', message: 'encryptionKey.previous must be an array of { id, key }.' });
  }
  const current = parseKeyEntry({ entry: rawInput.current, field: 'encryptionKey.current' });
  const previous = previousInput.map((entry, index) =>
    parseKeyEntry({ entry, field: `encryptionKey.previous.${index}` }),
  );
  const seen = new Set<string>();
  for (const [index, key] of [current, ...previous].entries()) {
    if (seen.has(key.id)) {
      throw keyError({
        field: index === 0 ? 'encryptionKey.current.id' : `encryptionKey.previous.${index - 1}.id`,
        message: `The key id "${key.id}" is used twice in the keyring; every key needs its own id.`,
      });
    }
    seen.add(key.id);
  }
  return freezeKeyring({ current, previous });
}

export interface EnvelopeCipher {
  /** The key id new envelopes are wrapped with. */
  readonly currentKeyId: string;
  /**
   * Seals `plaintext` for one record. `associatedData` names where the value lives (e.g.
   * `account:<id>:tokens`); decrypting with different associated data fails, so a ciphertext
   * copied into another record is useless there.
   */
  encrypt(options: EnvelopeEncryptOptions): string;
  decrypt(options: EnvelopeDecryptOptions): string;
  /**
   * Re-wraps the data key of `ciphertext` under the current master key; the sealed data is kept
   * byte for byte. Needs no associated data. Returns the input unchanged if already current.
   * A version-bound envelope is re-bound from `recordVersion` to `nextRecordVersion` (both
   * required for one): the version its record is at now and the one the rewrite will give it.
   */
  rewrap(options: { ciphertext: string; recordVersion?: number; nextRecordVersion?: number }): string;
}

export interface EnvelopeEncryptOptions {
  plaintext: string;
  associatedData: string;
  /**
   * The store version the record holding this value will have once written (a create is version
   * 1; a compare-and-set at version n writes n + 1). Given, the envelope opens only at that
   * version, so an older copy of the record put back later is refused.
   */
  recordVersion?: number;
}

export interface EnvelopeDecryptOptions {
  ciphertext: string;
  associatedData: string;
  /** The store version of the record the value was read from; required by version-bound envelopes. */
  recordVersion?: number;
}

export function createEnvelopeCipher(options: { keyring: Keyring }): EnvelopeCipher {
  const keyring = options.keyring;
  if (!isKeyring(keyring)) {
    throw keyError({ field: 'keyring', message: 'createEnvelopeCipher needs a keyring from parseEncryptionKey().' });
  }
  const keysById = new Map<string, KeyObject>();
  for (const entry of [keyring.current, ...keyring.previous]) keysById.set(entry.id, entry.key);

  const masterKey = (kid: string): KeyObject => {
    const key = keysById.get(kid);
    if (key === undefined) {
      throw new LetmepostError({
        code: 'decryption_failed',
        message: `The value was encrypted with key id "${kid}", which is not in the keyring.`,
        remediation: 'Add the key it was written with to encryptionKey.previous, then run rotateEncryptionKey.',
      });
    }
    return key;
  };

  const unwrapDataKey = (envelope: Envelope, recordVersion: number | undefined): Buffer => {
    const key = masterKey(envelope.kid);
    try {
      const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', key, envelope.wrapIv, { authTagLength: TAG_BYTES });
      decipher.setAAD(
        wrapAad({ format: envelope.format, kid: envelope.kid, recordVersion, dataIv: envelope.dataIv, sealedData: envelope.sealedData }),
      );
      decipher.setAuthTag(envelope.wrappedKey.subarray(KEY_BYTES));
      return Buffer.concat([decipher.update(envelope.wrappedKey.subarray(0, KEY_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new LetmepostError({
        code: 'decryption_failed',
        message: `The data key could not be unwrapped with key id "${envelope.kid}": the key material differs from the one that wrote it, or the envelope was altered.`,
        cause,
      });
    }
  };

  const unwrapVersioned = ({ envelope, recordVersion }: { envelope: Envelope; recordVersion: number | undefined }): Buffer => {
    if (envelope.format === VERSIONED_FORMAT_PREFIX && recordVersion !== undefined) {
      assertRecordVersion({ value: recordVersion, field: 'recordVersion' });
    }
    return unwrapDataKey(envelope, envelope.format === VERSIONED_FORMAT_PREFIX ? recordVersion : undefined);
  };

  const wrapDataKey = ({
    format,
    recordVersion,
    dataKey,
    dataIv,
    sealedData,
  }: {
    format: EnvelopeFormat;
    recordVersion: number | undefined;
    dataKey: Buffer;
    dataIv: Buffer;
    sealedData: Buffer;
  }) => {
    const kid = keyring.current.id;
    const wrapIv = nodeCrypto().randomBytes(IV_BYTES);
    const cipher = nodeCrypto().createCipheriv('aes-256-gcm', keyring.current.key, wrapIv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad({ format, kid, recordVersion, dataIv, sealedData }));
    const wrappedKey = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return { kid, wrapIv, wrappedKey };
  };

  /**
   * Envelopes this cipher opened, with what they opened to, most recently used last. Opening is
   * a pure function of the keyring (fixed for the cipher), the envelope, the associated data and
   * the record version, so a value read again (every publish reads its account's tokens) is
   * answered without two AES-GCM operations and a digest; any change to a record gives a new
   * envelope. It holds nothing the process could not open again at will: the keyring that opens
   * every envelope of the store is in the same memory.
   */
  const opened = createBoundedCache<string, { associatedData: string; recordVersion: number | undefined; plaintext: string }>({
    max: OPENED_MAX,
  });

  /** Opens one envelope: unwraps its data key with the master key, then the data. */
  function open({ ciphertext, associatedData, recordVersion }: EnvelopeDecryptOptions): string {
    const envelope = parseEnvelope(ciphertext);
    if (envelope.format === VERSIONED_FORMAT_PREFIX && recordVersion === undefined) {
      throw new LetmepostError({
        code: 'decryption_failed',
        message: 'The value is bound to the version of its record; it can only be opened with that record version.',
      });
    }
    const dataKey = unwrapVersioned({ envelope, recordVersion });
    try {
      const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', dataKey, envelope.dataIv, { authTagLength: TAG_BYTES });
      decipher.setAAD(dataAad({ format: envelope.format, associatedData }));
      decipher.setAuthTag(envelope.sealedData.subarray(envelope.sealedData.length - TAG_BYTES));
      const plaintext = Buffer.concat([
        decipher.update(envelope.sealedData.subarray(0, envelope.sealedData.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plaintext.toString('utf8');
    } catch (cause) {
      throw new LetmepostError({
        code: 'decryption_failed',
        message:
          'The value does not authenticate for this record: it was written for different associated data (copied from another record) or altered.',
        cause,
      });
    } finally {
      dataKey.fill(0);
    }
  }

  return {
    currentKeyId: keyring.current.id,

    encrypt({ plaintext, associatedData, recordVersion }) {
      if (typeof plaintext !== 'string') {
        throw new LetmepostError({ code: 'validation_failed', field: 'plaintext', message: 'plaintext must be a string.' });
      }
      assertAssociatedData(associatedData);
      if (recordVersion !== undefined) assertRecordVersion({ value: recordVersion, field: 'recordVersion' });
      const format: EnvelopeFormat = recordVersion === undefined ? FORMAT_PREFIX : VERSIONED_FORMAT_PREFIX;
      const dataKey = nodeCrypto().randomBytes(KEY_BYTES);
      try {
        const dataIv = nodeCrypto().randomBytes(IV_BYTES);
        const cipher = nodeCrypto().createCipheriv('aes-256-gcm', dataKey, dataIv, { authTagLength: TAG_BYTES });
        cipher.setAAD(dataAad({ format, associatedData }));
        const sealedData = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
        const { kid, wrapIv, wrappedKey } = wrapDataKey({ format, recordVersion, dataKey, dataIv, sealedData });
        return formatEnvelope({ format, kid, wrapIv, wrappedKey, dataIv, sealedData });
      } finally {
        dataKey.fill(0);
      }
    },

    decrypt({ ciphertext, associatedData, recordVersion }) {
      assertAssociatedData(associatedData);
      const known = typeof ciphertext === 'string' ? opened.get(ciphertext) : undefined;
      if (known !== undefined && known.associatedData === associatedData && known.recordVersion === recordVersion) {
        return known.plaintext;
      }
      const plaintext = open({ ciphertext, associatedData, recordVersion });
      opened.set(ciphertext, { associatedData, recordVersion, plaintext });
      return plaintext;
    },

    rewrap({ ciphertext, recordVersion, nextRecordVersion }) {
      const envelope = parseEnvelope(ciphertext);
      const versioned = envelope.format === VERSIONED_FORMAT_PREFIX;
      if (versioned) {
        if (recordVersion === undefined || nextRecordVersion === undefined) {
          throw new LetmepostError({
            code: 'validation_failed',
            field: 'recordVersion',
            message: 'A version-bound envelope is re-wrapped from its record version to the next one; give both.',
          });
        }
        assertRecordVersion({ value: nextRecordVersion, field: 'nextRecordVersion' });
      }
      const rebind = versioned && recordVersion !== nextRecordVersion;
      if (envelope.kid === keyring.current.id && !rebind) return ciphertext;
      const dataKey = unwrapVersioned({ envelope, recordVersion });
      try {
        const { kid, wrapIv, wrappedKey } = wrapDataKey({
          format: envelope.format,
          recordVersion: versioned ? nextRecordVersion : undefined,
          dataKey,
          dataIv: envelope.dataIv,
          sealedData: envelope.sealedData,
        });
        return formatEnvelope({
          format: envelope.format,
          kid,
          wrapIv,
          wrappedKey,
          dataIv: envelope.dataIv,
          sealedData: envelope.sealedData,
        });
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

/** Whether `value` is an envelope this module wrote (shape only; says nothing about the key). */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && CIPHERTEXT_PATTERN.test(value);
}

/** The id of the master key that wraps `ciphertext`, or `undefined` if it is not an envelope. */
export function keyIdOf(ciphertext: string): string | undefined {
  if (typeof ciphertext !== 'string') return undefined;
  return CIPHERTEXT_PATTERN.exec(ciphertext)?.[1];
}

export interface RotateEncryptionKeyOptions {
  store: TokenStore;
  keyring: Keyring;
  /** Only entries under this key prefix. Defaults to every entry. */
  prefix?: string;
  /** Start after this key (exclusive), e.g. `lastKey` from an interrupted run's progress. */
  after?: string;
  /** Entries per `list` page. Defaults to 100. */
  batchSize?: number;
  onProgress?: (progress: RotateEncryptionKeyProgress) => void;
  /** Stops between records; every record stays readable, and a re-run finishes the job. */
  signal?: AbortSignal;
  /** Used to carry an entry's remaining TTL over to the re-written entry. */
  clock?: Clock;
}

export interface RotateEncryptionKeyResult {
  /** Entries visited. */
  scanned: number;
  /** Entries written back with at least one envelope re-wrapped under the current key. */
  rewrapped: number;
  /** Entries holding envelopes that were all under the current key already. */
  alreadyCurrent: number;
}

export interface RotateEncryptionKeyProgress extends RotateEncryptionKeyResult {
  /** Last key visited; pass as `after` to continue from there. */
  lastKey: string;
}

const MAX_CONFLICT_RETRIES = 10;

/**
 * Re-wraps every envelope in the store under `keyring.current`. Only the 48-byte data keys are
 * re-sealed, so it is cheap, and the associated data need not be known. Values may be an envelope
 * or JSON holding envelopes at any depth; everything else in a value is kept byte for byte.
 * Each entry is written back with compare-and-set, re-reading it when a concurrent writer got
 * there first. Safe to interrupt and run again: entries already under the current key are
 * skipped, and old keys stay in `keyring.previous` so every entry is readable throughout.
 */
export async function rotateEncryptionKey(options: RotateEncryptionKeyOptions): Promise<RotateEncryptionKeyResult> {
  const { store, keyring, prefix = '', signal, onProgress } = options;
  const clock = options.clock ?? systemClock;
  const batchSize = options.batchSize ?? 100;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new LetmepostError({ code: 'validation_failed', field: 'batchSize', message: 'batchSize must be a positive integer.' });
  }
  const cipher = createEnvelopeCipher({ keyring });
  const result: RotateEncryptionKeyResult = { scanned: 0, rewrapped: 0, alreadyCurrent: 0 };

  let after = options.after;
  for (;;) {
    signal?.throwIfAborted();
    const page = await store.list(prefix, after === undefined ? { limit: batchSize } : { limit: batchSize, after });
    if (page.length === 0) break;
    for (const listed of page) {
      signal?.throwIfAborted();
      const outcome = await rotateEntry({ store, cipher, entry: listed, clock });
      result.scanned++;
      if (outcome === 'rewrapped') result.rewrapped++;
      else if (outcome === 'already_current') result.alreadyCurrent++;
      after = listed.key;
    }
    onProgress?.({ ...result, lastKey: page[page.length - 1]!.key });
    if (page.length < batchSize) break;
  }
  return result;
}

async function rotateEntry({
  store,
  cipher,
  entry,
  clock,
}: {
  store: TokenStore;
  cipher: EnvelopeCipher;
  entry: StoreEntry;
  clock: Clock;
}): Promise<'rewrapped' | 'already_current' | 'no_envelopes'> {
  let current: StoreEntry | null = entry;
  for (let attempt = 0; ; attempt++) {
    if (current === null) return 'no_envelopes';
    const census = envelopeCensus({ value: current.value, currentKeyId: cipher.currentKeyId });
    if (census.envelopes === 0) return 'no_envelopes';
    // Rewriting bumps the store version, so it is only done when a key actually changes; it then
    // re-binds every version-bound envelope of the entry to the version the write will give it.
    if (census.stale === 0) return 'already_current';
    const rewritten = rewrapValue({
      value: current.value,
      cipher,
      recordVersion: current.version,
      nextRecordVersion: current.version + 1,
    });

    let ttlMs: number | undefined;
    if (current.expiresAt !== undefined) {
      ttlMs = current.expiresAt - clock.now();
      // Expired entries are absent by contract; nothing to keep readable.
      if (ttlMs <= 0) return 'no_envelopes';
    }
    try {
      await store.set(current.key, rewritten.value, { expectedVersion: current.version, ...(ttlMs === undefined ? {} : { ttlMs }) });
      return 'rewrapped';
    } catch (error) {
      if (!(LetmepostError.isInstance(error) && error.code === 'store_conflict') || attempt >= MAX_CONFLICT_RETRIES) {
        throw error;
      }
      current = await store.get(current.key);
    }
  }
}

/** Re-wraps every envelope of a stored value, re-binding version-bound ones to `nextRecordVersion`. */
function rewrapValue({
  value,
  cipher,
  recordVersion,
  nextRecordVersion,
}: {
  value: string;
  cipher: EnvelopeCipher;
  recordVersion: number;
  nextRecordVersion: number;
}): { value: string; envelopes: number } {
  let envelopes = 0;
  const output = mapEnvelopes({
    value,
    map: (token) => {
      envelopes++;
      return cipher.rewrap({ ciphertext: token, recordVersion, nextRecordVersion });
    },
  });
  return { value: output, envelopes };
}

/** How many envelopes a stored value holds, and how many of them are not under `currentKeyId`. */
function envelopeCensus({ value, currentKeyId }: { value: string; currentKeyId: string }): { envelopes: number; stale: number } {
  let envelopes = 0;
  let stale = 0;
  mapEnvelopes({
    value,
    map: (token) => {
      envelopes++;
      if (keyIdOf(token) !== currentKeyId) stale++;
      return token;
    },
  });
  return { envelopes, stale };
}

/**
 * Replaces envelopes in a stored value without re-serializing it: a value that is one envelope,
 * or JSON whose string values are envelopes. Going through JSON.parse/stringify would round large
 * integers and reformat the text, so the JSON is only parsed to validate it and then the string
 * tokens are rewritten in place.
 */
function mapEnvelopes({ value, map }: { value: string; map: (token: string) => string }): string {
  if (CIPHERTEXT_PATTERN.test(value)) return map(value);
  if (!value.includes(`${FORMAT_PREFIX}.`) && !value.includes(`${VERSIONED_FORMAT_PREFIX}.`)) return value;
  try {
    JSON.parse(value);
  } catch {
    return value;
  }

  let output = '';
  let copiedUpTo = 0;
  let index = 0;
  while (index < value.length) {
    if (value[index] !== '"') {
      index++;
      continue;
    }
    const start = index + 1;
    let end = start;
    while (value[end] !== '"') end += value[end] === '\\' ? 2 : 1;
    index = end + 1;
    // Object keys are names, not stored secrets.
    let next = index;
    while (next < value.length && /\s/.test(value[next]!)) next++;
    if (value[next] === ':') continue;
    const token = value.slice(start, end);
    if (!CIPHERTEXT_PATTERN.test(token)) continue;
    output += value.slice(copiedUpTo, start) + map(token);
    copiedUpTo = end;
  }
  return output + value.slice(copiedUpTo);
}

type EnvelopeFormat = typeof FORMAT_PREFIX | typeof VERSIONED_FORMAT_PREFIX;

interface Envelope {
  format: EnvelopeFormat;
  kid: string;
  wrapIv: Buffer;
  wrappedKey: Buffer;
  dataIv: Buffer;
  sealedData: Buffer;
}

function formatEnvelope(envelope: Envelope): string {
  return [
    envelope.format,
    envelope.kid,
    envelope.wrapIv.toString('base64url'),
    envelope.wrappedKey.toString('base64url'),
    envelope.dataIv.toString('base64url'),
    envelope.sealedData.toString('base64url'),
  ].join('.');
}

function parseEnvelope(ciphertext: unknown): Envelope {
  const malformed = (detail: string): LetmepostError =>
    new LetmepostError({ code: 'decryption_failed', message: `The value is not a valid letmepost envelope: ${detail}.` });
  if (typeof ciphertext !== 'string') throw malformed('expected a string');
  if (!CIPHERTEXT_PATTERN.test(ciphertext)) throw malformed(`expected "${FORMAT_PREFIX}." followed by five dot-separated parts`);
  const [format, kid, wrapIv, wrappedKey, dataIv, sealedData] = ciphertext.split('.') as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const envelope: Envelope = {
    format: format === VERSIONED_FORMAT_PREFIX ? VERSIONED_FORMAT_PREFIX : FORMAT_PREFIX,
    kid,
    wrapIv: Buffer.from(wrapIv, 'base64url'),
    wrappedKey: Buffer.from(wrappedKey, 'base64url'),
    dataIv: Buffer.from(dataIv, 'base64url'),
    sealedData: Buffer.from(sealedData, 'base64url'),
  };
  if (envelope.wrapIv.length !== IV_BYTES || envelope.dataIv.length !== IV_BYTES) throw malformed('bad IV length');
  if (envelope.wrappedKey.length !== WRAPPED_KEY_BYTES) throw malformed('bad wrapped key length');
  if (envelope.sealedData.length < TAG_BYTES) throw malformed('sealed data shorter than its tag');
  return envelope;
}

function dataAad({ format, associatedData }: { format: EnvelopeFormat; associatedData: string }): Buffer {
  return Buffer.from(`${format}:data:${associatedData}`, 'utf8');
}

function wrapAad({
  format,
  kid,
  recordVersion,
  dataIv,
  sealedData,
}: {
  format: EnvelopeFormat;
  kid: string;
  recordVersion: number | undefined;
  dataIv: Buffer;
  sealedData: Buffer;
}): Buffer {
  const digest = nodeCrypto().createHash('sha256').update(dataIv).update(sealedData).digest();
  // The format is in the AAD, so relabelling an lmp2 envelope as lmp1 (to shed its version) fails.
  const header = format === VERSIONED_FORMAT_PREFIX ? `${format}:wrap:${kid}:${recordVersion}:` : `${format}:wrap:${kid}:`;
  return Buffer.concat([Buffer.from(header, 'utf8'), digest]);
}

function assertRecordVersion({ value, field }: { value: unknown; field: string }): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new LetmepostError({ code: 'validation_failed', field, message: `${field} must be a positive integer (a store version).` });
  }
}

function assertAssociatedData(associatedData: unknown): asserts associatedData is string {
  if (typeof associatedData !== 'string' || associatedData.length === 0) {
    throw new LetmepostError({
      code: 'validation_failed',
      field: 'associatedData',
      message: 'associatedData must be a non-empty string naming the record the value belongs to.',
    });
  }
}

function parseKeyEntry({ entry, field }: { entry: unknown; field: string }): EncryptionKey {
  if (entry === null || typeof entry !== 'object') {
    throw keyError({ field, message: `${field} must be an object { id, key }.` });
  }
  const { id, key } = entry as { id?: unknown; key?: unknown };
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
    throw keyError({
      field: `${field}.id`,
      message: `${field}.id must be 1 to 64 characters of letters, digits, "_" or "-" (it is stored in every envelope).`,
    });
  }
  if (typeof key !== 'string') {
    throw keyError({ field: `${field}.key`, message: `${field}.key is missing: expected base64 of 32 random bytes.` });
  }
  return { id, key: nodeCrypto().createSecretKey(decodeKey({ encoded: key, field: `${field}.key` })) };
}

/** Decodes base64 (standard or url-safe, padding optional) of exactly 32 bytes. */
function decodeKey({ encoded, field }: { encoded: string; field: string }): Buffer {
  const remediation = 'Generate one with `openssl rand -base64 32` (or `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`).';
  // Environment files often leave a trailing newline; nothing else is forgiven.
  const trimmed = encoded.trim();
  if (trimmed.length === 0) {
    throw keyError({ field, remediation, message: `${field} is empty: expected base64 of 32 random bytes.` });
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw keyError({
      field,
      remediation,
      message: `${field} is not base64: it contains characters outside the base64 alphabets (${trimmed.length} characters given).`,
    });
  }
  const unpadded = trimmed.replace(/=+$/, '');
  const decoded = Buffer.from(unpadded.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  if (decoded.length !== KEY_BYTES || unpadded.length !== 43) {
    const looksHex = /^[0-9a-fA-F]{64}$/.test(trimmed);
    decoded.fill(0);
    throw keyError({
      field,
      remediation,
      message: looksHex
        ? `${field} looks like hex; it must be the same 32 bytes encoded as base64 (44 characters).`
        : `${field} must decode to exactly 32 bytes; ${trimmed.length} characters of base64 decode to ${decoded.length} bytes.`,
    });
  }
  return decoded;
}

function deriveKeyId(key: Buffer): string {
  // Domain-separated so the id is not a plain hash of the key that might be reused elsewhere.
  return nodeCrypto().createHash('sha256').update('letmepost key id\0').update(key).digest('hex').slice(0, 8);
}

function isKeyring(value: unknown): value is Keyring {
  if (value === null || typeof value !== 'object') return false;
  const { current, previous } = value as { current?: unknown; previous?: unknown };
  return isEncryptionKey(current) && Array.isArray(previous) && previous.every(isEncryptionKey);
}

function isEncryptionKey(value: unknown): value is EncryptionKey {
  if (value === null || typeof value !== 'object') return false;
  const { id, key } = value as { id?: unknown; key?: unknown };
  return (
    typeof id === 'string' &&
    KEY_ID_PATTERN.test(id) &&
    typeof key === 'object' &&
    key !== null &&
    (key as KeyObject).type === 'secret' &&
    (key as KeyObject).symmetricKeySize === KEY_BYTES
  );
}

function freezeKeyring(keyring: Keyring): Keyring {
  return Object.freeze({
    current: Object.freeze({ ...keyring.current }),
    previous: Object.freeze(keyring.previous.map((entry) => Object.freeze({ ...entry }))),
  });
}

function keyError({ field, message, remediation }: { field: string; message: string; remediation?: string }): LetmepostError {
  return new LetmepostError({
    code: 'encryption_key_invalid',
    field,
    message,
    ...(remediation === undefined ? {} : { remediation }),
  });
}
