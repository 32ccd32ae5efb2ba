// Writes src/test-support/x-api-facts.json: the facts of X's OpenAPI description that the
// contract test (src/twitter-contract.test.ts) checks the provider's wire requests against.
//
// X publishes its description under the X Developer Agreement, which does not allow copying
// it into this repository, so only facts are kept: for each operation the provider calls, its
// method, path template, request body media types and query parameters; for each schema they
// reach, the validation keywords (types, property names, required, enums, patterns, formats,
// limits). Prose, examples, summaries, security and responses are left out.
//
// Usage: node scripts/extract-x-api-facts.mjs <path to X's openapi.json>
// (the description X's SDK is generated from: xdevplatform/xdk, specs/openapi.json)
import { readFileSync, writeFileSync } from 'node:fs';

/** Every operation the provider sends, as `METHOD /path/template`. Add one when the provider starts calling it. */
const OPERATIONS = [
  'POST /2/tweets',
  'DELETE /2/tweets/{id}',
  'GET /2/users/me',
  'POST /2/media/upload',
  'GET /2/media/upload',
  'POST /2/media/upload/initialize',
  'POST /2/media/upload/{id}/append',
  'POST /2/media/upload/{id}/finalize',
  'POST /2/media/metadata',
];

/** Schemas the captured fixtures and the path checks are validated against by name. */
const NAMED_SCHEMAS = [
  'CreatePostsResponse',
  'DeletePostsResponse',
  'GetUsersMeResponse',
  'MediaUploadResponse',
  'InitializeMediaUploadResponse',
  'FinalizeMediaUploadResponse',
  'GetMediaUploadStatusResponse',
  'PostId',
];

/** Keywords that constrain a value; everything else in a schema object is prose or tooling. */
const VALIDATION_KEYWORDS = new Set([
  'type', 'format', 'pattern', 'enum', 'const', 'nullable',
  'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'required',
  'properties', 'additionalProperties', 'items', 'allOf', 'oneOf', 'anyOf', 'not', '$ref',
]);

const specPath = process.argv[2];
if (!specPath) {
  process.stderr.write('usage: node scripts/extract-x-api-facts.mjs <path to X openapi.json>\n');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const reached = new Set();
const pending = [];

function reach(ref) {
  const name = ref.replace('#/components/schemas/', '');
  if (!reached.has(name)) {
    reached.add(name);
    pending.push(name);
  }
}

/** Keeps the validation keywords of a schema, recursing only where a keyword holds schemas. */
function facts(schema) {
  const kept = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (!VALIDATION_KEYWORDS.has(keyword)) continue;
    if (keyword === '$ref') reach(value);
    if (keyword === 'properties') kept.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, facts(property)]));
    else if (keyword === 'items' || keyword === 'not' || (keyword === 'additionalProperties' && typeof value === 'object')) kept[keyword] = facts(value);
    else if (keyword === 'allOf' || keyword === 'oneOf' || keyword === 'anyOf') kept[keyword] = value.map(facts);
    else kept[keyword] = value;
  }
  return kept;
}

const operations = {};
for (const entry of OPERATIONS) {
  const [method, template] = entry.split(' ');
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${entry} is not in ${specPath}`);
  const body = Object.fromEntries(
    Object.entries(operation.requestBody?.content ?? {}).map(([mediaType, content]) => [mediaType, facts(content.schema)]),
  );
  const query = (operation.parameters ?? [])
    .map((parameter) => (parameter.$ref ? spec.components.parameters[parameter.$ref.split('/').at(-1)] : parameter))
    .filter((parameter) => parameter.in === 'query')
    .map((parameter) => ({
      name: parameter.name,
      required: parameter.required === true,
      // `style: form, explode: false` (comma-separated arrays) is the only array style X uses.
      ...(parameter.explode === false ? { commaSeparated: true } : {}),
      schema: facts(parameter.schema),
    }));
  operations[entry] = { ...(operation.requestBody ? { body } : {}), query };
}
for (const name of NAMED_SCHEMAS) reach(`#/components/schemas/${name}`);

const schemas = {};
while (pending.length > 0) {
  const name = pending.shift();
  const schema = spec.components.schemas[name];
  if (!schema) throw new Error(`schema ${name} is not in ${specPath}`);
  schemas[name] = facts(schema);
}

const output = {
  about: {
    what: 'Facts (operations, parameter names, types, limits) of X API v2 that the contract test checks requests against; not a copy of the description.',
    source: 'xdevplatform/xdk @ 489c3f027a21, specs/openapi.json (OpenAPI 3.0.0, the description X’s own SDK is generated from)',
    version: spec.info.version,
    licence: `${spec.info.license.name} (${spec.info.license.url}): no redistribution, so only facts are kept`,
    regenerate: 'node scripts/extract-x-api-facts.mjs <path to openapi.json>',
  },
  operations,
  schemas: Object.fromEntries(Object.entries(schemas).sort(([left], [right]) => left.localeCompare(right))),
};
writeFileSync(new URL('../src/test-support/x-api-facts.json', import.meta.url), `${JSON.stringify(output, null, 1)}\n`);
process.stdout.write(`${Object.keys(operations).length} operations, ${Object.keys(schemas).length} schemas\n`);
