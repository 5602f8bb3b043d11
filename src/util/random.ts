/**
 * Seeded pseudo-random numbers. `Rng` is xoshiro128** (32-bit state words, period 2^128 − 1),
 * seeded through splitmix32, so a seed fixes every draw on every platform. All random ops in keel
 * take a generator; `manualSeed(n)` reseeds the global default. Bulk fills avoid per-element calls
 * through user code. A generator's state can be saved and restored (`getState`/`setState`).
 */
import { ValueError } from './errors.js';

const TWO_POW_32 = 4294967296;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded random number generator (xoshiro128**). */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = Number.NaN;

  /** @param seed any finite number; integers in [0, 2^53) map to distinct streams. */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the stream to the one defined by `seed`. Returns this generator. */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) throw new ValueError(`manualSeed: seed must be a finite number, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const sm = splitmix32(lo ^ Math.imul(hi, 0x9e3779b1));
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = Number.NaN;
    return this;
  }

  /** The full state, for checkpoints. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.spare];
  }

  /** Restores a state returned by `getState`. */
  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new ValueError(`Rng.setState: expected 5 numbers, got ${state.length}`);
    [this.s0, this.s1, this.s2, this.s3] = state.map((x) => x >>> 0);
    this.spare = state[4];
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal draw (Box–Muller, the second value cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = Number.NaN;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high). */
  integer(low: number, high: number): number {
    const span = high - low;
    if (span <= TWO_POW_32) {
      // Lemire-style rejection for an unbiased draw.
      const limit = TWO_POW_32 - (TWO_POW_32 % span);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return low + (x % span);
    }
    return low + Math.floor(this.random() * span);
  }

  /**
   * The state of a 4-lane mask stream (16 uint32 words: word w of lane j at index 4w + j), drawn
   * from this generator (16 draws). See `fillMaskLanes`.
   */
  maskLanes(): Uint32Array {
    const lanes = new Uint32Array(16);
    for (let j = 0; j < 4; j++) {
      for (let w = 0; w < 4; w++) lanes[4 * w + j] = this.nextUint32();
      if ((lanes[j] | lanes[4 + j] | lanes[8 + j] | lanes[12 + j]) === 0) lanes[j] = 1;
    }
    return lanes;
  }

  /**
   * Fills `out` with `drop` with probability `p` and `keep` otherwise — the masks of dropout. The
   * draws come from four interleaved xoshiro128** lanes seeded by this generator (`maskLanes`),
   * element i from lane i mod 4, so SIMD kernels produce the same mask (fillMaskLanes is the spec).
   */
  fillMask(out: Float32Array | Float64Array, p: number, keep: number, drop: number): void {
    fillMaskLanes(this.maskLanes(), out, p, keep, drop);
  }

  /** Fills `out` with uniform draws in [low, high). */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * this.random();
  }

  /** Fills `out` with normal draws of the given mean and standard deviation. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }
}

/**
 * The mask stream of dropout: lane j (state words lanes[j], lanes[4 + j], lanes[8 + j],
 * lanes[12 + j]) is a xoshiro128** generator; element i takes the next 32-bit draw r of lane
 * i mod 4 and becomes `drop` when r < p·2³² (resolution 2⁻³²), else `keep`. `lanes` is not modified.
 */
export function fillMaskLanes(
  lanes: Uint32Array,
  out: Float32Array | Float64Array,
  p: number,
  keep: number,
  drop: number,
): void {
  const threshold = p * TWO_POW_32;
  const n = out.length;
  for (let j = 0; j < 4; j++) {
    let s0 = lanes[j];
    let s1 = lanes[4 + j];
    let s2 = lanes[8 + j];
    let s3 = lanes[12 + j];
    for (let i = j; i < n; i += 4) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = r < threshold ? drop : keep;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let defaultGen = new Rng(0x5eed);

/** The global generator used when a random op is given none. */
export function defaultGenerator(): Rng {
  return defaultGen;
}

/** Reseeds the global generator: after `manualSeed(n)` every default-generator draw is reproducible. */
export function manualSeed(seed: number): Rng {
  defaultGen = new Rng(seed);
  return defaultGen;
}

/**
 * The former name of {@link Rng}, kept so code written against it still runs. It was renamed
 * because `Generator` shadows TypeScript's built-in generator-function type.
 * @deprecated use `Rng`.
 */
export const Generator = Rng;
/** @deprecated use `Rng`. */
export type Generator = Rng;
