import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * Test-only: compiles the official atproto lexicons (Lexicon v1 JSON) into JSON Schema and
 * validates records with ajv. Lexicon semantics that JSON Schema lacks are custom keywords:
 * string `maxLength`/`minLength` count UTF-8 bytes, `maxGraphemes`/`minGraphemes` count
 * grapheme clusters, blobs carry `accept` and `maxSize`, unions select by `$type`.
 *
 * Stricter than a PDS in one respect, on purpose: objects may not carry properties their
 * lexicon does not declare, so a misspelt field in our records fails here.
 */

/**
 * The official lexicons this validator reaches from `app.bsky.feed.post`, kept in the repository
 * (source, version and licence in `lexicons/README.md`) so a clone anywhere runs the contract.
 */
export const LEXICON_ROOT = fileURLToPath(new URL('./lexicons/', import.meta.url));

type LexiconDef = Record<string, unknown> & { type: string };
interface LexiconDocument {
  lexicon: 1;
  id: string;
  defs: Record<string, LexiconDef>;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (value: string): number => [...segmenter.segment(value)].length;
const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

function loadLexicon(nsid: string): LexiconDocument {
  const path = `${LEXICON_ROOT}${nsid.split('.').join('/')}.json`;
  if (!existsSync(path)) throw new Error(`lexicon ${nsid} not found at ${path}; copy it and the lexicons it references into src/test-support/lexicons (see its README)`);
  const document = JSON.parse(readFileSync(path, 'utf8')) as LexiconDocument;
  if (document.lexicon !== 1 || document.id !== nsid) throw new Error(`${path} is not lexicon ${nsid}`);
  return document;
}

/** `lex:a.b.c#def`, `a.b.c`, `#def` → [nsid, def] (relative refs resolve against `base`). */
function parseRef(ref: string, base: string): [string, string] {
  const bare = ref.startsWith('lex:') ? ref.slice(4) : ref;
  const [nsid, def] = bare.split('#') as [string, string | undefined];
  return [nsid === '' ? base : nsid, def ?? 'main'];
}

const key = (nsid: string, def: string) => `${nsid}#${def}`;
/** The `$type` a union member carries: the NSID alone for `main`. */
const typeName = (nsid: string, def: string) => (def === 'main' ? nsid : `${nsid}#${def}`);

const FORMATS: Record<string, RegExp> = {
  did: /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/,
  handle: /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
  'at-identifier': /^(did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]|([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]*)$/,
  'at-uri': /^at:\/\/[a-zA-Z0-9._:%-]+(\/[a-zA-Z0-9.-]+(\/[A-Za-z0-9._:~-]+)?)?$/,
  nsid: /^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$/,
  cid: /^[a-zA-Z0-9+=]{8,}$/,
  // RFC 3339 with mandatory timezone, as atproto's datetime format requires.
  datetime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  language: /^(i|[a-zA-Z]{2,3})(-[a-zA-Z0-9]+)*$/,
  'record-key': /^[A-Za-z0-9._:~-]{1,512}$/,
  tid: /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/,
  uri: /^[a-z][a-z0-9+.-]*:\S+$/i,
};

export interface LexiconValidator {
  /** Validates a record against `nsid`'s `main` record definition; returns readable errors. */
  validateRecord(options: { nsid: string; record: unknown }): string[];
}

export function createLexiconValidator(): LexiconValidator {
  const documents = new Map<string, LexiconDocument>();
  const definitions: Record<string, unknown> = {};
  const pending: Array<[string, string]> = [];

  const documentOf = (nsid: string): LexiconDocument => {
    let document = documents.get(nsid);
    if (!document) {
      document = loadLexicon(nsid);
      documents.set(nsid, document);
    }
    return document;
  };

  const refTo = (ref: string, base: string): unknown => {
    const [nsid, def] = parseRef(ref, base);
    if (!(key(nsid, def) in definitions)) {
      definitions[key(nsid, def)] = null;
      pending.push([nsid, def]);
    }
    return { $ref: `#/definitions/${encodeURIComponent(key(nsid, def))}` };
  };

  const convert = (schema: Record<string, unknown>, base: string): unknown => {
    switch (schema.type) {
      case 'object': {
        const properties: Record<string, unknown> = { $type: { type: 'string' } };
        for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
          properties[name] = convert(property, base);
        }
        return {
          type: 'object',
          properties,
          required: schema.required ?? [],
          additionalProperties: false,
          ...(Array.isArray(schema.nullable) ? {} : {}),
        };
      }
      case 'record':
        return convert(schema.record as Record<string, unknown>, base);
      case 'ref':
        return refTo(schema.ref as string, base);
      case 'union': {
        const members = (schema.refs as string[]).map((ref) => {
          const [nsid, def] = parseRef(ref, base);
          return {
            allOf: [
              refTo(ref, base),
              { type: 'object', required: ['$type'], properties: { $type: { const: typeName(nsid, def) } } },
            ],
          };
        });
        return { oneOf: members };
      }
      case 'string':
        return {
          type: 'string',
          ...(schema.maxLength === undefined ? {} : { lexMaxBytes: schema.maxLength }),
          ...(schema.minLength === undefined ? {} : { lexMinBytes: schema.minLength }),
          ...(schema.maxGraphemes === undefined ? {} : { lexMaxGraphemes: schema.maxGraphemes }),
          ...(schema.minGraphemes === undefined ? {} : { lexMinGraphemes: schema.minGraphemes }),
          ...(schema.format === undefined ? {} : { format: schema.format }),
          ...(schema.enum === undefined ? {} : { enum: schema.enum }),
          ...(schema.const === undefined ? {} : { const: schema.const }),
        };
      case 'integer':
        return {
          type: 'integer',
          ...(schema.minimum === undefined ? {} : { minimum: schema.minimum }),
          ...(schema.maximum === undefined ? {} : { maximum: schema.maximum }),
          ...(schema.enum === undefined ? {} : { enum: schema.enum }),
          ...(schema.const === undefined ? {} : { const: schema.const }),
        };
      case 'boolean':
        return { type: 'boolean', ...(schema.const === undefined ? {} : { const: schema.const }) };
      case 'array':
        return {
          type: 'array',
          items: convert(schema.items as Record<string, unknown>, base),
          ...(schema.maxLength === undefined ? {} : { maxItems: schema.maxLength }),
          ...(schema.minLength === undefined ? {} : { minItems: schema.minLength }),
        };
      case 'blob':
        return {
          type: 'object',
          required: ['$type', 'ref', 'mimeType', 'size'],
          additionalProperties: false,
          properties: {
            $type: { const: 'blob' },
            ref: { type: 'object', required: ['$link'], additionalProperties: false, properties: { $link: { type: 'string', format: 'cid' } } },
            mimeType: { type: 'string' },
            size: { type: 'integer', minimum: 0 },
          },
          lexBlob: { accept: schema.accept ?? ['*/*'], maxSize: schema.maxSize },
        };
      case 'unknown':
        return {};
      case 'cid-link':
        return { type: 'object', required: ['$link'], properties: { $link: { type: 'string', format: 'cid' } } };
      case 'token':
        return { type: 'string' };
      default:
        throw new Error(`lexicon type ${String(schema.type)} is not supported by the test validator`);
    }
  };

