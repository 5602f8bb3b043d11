/**
 * Option objects checked at the library's boundary, as the CLI's configs are: a zod object schema
 * per entry point (each field `.describe`d with what it allows), and `checkOptions`, which refuses
 * what the schema does not accept with a `ValueError` that names the entry point, the option, the
 * value given and what is allowed (`fit: epochs must be a non-negative integer, got -1`). Unknown
 * option names are refused too — a typo would otherwise be ignored in silence — with the closest
 * known name (`fit: unknown option 'weight_decay' (did you mean 'weightDecay'?)`). Checking only: the
 * caller goes on with the object it was given, so validation never changes behaviour.
 */
import { z } from 'zod';
import { ValueError } from './errors.js';

/** A value as a message shows it: strings quoted, objects by their class, long text cut. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'function') return `a function`;
  if (Array.isArray(v)) return v.length > 8 ? `an array of ${v.length}` : `[${v.map(showValue).join(', ')}]`;
  if (v && typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return String(v);
}

/** Edit distance (Levenshtein) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name closest to `name` (case, `_` and `-` aside), if one is close enough to be a typo. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = norm(k) === norm(name) ? 0 : distance(norm(k), norm(name));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Refuses option names `known` lacks, suggesting the closest known one. */
export function checkKnownKeys(where: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    throw new ValueError(
      `${where}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; the options are ${known.join(', ')}`,
    );
  }
}

/** The sub-schema at `path` of an object schema (through optional, nullable and default wrappers). */
function schemaAt(schema: z.ZodType, path: PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const key of path) {
    while (s && (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault))
      s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(key)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodTuple) s = (s.def.items as z.ZodType[])[Number(key)];
    else return undefined;
  }
  return s;
}

/** What a schema allows, in words: its description (possibly on a wrapper). */
function allowedText(s: z.ZodType | undefined): string | undefined {
  for (let t = s; t; ) {
    if (t.description) return t.description;
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable || t instanceof z.ZodDefault)
      t = t.unwrap() as z.ZodType;
    else break;
  }
  return undefined;
}

const valueAt = (v: unknown, path: PropertyKey[]) =>
  path.reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<PropertyKey, unknown>)[k]), v);

const pathText = (path: PropertyKey[]) =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${String(k)}` : String(k))).join('');

/**
 * Checks `value` against the object schema `schema` for the entry point `where`: an object (or
 * undefined, when `optional`), only known option names (nested objects too), each value allowed.
 * Throws a ValueError naming the option, the value and what is allowed.
 */
export function checkOptions(
  where: string,
  schema: z.ZodObject,
  value: unknown,
  o: { optional?: boolean } = {},
): void {
  if (value === undefined && o.optional) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValueError(`${where}: the options must be an object, got ${showValue(value)}`);
  checkNestedKeys(where, schema, value, []);
  const r = schema.safeParse(value);
  if (r.success) return;
  const issue = r.error.issues[0];
  const path = issue.path;
  const allowed = allowedText(schemaAt(schema, path));
  const given = valueAt(value, path);
  const name = pathText(path);
  if (given === undefined && issue.code === 'invalid_type')
    throw new ValueError(`${where}: ${name} is required${allowed ? ` (${allowed})` : ''}, got none`);
  throw new ValueError(`${where}: ${name} must be ${allowed ?? issue.message}, got ${showValue(given)}`);
}

/** Unknown keys in `value` and in the nested option objects its schema describes. */
function checkNestedKeys(where: string, schema: z.ZodObject, value: object, path: string[]): void {
  const shape = schema.shape as Record<string, z.ZodType>;
  checkKnownKeys(path.length ? `${where}: ${path.join('.')}` : where, value, Object.keys(shape));
  for (const [k, sub] of Object.entries(shape)) {
    let s: z.ZodType = sub;
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault)
      s = s.unwrap() as z.ZodType;
    const v = (value as Record<string, unknown>)[k];
    if (s instanceof z.ZodObject && v && typeof v === 'object' && !Array.isArray(v))
      checkNestedKeys(where, s, v, [...path, k]);
  }
}

/** Schemas for the values options commonly take, each saying what it allows. */
export const allow = {
  positiveInt: () => z.number().int().positive().describe('a positive integer'),
  nonNegativeInt: () => z.number().int().nonnegative().describe('a non-negative integer'),
  positive: () => z.number().positive().finite().describe('a positive number'),
  nonNegative: () => z.number().nonnegative().finite().describe('≥ 0'),
  unit: () => z.number().min(0).lt(1).describe('a number in [0, 1)'),
  probability: () => z.number().min(0).max(1).describe('a number in [0, 1]'),
  finite: () => z.number().finite().describe('a finite number'),
  boolean: () => z.boolean().describe('true or false'),
  fn: (what = 'a function') =>
    z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function').describe(what),
  /** An object with the named methods (a progress sink, a callback, a generator …). */
  withMethods: (what: string, methods: readonly string[], some = false) =>
    z
      .custom<object>((v) => {
        if (!v || typeof v !== 'object') return false;
        const has = (m: string) => typeof (v as Record<string, unknown>)[m] === 'function';
        return some ? methods.some(has) : methods.every(has);
      })
      .describe(what),
  oneOf: <T extends string>(values: readonly [T, ...T[]]) => {
    const q = values.map((v) => `'${v}'`);
    return z
      .enum(values)
      .describe(q.length > 1 ? `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}` : q[0]);
  },
};
