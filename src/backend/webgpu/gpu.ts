/**
 * The part of the WebGPU API the webgpu backend uses, as structural types, and the numeric flags
 * it passes. A browser's `navigator.gpu` and Dawn's Node binding (npm `webgpu`) both give objects
 * of these shapes; typing them here keeps the library's declarations free of `@webgpu/types` and of
 * the globals (`GPUBufferUsage`, …) that Node only has after `Object.assign(globalThis, globals)`.
 */

/** `GPUBufferUsage` flags. */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** `GPUMapMode.READ`. */
export const MAP_READ = 0x0001;

/** `GPUShaderStage.COMPUTE`. */
export const STAGE_COMPUTE = 0x4;

/** An object the backend only hands back to the API (pipelines, layouts, bind groups, modules). */
export type GpuHandle = object;

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuQueue {
  submit(buffers: readonly GpuHandle[]): void;
  writeBuffer(
    buffer: GpuBuffer,
    offset: number,
    data: ArrayBufferView,
    dataOffset?: number,
    size?: number,
  ): void;
  onSubmittedWorkDone(): Promise<void>;
}

export interface GpuComputePass {
  setPipeline(p: GpuHandle): void;
  setBindGroup(index: number, group: GpuHandle, dynamicOffsets?: readonly number[]): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(d?: { label?: string }): GpuComputePass;
  copyBufferToBuffer(
    src: GpuBuffer,
    srcOffset: number,
    dst: GpuBuffer,
    dstOffset: number,
    size: number,
  ): void;
  finish(): GpuHandle;
}

/** The limits the backend reads (a `GPUSupportedLimits`). */
export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly minUniformBufferOffsetAlignment: number;
}

export interface GpuBindGroupEntry {
  binding: number;
  resource: { buffer: GpuBuffer; offset?: number; size?: number };
}

export interface GpuDevice {
  readonly limits: GpuLimits;
  readonly queue: GpuQueue;
  readonly lost: Promise<{ reason?: string; message?: string }>;
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): GpuBuffer;
  createShaderModule(d: { code: string; label?: string }): GpuHandle;
  createComputePipeline(d: {
    layout: GpuHandle;
    compute: { module: GpuHandle; entryPoint: string };
    label?: string;
  }): GpuHandle;
  createBindGroupLayout(d: { entries: unknown[] }): GpuHandle;
  createPipelineLayout(d: { bindGroupLayouts: GpuHandle[] }): GpuHandle;
  createBindGroup(d: { layout: GpuHandle; entries: GpuBindGroupEntry[] }): GpuHandle;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: string): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
  addEventListener?(type: string, listener: (e: { error?: { message: string } }) => void): void;
}

/** What an adapter says about itself (`GPUAdapterInfo`), as `keel info` shows it. */
export interface GpuAdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  readonly limits: Record<string, number>;
}
