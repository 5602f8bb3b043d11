/**
 * WebGPU in browsers (and Web Workers): the `webgpu` backend on `navigator.gpu`. `enableWebGpu()`
 * asks for an adapter and a device with the adapter's own limits and registers the backend (it
 * never selects it: `setBackend('webgpu')`); where there is no WebGPU, or no adapter, it rejects
 * with one line saying so — `webGpuUnavailable()` tells without trying. Headless Chromium gives a
 * (software) adapter only with `--enable-unsafe-webgpu`.
 */
import { backendUnavailable, registerBackend } from '../../backend/registry.js';
import { adapterName, type GpuEntry, openDevice } from '../../backend/webgpu/device.js';
import { createWebGpuBackend, type WebGpuBackend } from '../../backend/webgpu/index.js';
import { KeelError } from '../../util/errors.js';

let enabled: WebGpuBackend | null = null;

/** The page's (or worker's) `GPU` object, if it has one. */
function entry(): GpuEntry | null {
  return (globalThis.navigator as { gpu?: GpuEntry } | undefined)?.gpu ?? null;
}

/** Why WebGPU cannot be tried in this context, or null when `navigator.gpu` exists. */
export function webGpuUnavailable(): string | null {
  return entry() ? null : 'this browser has no WebGPU (navigator.gpu is missing; it needs a secure context)';
}

/**
 * Makes the `webgpu` backend available (once) and returns it. Rejects with a KeelError when the
 * browser has no WebGPU or gives no adapter.
 */
export async function enableWebGpu(): Promise<WebGpuBackend> {
  if (enabled) return enabled;
  const gpu = entry();
  const missing = webGpuUnavailable();
  if (!gpu || missing) {
    backendUnavailable('webgpu', missing ?? 'no WebGPU');
    throw new KeelError(`webgpu: ${missing}`);
  }
  const opened = await openDevice(gpu);
  if (!opened) {
    backendUnavailable('webgpu', 'navigator.gpu gives no adapter here');
    throw new KeelError('webgpu: navigator.gpu gives no adapter here');
  }
  const backend = createWebGpuBackend(opened.device, opened.facts);
  enabled = backend;
  registerBackend('webgpu', () => backend);
  return backend;
}

/** The adapter of the enabled backend in a few words, or null before `enableWebGpu`. */
export function webGpuAdapterName(): string | null {
  return enabled?.adapter ? adapterName(enabled.adapter) : null;
}
