/**
 * Fashion-MNIST on Node. Where the files are looked for:
 * - `$KEEL_DATA`, when set, is the one place looked at (the directory itself, or its fashion-mnist/
 *   subdirectory): used if it holds all four files, otherwise an error naming what is missing there
 *   — never silently replaced by another copy;
 * - otherwise the user cache (~/.cache/keel/fashion-mnist), then the Debian package's directory
 *   (/usr/share/datasets/fashion-mnist).
 * Each file may be gzipped (`train-images-idx3-ubyte.gz`, as published) or not (`…-ubyte`). With
 * `download`, missing files are fetched into `$KEEL_DATA` or the cache, verifying the SHA-256 of
 * their content; offline, the error says so and how to install the files by hand. A truncated or
 * corrupt file gives an error naming the file and the problem.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  FASHION_MNIST_FILES,
  type FileInfo,
  type ImageSet,
  type Split,
  toImageSet,
} from '../../data/fashionMnist.js';
import { DataFormatError, type IdxArray, parseIdx } from '../../data/idx.js';
import { KeelError } from '../../util/errors.js';

/** The data set is not on this machine (and was not downloaded). */
export class DataNotFoundError extends KeelError {}

/** Where the official files are published. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/** The Debian package's directory. */
export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** keel's cache directory for downloaded data. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'keel', 'fashion-mnist');
}

const allFiles = (): FileInfo[] => [
  FASHION_MNIST_FILES.train.images,
  FASHION_MNIST_FILES.train.labels,
  FASHION_MNIST_FILES.test.images,
  FASHION_MNIST_FILES.test.labels,
];

