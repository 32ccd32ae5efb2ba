import { META_GRAPH_FACTS, type MetaGraphFacts, type MetaGraphOperationFacts } from './meta-graph-spec-facts.js';

/**
 * `@letmepost/meta-graph/contract`: checks a recorded Graph request against the facts of Meta's
 * own node descriptions (parameter names, types, required flags, enum values, field names), so a
 * parameter renamed or mistyped on our side fails a test rather than a publish. Graph ids say
 * nothing of their node type, so the caller names the node: `{ node: 'Page', method: 'POST',
 * edge: 'feed' }`. The descriptions are looser than the live API (nothing is required on
 * `/feed`); a pass is necessary, not sufficient.
 */

export { META_GRAPH_FACTS, type MetaGraphFacts, type MetaGraphOperationFacts } from './meta-graph-spec-facts.js';

/** Parameters every Graph call accepts besides its own (auth, field selection, response format, paging). */
export const GRAPH_COMMON_PARAMETERS: ReadonlySet<string> = new Set([
  'access_token',
  'appsecret_proof',
  'fields',
  'format',
  'method',
  'pretty',
  'suppress_http_code',
  'locale',
]);
/**
 * Parameters Meta's documentation and API take that the node descriptions leave out (a known
 * fault of the codegen specs): `POST /{page-id}/photos` lacks the multipart `source` file field
 * (Pages API Photos reference; the Video API's `source` on `/videos` is described).
 */
const DESCRIPTION_GAPS: Readonly<Record<string, Readonly<Record<string, string>>>> = { 'Page POST photos': { source: 'file' } };

/**
 * Fields an edge adds to the nodes it lists that the node descriptions leave out: `/me/accounts`
 * answers each Page with the user's `tasks` on it (Pages API docs, the fact sheet's § Identity).
 */
const EDGE_EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = { 'User accounts': ['tasks'] };
/** Cursor paging, accepted by every edge read. */
const EDGE_READ_PARAMETERS: ReadonlySet<string> = new Set(['limit', 'after', 'before', 'summary']);

export interface GraphRequestToCheck {
  /** The node type the path's id belongs to (`Page`, `PagePost`, `IGUser`, `ShadowIGMediaBuilder`). */
  node: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** `feed`, `photos`, `media_publish`; absent for the node itself (`GET /{id}`, `DELETE /{id}`). */
  edge?: string;
  /** Query and body parameters together, as sent (form/query values are strings; JSON bodies may nest). */
  params: Record<string, unknown>;
}

/** Every way the request departs from the node description; empty when it conforms. */
export function checkGraphRequest(request: GraphRequestToCheck, facts: MetaGraphFacts = META_GRAPH_FACTS): string[] {
  const label = `${request.method} ${request.node}${request.edge === undefined ? '' : `/${request.edge}`}`;
  const node = facts.nodes[request.node];
  if (node === undefined) return [`${label}: the facts describe no node ${request.node}`];
  const key = request.edge === undefined ? request.method : `${request.method} ${request.edge}`;
  const operation = node.operations[key];
  if (operation === undefined) return [`${label}: the node ${request.node} has no operation ${key}`];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(request.params)) {
    if (value === undefined) continue;
    if (name === 'fields') {
      // A write's `fields` select from the object it creates, which the descriptions do not name
      // (they give the edge's owner, e.g. `Page` for `POST /feed`): only reads are checked.
      if (request.method !== 'GET') continue;
      const extra = request.edge === undefined ? [] : (EDGE_EXTRA_FIELDS[`${request.node} ${request.edge}`] ?? []);
      problems.push(...checkFields({ label, fields: value, operation, facts, extra }));
      continue;
    }
    if (GRAPH_COMMON_PARAMETERS.has(name)) continue;
    if (request.method === 'GET' && request.edge !== undefined && EDGE_READ_PARAMETERS.has(name)) continue;
    const type = operation.params[name] ?? DESCRIPTION_GAPS[`${request.node} ${key}`]?.[name];
    if (type === undefined) {
      problems.push(`${label}: unknown parameter ${name}`);
      continue;
    }
    const typeProblem = checkType({ type, value, facts });
    if (typeProblem !== undefined) problems.push(`${label}: ${name} ${typeProblem}`);
  }
  for (const name of operation.required) {
    if (request.params[name] === undefined) problems.push(`${label}: missing required parameter ${name}`);
  }
  return problems;
}

