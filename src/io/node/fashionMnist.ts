/**
 * Fashion-MNIST on Node: finds the files in $KEEL_DATA, the user cache, then the Debian package's
 * directory (/usr/share/datasets/fashion-mnist); otherwise downloads the official files into the
 * cache when allowed, verifying the SHA-256 of their content. Missing data gives a message that says
 * exactly how to get it; a truncated or corrupt file gives an error naming the file and the problem.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
import { DataFormatError, parseIdx } from '../../data/idx.js';
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

/**
 * Directories searched, in order: $KEEL_DATA (and its fashion-mnist/ subdirectory), the user cache,
 * the Debian package's directory. $KEEL_DATA_PATH (directories separated by ':') replaces the list.
 */
export function searchDirs(): string[] {
  if (process.env.KEEL_DATA_PATH !== undefined) return process.env.KEEL_DATA_PATH.split(':').filter(Boolean);
  const dirs: string[] = [];
  const env = process.env.KEEL_DATA;
  if (env) dirs.push(join(env, 'fashion-mnist'), env);
  dirs.push(cacheDir(), DEBIAN_DIR);
  return dirs;
}

const allFiles = (): FileInfo[] => [
  FASHION_MNIST_FILES.train.images,
  FASHION_MNIST_FILES.train.labels,
  FASHION_MNIST_FILES.test.images,
  FASHION_MNIST_FILES.test.labels,
];

/** The first searched directory that holds all four files, or null. */
export function findFashionMnist(): string | null {
  for (const d of searchDirs()) {
    if (allFiles().every((f) => existsSync(join(d, f.name)))) return d;
  }
  return null;
}

function howToGet(): string {
  return [
    'Fashion-MNIST was not found. Looked in:',
    ...searchDirs().map((d) => `  ${d}`),
    'Get it in one of these ways:',
    '  sudo apt-get install dataset-fashion-mnist     (Debian/Ubuntu: installs it in /usr/share/datasets/fashion-mnist)',
    '  KEEL_DATA=/path/to/dir                          (a directory with the four *-ubyte.gz files)',
    `  --download (CLI) or { download: true }          (fetches the official files into ${cacheDir()})`,
  ].join('\n');
}

function readGz(path: string): Uint8Array {
  const raw = readFileSync(path);
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw new DataFormatError(`${path}: not a valid gzip file or truncated (${(e as Error).message})`);
  }
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

/** Downloads the four files into `dir`, verifying each file's content hash before keeping it. */
export async function downloadFashionMnist(
  dir = cacheDir(),
  baseUrl = FASHION_MNIST_URL,
  log: (l: string) => void = () => {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const f of allFiles()) {
    const target = join(dir, f.name);
    if (existsSync(target)) continue;
    const url = new URL(f.name, baseUrl).href;
    log(`downloading ${url}`);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new DataNotFoundError(`download of ${url} failed (${(e as Error).message}).\n${howToGet()}`);
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
    const missing = allFiles().filter((f) => !existsSync(join(opts.dir as string, f.name)));
    if (missing.length)
      throw new DataNotFoundError(
        `${opts.dir} lacks ${missing.map((f) => f.name).join(', ')}.\n${howToGet()}`,
      );
    return opts.dir;
  }
  const found = findFashionMnist();
  if (found) return found;
  if (opts.download) return downloadFashionMnist(cacheDir(), opts.baseUrl, opts.log);
  throw new DataNotFoundError(howToGet());
}

/** Reads one split from `dir` (images [N, 784] in [0, 1], labels [N]). */
export function readFashionMnist(dir: string, split: Split, limit?: number): ImageSet {
  const files = FASHION_MNIST_FILES[split];
  const ip = join(dir, files.images.name);
  const lp = join(dir, files.labels.name);
  const images = parseIdx(readGz(ip), ip);
  const labels = parseIdx(readGz(lp), lp);
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