/** The path of `f` in `dir`: the gzipped file, else the unzipped one, else null. */
export function dataFile(dir: string, f: FileInfo): string | null {
  for (const name of [f.name, f.name.replace(/\.gz$/, '')]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The directory `$KEEL_DATA` names (itself, or its fashion-mnist/ subdirectory when that exists). */
function explicitDir(env: string): string {
  const sub = join(env, 'fashion-mnist');
  return isDir(sub) ? sub : env;
}

/** Directories searched, in order: `$KEEL_DATA` alone when set; else the user cache and the Debian directory. */
export function searchDirs(): string[] {
  const env = process.env.KEEL_DATA;
  return env ? [explicitDir(env)] : [cacheDir(), DEBIAN_DIR];
}

/** The first searched directory that holds all four files, or null. */
export function findFashionMnist(): string | null {
  for (const d of searchDirs()) if (allFiles().every((f) => dataFile(d, f))) return d;
  return null;
}

const fileList = (fs: FileInfo[]) => fs.map((f) => `${f.name.replace(/\.gz$/, '')}[.gz]`).join(', ');

function howToGet(): string {
  return [
    'Get it in one of these ways:',
    '  sudo apt-get install dataset-fashion-mnist     (Debian/Ubuntu: installs it in /usr/share/datasets/fashion-mnist)',
    '  KEEL_DATA=/path/to/dir                          (a directory with the four *-ubyte files, gzipped or not)',
    `  --download (CLI) or { download: true }          (fetches the official files into ${process.env.KEEL_DATA ? '$KEEL_DATA' : cacheDir()})`,
  ].join('\n');
}

/** Why `$KEEL_DATA` cannot be used, or null when it holds all four files. */
function explicitProblem(env: string): string | null {
  if (!existsSync(env)) return `KEEL_DATA=${env}: no such directory`;
  if (!isDir(env)) return `KEEL_DATA=${env} is a file, not a directory`;
  const dir = explicitDir(env);
  const missing = allFiles().filter((f) => !dataFile(dir, f));
  if (!missing.length) return null;
  return `KEEL_DATA=${env}: ${dir} lacks ${fileList(missing)} (with KEEL_DATA set nothing else is looked at; unset it to use ~/.cache/keel or ${DEBIAN_DIR})`;
}

function notFound(): DataNotFoundError {
  const env = process.env.KEEL_DATA;
  const head = env
    ? explicitProblem(env)
    : ['Fashion-MNIST was not found. Looked in:', ...searchDirs().map((d) => `  ${d}`)].join('\n');
  return new DataNotFoundError(`${head}\n${howToGet()}`);
}

/**
 * An IDX file's content from its bytes as stored (gunzipped when `path` ends in .gz); errors name
 * the file. The unzipped size is capped by what an IDX file of that length could hold (a gzip
 * bomb cannot make it allocate without bound).
 */
export function idxFromFileBytes(raw: Uint8Array, path: string): IdxArray {
  if (!path.endsWith('.gz')) return parseIdx(raw, path);
  let bytes: Uint8Array;
  try {
    bytes = gunzipWhole(raw, MAX_IDX_BYTES);
  } catch (e) {
    throw new DataFormatError(`${path}: not a valid gzip file or truncated (${(e as Error).message})`);
  }
  return parseIdx(bytes, path);
}

/** Fashion-MNIST's largest file is 47 MB unzipped; anything past 256 MB is not one of its files. */
const MAX_IDX_BYTES = 256 * 1024 * 1024;

/**
 * gunzip into one buffer: the gzip trailer's size field (ISIZE, the last 4 bytes) sizes zlib's
 * output chunk, so the content is inflated in place instead of in 16 KB chunks concatenated at the
 * end (a second 47 MB copy: 250 instead of 420 ms for the training images; bench/NOTES.md). A
 * trailer that lies only costs chunks: the output is still capped at `max` bytes.
 */
export function gunzipWhole(raw: Uint8Array, max: number): Buffer {
  const size =
    raw.length >= 18 ? new DataView(raw.buffer, raw.byteOffset + raw.length - 4).getUint32(0, true) : 0;
  // One byte more than the content: a chunk filled exactly would make zlib allocate another.
  const chunkSize = size > 0 && size < max ? size + 1 : undefined;
  return gunzipSync(raw, {
    maxOutputLength: max,
    ...(chunkSize ? { chunkSize: Math.max(64, chunkSize) } : {}),
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Options of `loadFashionMnist`. */
export interface FashionMnistOptions {
  /** A directory to use instead of searching. */
  dir?: string;
  /** Download into the cache when the files are not found (default false). */
  download?: boolean;
  /** Base URL of the files (default: the official location). */
  baseUrl?: string;
  /** Keep only the first `limit` samples (for quick runs). */
  limit?: number;
  /** Progress messages (downloads). */
  log?: (line: string) => void;
}

/** Is this `fetch` failure the machine being offline (no route, no DNS), rather than the server? */
function offline(e: unknown): boolean {
  const code = ((e as { cause?: { code?: string } }).cause?.code ?? '') as string;
  return [
    'ENOTFOUND',
    'EAI_AGAIN',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'UND_ERR_CONNECT_TIMEOUT',
  ].includes(code);
}

/** Downloads the four files into `dir`, verifying each file's content hash before keeping it. */
export async function downloadFashionMnist(
  dir = cacheDir(),
  baseUrl = FASHION_MNIST_URL,
  log: (l: string) => void = () => {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const f of allFiles()) {
    if (dataFile(dir, f)) continue;
    const target = join(dir, f.name);
    const url = new URL(f.name, baseUrl).href;
    log(`downloading ${url}`);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      const why = offline(e)
        ? `this machine seems to be offline or cannot reach ${new URL(url).host}${code ? ` (${code})` : ''}`
        : `${(e as Error).message}${code ? ` (${code})` : ''}`;
      throw new DataNotFoundError(
        `download of ${url} failed: ${why}.\nInstall the files by hand instead: copy the four files (${fileList(allFiles())}) from a machine that has them into ${dir}, or set KEEL_DATA to a directory that holds them.\n${howToGet()}`,
      );
    }
    if (!res.ok) throw new DataNotFoundError(`download of ${url} failed: HTTP ${res.status}.\n${howToGet()}`);
    const body = new Uint8Array(await res.arrayBuffer());
    let content: Uint8Array;
    try {
      content = gunzipSync(body);
    } catch (e) {
      throw new DataFormatError(`${url}: downloaded data is not valid gzip (${(e as Error).message})`);
    }
    const hash = sha256(content);
    if (hash !== f.sha256) {
      throw new DataFormatError(
        `${url}: SHA-256 of the content is ${hash}, expected ${f.sha256}; the file was not kept`,
      );
    }
    const tmp = `${target}.part`;
    writeFileSync(tmp, body);
    renameSync(tmp, target);
    log(`  verified and saved ${target}`);
  }
  return dir;
}

/** Finds the directory, downloading if allowed; throws DataNotFoundError with instructions otherwise. */
export async function locateFashionMnist(opts: FashionMnistOptions = {}): Promise<string> {
  if (opts.dir) {
    const missing = allFiles().filter((f) => !dataFile(opts.dir as string, f));
    if (missing.length) throw new DataNotFoundError(`${opts.dir} lacks ${fileList(missing)}.\n${howToGet()}`);
    return opts.dir;
  }
  const found = findFashionMnist();
  if (found) return found;
  const env = process.env.KEEL_DATA;
  if (opts.download) {
    if (env && (!existsSync(env) || !isDir(env))) throw notFound();
    return downloadFashionMnist(env ? explicitDir(env) : cacheDir(), opts.baseUrl, opts.log);
  }
  throw notFound();
}

/** Reads one split from `dir` (images [N, 784] in [0, 1], labels [N]). */
export function readFashionMnist(dir: string, split: Split, limit?: number): ImageSet {
  const files = FASHION_MNIST_FILES[split];
  const ip = dataFile(dir, files.images) ?? join(dir, files.images.name);
  const lp = dataFile(dir, files.labels) ?? join(dir, files.labels.name);
  const images = idxFromFileBytes(readFileSync(ip), ip);
  const labels = idxFromFileBytes(readFileSync(lp), lp);
  return toImageSet(images, labels, [ip, lp], limit);
}

/** Locates (or downloads) and reads both splits. */
export async function loadFashionMnist(
  opts: FashionMnistOptions = {},
): Promise<{ train: ImageSet; test: ImageSet; dir: string }> {
  const dir = await locateFashionMnist(opts);
  return {
    train: readFashionMnist(dir, 'train', opts.limit),
    test: readFashionMnist(dir, 'test', opts.limit),
    dir,
  };
}
