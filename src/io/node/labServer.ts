/**
 * The lab's server (`keel lab`): serves the built lab (dist/lab/, from `npm run build`) with the
 * cross-origin-isolation headers (COOP same-origin, COEP require-corp), so that the page may use
 * SharedArrayBuffer and the wasm backend's threads. Static files through npm sirv. GET
 * /data/fashion-mnist.bin?train=N&test=M serves the first N training and M test images of
 * Fashion-MNIST from the data directory keel finds (data/labWire.ts); without the data it answers
 * 404 with the instructions, which the page shows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { FASHION_MNIST_FILES } from '../../data/fashionMnist.js';
import { packFashion } from '../../data/labWire.js';
import { KeelError } from '../../util/errors.js';
import { optionalPackage } from '../../util/optional.js';
import { DataNotFoundError, dataFile, idxFromFileBytes, locateFashionMnist } from './fashionMnist.js';

/** The first `n` images and labels of a split, as raw uint8. */
function rawSplit(
  dir: string,
  split: 'train' | 'test',
  n: number,
): { pixels: Uint8Array; labels: Uint8Array } {
  const f = FASHION_MNIST_FILES[split];
  const read = (info: typeof f.images) => {
    const path = dataFile(dir, info);
    if (!path) throw new DataNotFoundError(`${dir} lacks ${info.name}`);
    return idxFromFileBytes(readFileSync(path), path);
  };
  const images = read(f.images);
  const labels = read(f.labels);
  const count = Math.min(n, labels.shape[0]);
  const pixels = images.shape[1] * images.shape[2];
  return { pixels: images.data.subarray(0, count * pixels), labels: labels.data.subarray(0, count) };
}

/** Serves /data/fashion-mnist.bin; a cached copy per subset size. */
function fashionHandler() {
  const cache = new Map<string, Uint8Array>();
  return async (url: URL, res: import('node:http').ServerResponse) => {
    const num = (k: string, d: number, max: number) => {
      const v = Number(url.searchParams.get(k) ?? d);
      return Number.isInteger(v) && v >= 1 ? Math.min(v, max) : d;
    };
    const nTrain = num('train', 5000, 60000);
    const nTest = num('test', 1000, 10000);
    const key = `${nTrain}/${nTest}`;
    try {
      let body = cache.get(key);
      if (!body) {
        const dir = await locateFashionMnist({});
        body = packFashion(rawSplit(dir, 'train', nTrain), rawSplit(dir, 'test', nTest), 784);
        cache.set(key, body);
      }
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.end(body);
    } catch (e) {
      res.statusCode = e instanceof DataNotFoundError ? 404 : 500;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end((e as Error).message);
    }
  };
}

/** The built lab in the package (dist/lab, two levels up from dist/io/node). */
export const LAB_DIR = fileURLToPath(new URL('../../lab', import.meta.url));

/** Starts the server; resolves once it listens, with its URL. */
export async function labServer(o: {
  port: number;
  host: string;
  dir?: string;
}): Promise<{ server: Server; url: string }> {
  const dir = o.dir ?? LAB_DIR;
  if (!existsSync(`${dir}/index.html`))
    throw new KeelError(`the lab is not built (${dir}/index.html is missing): run npm run build first`);
  const { default: sirv } = await optionalPackage(() => import('sirv'), ['sirv'], 'keel lab');
  const files = sirv(dir, {
    dev: false,
    etag: true,
    setHeaders(res) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    },
  });
  const fashion = fashionHandler();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/data/fashion-mnist.bin') {
      void fashion(url, res);
      return;
    }
    files(req, res, () => {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`keel lab: ${req.url} is not here`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new KeelError(`port ${o.port} is in use: choose another with --port`)
          : new KeelError(`cannot listen on ${o.host}:${o.port}: ${e.message}`),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : o.port;
  return { server, url: `http://${o.host === '0.0.0.0' ? 'localhost' : o.host}:${port}/` };
}
