/**
 * Run and sweep configurations read from files: `loadConfig` reads a run configuration's JSON (none:
 * the defaults) and validates it with the overrides applied (run/config.ts); `loadSweep` reads a
 * sweep file and the base run configuration it may name (relative to the sweep file) and expands it
 * into its trials (sweep/spec.ts). A file that cannot be read, is not JSON or holds no object is one
 * ConfigError naming it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  applyOverrides,
  ConfigError,
  type Overrides,
  parseConfig,
  type RunConfig,
} from '../../run/config.js';
import { parseSweep, type Sweep } from '../../sweep/spec.js';

/** The JSON object in `path`; `what` names the file in errors ('config file', 'sweep base config'). */
function readJsonObject(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${what} ${path} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

/** Reads and validates a config file (none: the defaults) with overrides applied. */
export function loadConfig(path: string | undefined, overrides: Overrides): RunConfig {
  const raw = path ? readJsonObject(path, 'config file') : {};
  return parseConfig(applyOverrides(raw, overrides), path);
}

/** Reads and parses a sweep file; a base named by path is read relative to the sweep file. */
export function loadSweep(path: string): Sweep {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read sweep file ${path}: ${(e as Error).message}`);
  }
  return parseSweep(raw, path, (base) => readJsonObject(resolve(dirname(path), base), 'sweep base config'));
}
