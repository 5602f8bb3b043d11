/**
 * Opening a WebGPU device for the webgpu backend from a `GPU` object — a browser's `navigator.gpu`
 * or the one Dawn's Node binding creates: an adapter (null: none here), then a device asking for
 * the adapter's own maxima of the limits that bound keel's tensors (the defaults cap a buffer at
 * 256 MiB and a binding at 128 MiB), and what the adapter says about itself for `keel info` and the
 * lab's header. Platform-free: the platform code (io/node, io/web) finds the `GPU` object.
 */
import type { GpuAdapterFacts, GpuDevice } from './gpu.js';

/** The `GPU` entry point (`navigator.gpu`, or Dawn's `create()` in Node). */
export interface GpuEntry {
  requestAdapter(o?: { featureLevel?: string; powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** The part of a `GPUAdapter` used here. */
export interface GpuAdapterLike {
  readonly info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & {
    isFallbackAdapter?: boolean;
  };
  readonly limits: object;
  requestDevice(d: { requiredLimits: Record<string, number> }): Promise<GpuDevice>;
}

/** The limits the backend benefits from, asked for at the adapter's maximum. */
const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
];

/** Every numeric limit of a `GPUSupportedLimits` (its fields are getters on the prototype). */
export function limitsOf(l: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (let o: object | null = l; o && o !== Object.prototype; o = Object.getPrototypeOf(o))
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = (l as Record<string, unknown>)[k];
      if (typeof v === 'number' && !(k in out)) out[k] = v;
    }
  return out;
}

/** An adapter and a device of `gpu`, or null when it gives no adapter. */
export async function openDevice(
  gpu: GpuEntry,
  opts: { featureLevel?: string } = {},
): Promise<{ adapter: GpuAdapterLike; device: GpuDevice; facts: GpuAdapterFacts } | null> {
  const adapter = await gpu.requestAdapter({
    powerPreference: 'high-performance',
    ...(opts.featureLevel ? { featureLevel: opts.featureLevel } : {}),
  });
  if (!adapter) return null;
  const all = limitsOf(adapter.limits);
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) if (k in all) requiredLimits[k] = all[k];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info ?? {};
  const facts: GpuAdapterFacts = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? false,
    limits: limitsOf(device.limits),
  };
  return { adapter, device, facts };
}

/** The adapter in a few words (the lab's header, logs). */
export function adapterName(f: GpuAdapterFacts): string {
  const what = [f.vendor, f.architecture].filter((s) => s).join(' ') || 'a WebGPU adapter';
  return `${what}${f.isFallbackAdapter ? ' (software)' : ''}`;
}