/** `id,name,picture.type(large){url},tasks` → `id`, `name`, `picture`, `tasks` (top level only). */
export function topLevelFieldNames(fields: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of fields) {
    if (character === '{' || character === '(') depth += 1;
    else if (character === '}' || character === ')') depth -= 1;
    else if (character === ',' && depth === 0) {
      names.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  names.push(current);
  return names.map((name) => name.trim().split(/[.{(]/)[0] ?? '').filter((name) => name.length > 0);
}

function checkFields(options: { label: string; fields: unknown; operation: MetaGraphOperationFacts; facts: MetaGraphFacts; extra: readonly string[] }): string[] {
  const { label, fields, operation, facts, extra } = options;
  if (typeof fields !== 'string') return [`${label}: fields must be a comma-separated string`];
  // A read answers with the node itself (`#get`) or the edge's type; writes may ask for fields of the node they create.
  const answered = operation.returns !== null && facts.nodes[operation.returns] !== undefined ? operation.returns : undefined;
  if (answered === undefined) return [];
  const known = facts.nodes[answered];
  return topLevelFieldNames(fields)
    .filter((name) => known?.fields[name] === undefined && !known?.edges.includes(name) && !extra.includes(name))
    .map((name) => `${label}: ${answered} has no field ${name}`);
}

function checkType(options: { type: string; value: unknown; facts: MetaGraphFacts }): string | undefined {
  const { type, value, facts } = options;
  const listMatch = /^list<(.+)>$/.exec(type);
  if (listMatch !== null || type === 'list') {
    const items = listItems(value);
    if (items === undefined) return `must be a list (a JSON array or comma-separated), got ${JSON.stringify(value)}`;
    const itemType = listMatch?.[1];
    if (itemType === undefined) return undefined;
    for (const item of items) {
      const problem = checkType({ type: itemType, value: item, facts });
      if (problem !== undefined) return `item ${problem}`;
    }
    return undefined;
  }
  const enumValues = facts.enums[type];
  if (enumValues !== undefined) {
    // Compared without case: the descriptions spell the same values in either case (`video_reels`
    // START/FINISH, `videos` start/finish), and Meta's guides send them in lowercase.
    const matches = typeof value === 'string' && enumValues.some((candidate) => candidate.toLowerCase() === value.toLowerCase());
    return matches ? undefined : `must be one of ${enumValues.join(', ')}, got ${JSON.stringify(value)}`;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string, got ${JSON.stringify(value)}`;
    case 'bool':
      return value === true || value === false || value === 'true' || value === 'false' ? undefined : `must be a boolean, got ${JSON.stringify(value)}`;
    case 'int':
      return isInteger({ value, allowNegative: true }) ? undefined : `must be an integer, got ${JSON.stringify(value)}`;
    case 'unsigned int':
      return isInteger({ value, allowNegative: false }) ? undefined : `must be a non-negative integer, got ${JSON.stringify(value)}`;
    case 'float':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) ? undefined : `must be a number, got ${JSON.stringify(value)}`;
    case 'datetime':
      return isInteger({ value, allowNegative: false }) || (typeof value === 'string' && !Number.isNaN(Date.parse(value))) ? undefined : `must be a Unix time or an ISO-8601 date, got ${JSON.stringify(value)}`;
    case 'Object':
    case 'map':
      return isObjectValue(value) ? undefined : `must be an object (JSON), got ${JSON.stringify(value)}`;
    default:
      // `file` parts and references to other nodes (ids) are not checked further.
      return undefined;
  }
}

function isInteger(options: { value: unknown; allowNegative: boolean }): boolean {
  const { value, allowNegative } = options;
  if (typeof value === 'number') return Number.isInteger(value) && (allowNegative || value >= 0);
  return typeof value === 'string' && (allowNegative ? /^-?\d+$/ : /^\d+$/).test(value);
}

function isObjectValue(value: unknown): boolean {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return true;
  if (typeof value !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return value.split(',');
}