  const drain = () => {
    while (pending.length > 0) {
      const [nsid, def] = pending.shift()!;
      const definition = documentOf(nsid).defs[def];
      if (!definition) throw new Error(`lexicon ${nsid} has no definition ${def}`);
      definitions[key(nsid, def)] = convert(definition, nsid);
    }
  };

  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const [name, pattern] of Object.entries(FORMATS)) ajv.addFormat(name, pattern);
  ajv.addKeyword({ keyword: 'lexMaxBytes', type: 'string', schemaType: 'number', validate: (max: number, data: string) => utf8Bytes(data) <= max });
  ajv.addKeyword({ keyword: 'lexMinBytes', type: 'string', schemaType: 'number', validate: (min: number, data: string) => utf8Bytes(data) >= min });
  ajv.addKeyword({ keyword: 'lexMaxGraphemes', type: 'string', schemaType: 'number', validate: (max: number, data: string) => graphemes(data) <= max });
  ajv.addKeyword({ keyword: 'lexMinGraphemes', type: 'string', schemaType: 'number', validate: (min: number, data: string) => graphemes(data) >= min });
  ajv.addKeyword({
    keyword: 'lexBlob',
    type: 'object',
    schemaType: 'object',
    validate: (rule: { accept: string[]; maxSize?: number }, data: { mimeType?: unknown; size?: unknown }) => {
      const mimeType = String(data.mimeType);
      const accepted = rule.accept.some((pattern) =>
        pattern === '*/*' ? true : pattern.endsWith('/*') ? mimeType.startsWith(pattern.slice(0, -1)) : mimeType === pattern,
      );
      const sized = rule.maxSize === undefined || (typeof data.size === 'number' && data.size <= rule.maxSize);
      return accepted && sized;
    },
  });

  const compiled = new Map<string, ValidateFunction>();

  return {
    validateRecord({ nsid, record }) {
      let validate = compiled.get(nsid);
      if (!validate) {
        const root = refTo(`lex:${nsid}`, nsid);
        drain();
        validate = ajv.compile({ definitions, ...(root as object) });
        compiled.set(nsid, validate);
      }
      const errors: string[] = [];
      if ((record as { $type?: unknown } | null)?.$type !== nsid) errors.push(`$type must be ${nsid}`);
      if (!validate(record)) {
        for (const error of validate.errors ?? []) errors.push(`${error.instancePath || '(record)'} ${error.message ?? error.keyword}`);
      }
      return errors;
    },
  };
}
