/**
 * The system BLAS for the `native` backend, found at run time through koffi (an FFI whose binary
 * comes as a per-platform npm package, so nothing is compiled at install; an optional dependency): OpenBLAS on Linux
 * (`libopenblas.so.0`, Debian's libopenblas0-pthread), Accelerate on macOS, `libopenblas.dll` on
 * Windows; `$KEEL_BLAS` names another library (e.g. MKL's libmkl_rt.so) and is then the only one
 * tried. `loadBlas` returns the library or, when none loads, every reason why and the command that
 * fixes it; nothing here throws. Typed arrays — views into a shared WebAssembly.Memory
 * included — are passed to `cblas_sgemm`/`cblas_dgemm` as pointers to their contents: no copies.
 */
import { createRequire } from 'node:module';
import type { Blas } from '../../backend/native/index.js';
import type { TypedArray } from '../../backend/types.js';

/** The outcome of looking for a BLAS. */
export type BlasProbe = { blas: Blas; tried: string[] } | { blas: null; tried: string[]; fix: string };

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

const candidates: Record<string, string[]> = {
  linux: ['libopenblas.so.0', 'libopenblas.so', 'libopenblasp.so.0'],
  darwin: [
    '/System/Library/Frameworks/Accelerate.framework/Accelerate',
    '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
    '/usr/local/opt/openblas/lib/libopenblas.dylib',
  ],
  win32: ['libopenblas.dll', 'openblas.dll'],
};

const fixes: Record<string, string> = {
  linux: 'sudo apt-get install libopenblas0-pthread (Debian/Ubuntu), or your distribution’s OpenBLAS package',
  darwin: 'Accelerate ships with macOS; or brew install openblas',
  win32: 'put libopenblas.dll (from https://github.com/OpenMathLib/OpenBLAS/releases) on the PATH',
};

/** Koffi's module, or why it cannot load here. */
function loadKoffi(): { koffi: typeof import('koffi') } | { error: string } {
  try {
    return { koffi: createRequire(import.meta.url)('koffi') as typeof import('koffi') };
  } catch (e) {
    // koffi is an optional dependency of the keel package: a project that installs keel as a
    // library adds it to use the native backend.
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND')
      return { error: 'the FFI package koffi is not installed (npm install koffi)' };
    return {
      error: `the FFI package koffi does not load on ${process.platform}-${process.arch}: ${(e as Error).message.split('\n')[0]}`,
    };
  }
}

let probe: BlasProbe | null = null;

/**
 * Finds the system BLAS (once per process). `threads` is how many threads it may use for large
 * products (OpenBLAS; Accelerate picks its own).
 */
export function loadBlas(threads: number): BlasProbe {
  if (probe) return probe;
  const tried: string[] = [];
  const k = loadKoffi();
  if ('error' in k) {
    probe = {
      blas: null,
      tried: [k.error],
      fix: 'the native backend needs koffi (npm install koffi); the wasm backend runs meanwhile',
    };
    return probe;
  }
  const { koffi } = k;
  const explicit = process.env.KEEL_BLAS;
  for (const path of explicit ? [explicit] : (candidates[process.platform] ?? [])) {
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load(path);
    } catch (e) {
      tried.push(`${path}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      const sig = (t: string) =>
        `void cblas_${t}gemm(int order, int ta, int tb, int m, int n, int k, ${t === 's' ? 'float' : 'double'} alpha, const ${t === 's' ? 'float' : 'double'} *a, int lda, const ${t === 's' ? 'float' : 'double'} *b, int ldb, ${t === 's' ? 'float' : 'double'} beta, ${t === 's' ? 'float' : 'double'} *c, int ldc)`;
      const sgemm = lib.func(sig('s'));
      const dgemm = lib.func(sig('d'));
      const openblas = hasSymbol(lib, 'int openblas_get_num_threads()');
      const setThreads = openblas ? lib.func('void openblas_set_num_threads(int)') : null;
      const getThreads = openblas ? lib.func('int openblas_get_num_threads()') : null;
      const config = openblas ? String(lib.func('const char *openblas_get_config()')()) : 'Accelerate';
      setThreads?.(threads);
      const name = `${config
        .split(' ')
        .filter((w) => !/^(NO_|MAX_THREADS)/.test(w))
        .join(' ')} (${path})`;
      const blas: Blas = {
        name,
        gemm(
          dtype,
          ta,
          tb,
          m,
          n,
          kk,
          alpha,
          a: TypedArray,
          lda,
          b: TypedArray,
          ldb,
          beta,
          c: TypedArray,
          ldc,
        ) {
          (dtype === 'float32' ? sgemm : dgemm)(
            ROW_MAJOR,
            ta ? TRANS : NO_TRANS,
            tb ? TRANS : NO_TRANS,
            m,
            n,
            kk,
            alpha,
            a,
            lda,
            b,
            ldb,
            beta,
            c,
            ldc,
          );
        },
        threads: () => (getThreads ? Number(getThreads()) : threads),
        setThreads: (n) => setThreads?.(n),
      };
      probe = { blas, tried };
      return probe;
    } catch (e) {
      tried.push(
        `${path}: loaded, but has no cblas_sgemm/cblas_dgemm (${(e as Error).message.split('\n')[0]})`,
      );
    }
  }
  if (!explicit && !candidates[process.platform])
    tried.push(`no BLAS is known for platform ${process.platform}`);
  const fix = explicit
    ? `KEEL_BLAS=${explicit} did not load: point it at a BLAS with the CBLAS interface, or unset it`
    : (fixes[process.platform] ?? 'install OpenBLAS');
  probe = { blas: null, tried, fix };
  return probe;
}

/** Whether `lib` exports the function declared by `signature`. */
function hasSymbol(lib: { func(s: string): unknown }, signature: string): boolean {
  try {
    lib.func(signature);
    return true;
  } catch {
    return false;
  }
}
