/**
 * What this machine gives keel, for `keel info`, the bench output and every run's config.json: the
 * backends that loaded (which library, which build, how many threads) and those that did not, with
 * exactly why and the command that fixes it; the active backend; threads; Node and the platform;
 * where Fashion-MNIST was found.
 */
import { availableParallelism, cpus } from 'node:os';
import type { Blas } from '../../backend/native/index.js';
import { availableBackends, backendByName, backendProblems, getBackend } from '../../backend/registry.js';
import type { WasmGemm } from '../../backend/wasm/gemm.js';
import type { GpuAdapterFacts } from '../../backend/webgpu/index.js';
import { KEEL_VERSION } from '../../util/version.js';
import { threads } from './engine.js';
import { findFashionMnist } from './fashionMnist.js';
import { webGpuAdapter } from './webgpu.js';

/** The facts, JSON-safe. */
export interface EnvironmentInfo {
  keel: string;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  /** Compute threads (KEEL_THREADS, else the cores up to 4). */
  threads: number;
  active: string;
  backends: { name: string; loaded: boolean; detail: string }[];
  /** The WebGPU adapter of the webgpu backend, when it was enabled (`keel info` probes it). */
  webgpu?: GpuAdapterFacts;
  fashionMnist: string | null;
}

/** Reads the facts (loads every backend once, to say which run here). */
export function environmentInfo(): EnvironmentInfo {
  const loaded = new Set(availableBackends());
  const problems = backendProblems();
  const native = backendByName('native') as { blas?: Blas } | null;
  const wasm = backendByName('wasm') as { gemm?: WasmGemm } | null;
  const details: Record<string, string> = {
    native: native?.blas
      ? `${native.blas.name}, up to ${native.blas.threads()} threads on large products`
      : '',
    wasm: wasm?.gemm
      ? `WebAssembly ${wasm.gemm.flavour === 'relaxed-simd' ? 'relaxed SIMD (FMA)' : 'SIMD128'}, GEMM on ${wasm.gemm.threads} thread${wasm.gemm.threads === 1 ? '' : 's'}`
      : '',
    js: 'the reference kernels (plain TypeScript)',
  };
  const adapter = webGpuAdapter();
  if (adapter) details.webgpu = describeAdapter(adapter);
  else problems.webgpu ??= 'not enabled (keel --backend webgpu, or enableWebGpu() from keel/node)';
  const names = [
    'native',
    'wasm',
    'js',
    'webgpu',
    ...Object.keys(problems).filter((n) => !['native', 'wasm', 'js', 'webgpu'].includes(n)),
  ];
  return {
    keel: KEEL_VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    cores: availableParallelism(),
    threads,
    active: getBackend(),
    backends: names.map((name) => ({
      name,
      loaded: loaded.has(name),
      detail: loaded.has(name) ? (details[name] ?? '') : (problems[name] ?? 'not available'),
    })),
    fashionMnist: findFashionMnist(),
    ...(adapter ? { webgpu: adapter } : {}),
  };
}

const MIB = 1 << 20;

/** One line on a WebGPU adapter: who made it, what it is, the limits that bound keel's tensors. */
function describeAdapter(a: GpuAdapterFacts): string {
  const l = a.limits;
  const what = [a.vendor, a.architecture].filter((s) => s).join(' ') || 'unknown adapter';
  return [
    `${what}${a.description ? ` (${a.description})` : ''}${a.isFallbackAdapter ? ', a software fallback adapter' : ''}`,
    `buffers up to ${Math.floor(l.maxBufferSize / MIB)} MiB (bound: ${Math.floor(l.maxStorageBufferBindingSize / MIB)} MiB)`,
    `${l.maxComputeInvocationsPerWorkgroup} invocations and ${l.maxComputeWorkgroupStorageSize / 1024} KiB per workgroup`,
    'float64 held as float32',
  ].join('; ');
}

/** The facts as lines for a terminal. */
export function formatInfo(i: EnvironmentInfo): string[] {
  return [
    `keel ${i.keel} on Node ${i.node}, ${i.platform}, ${i.cpu} (${i.cores} cores)`,
    `threads: ${i.threads}${process.env.KEEL_THREADS ? ' (KEEL_THREADS)' : ' (the cores, at most 4; KEEL_THREADS=n to choose)'}`,
    `backend: ${i.active}${process.env.KEEL_BACKEND ? ' (KEEL_BACKEND)' : ' (the default: native, else wasm, else js)'}`,
    ...i.backends.map((b) => `  ${b.loaded ? '✔' : '✘'} ${b.name.padEnd(7)} ${b.detail}`),
    `Fashion-MNIST: ${i.fashionMnist ?? 'not found (keel experiment --help says how to get it)'}`,
  ];
}
