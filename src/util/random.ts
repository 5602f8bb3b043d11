/**
 * Seeded pseudo-random numbers. `Rng` is xoshiro128** (32-bit state words, period 2^128 − 1),
 * seeded through splitmix32, so a seed fixes every draw on every platform. All random ops in keel
 * take a generator; `manualSeed(n)` reseeds the global default. Bulk fills avoid per-element calls
 * through user code. A generator's state can be saved and restored (`getState`/`setState`).
 */
import { ValueError } from './errors.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_16 = 65536;

let hostDrawGuard: ((what: string) => void) | null = null;

/**
 * @internal Called with the method's name before each draw made on the host (`random`, `normal`,
 * `integer`, the fills) — `compile` refuses them while tracing, since a plan would replay the same
 * numbers at every call; kernels take only their key words (`nextUint32`), which a plan draws anew.
 * Returns the previous guard.
 */
export function guardHostDraws(guard: ((what: string) => void) | null): ((what: string) => void) | null {
  const prev = hostDrawGuard;
  hostDrawGuard = guard;
  return prev;
}

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
    hostDrawGuard?.('random');
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal draw (Box–Muller, the second value cached). */
  normal(): number {
    hostDrawGuard?.('normal');
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
    hostDrawGuard?.('integer');
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
   * Fills `out` with `drop` with probability `p` and `keep` otherwise — the masks of dropout — from
   * a Philox key of two draws of this generator (`fillDropoutMask` is the spec every backend follows).
   */
  fillMask(out: Float32Array | Float64Array, p: number, keep: number, drop: number): void {
    hostDrawGuard?.('fillMask');
    const k0 = this.nextUint32();
    const k1 = this.nextUint32();
    fillDropoutMask(k0, k1, out, p, keep, drop);
  }

  /** Fills `out` with uniform draws in [low, high). */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
    hostDrawGuard?.('fillUniform');
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * this.random();
  }

  /** Fills `out` with normal draws of the given mean and standard deviation. */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    hostDrawGuard?.('fillNormal');
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }
}

/** Scratch of one block of 16 Philox words (and their units), reused by every fill. */
const WORDS = new Uint32Array(16);
const UNITS = new Float64Array(16);

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

/** The high 32 bits of the 64-bit product of two uint32s (exact: 16-bit halves). */
function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const m1 = a1 * b0 + ((a0 * b0) >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) >>> 0;
}

/**
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC'11;
 * the Random123 generator that cuRAND and PyTorch's CUDA dropout use): ten rounds of a Feistel-like
 * network of 32×32→64-bit products over the counter (c0, c1, c2, c3) under the key (k0, k1), writing
 * four uint32 words to out[at..at+3]. A pure function of counter and key — any part of a stream can
 * be computed alone, by any thread or GPU invocation. Checked against Random123's known answers.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at = 0,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      key0 = (key0 + PHILOX_W0) >>> 0;
      key1 = (key1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, x0);
    const lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, x2);
    const lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[at] = x0;
  out[at + 1] = x1;
  out[at + 2] = x2;
  out[at + 3] = x3;
}

/**
 * The dropout mask spec, followed bit for bit by every backend: element i takes the 16-bit half
 * i mod 2 (the low half first) of the stream's word j = ⌊i/2⌋ — word ⌊j/4⌋ mod 4 of Philox4x32-10 at
 * counter (4·⌊j/16⌋ + j mod 4, 0, 0, 0) under the key (k0, k1), the layout of `fillRandom`'s words:
 * four counters side by side, so a 4-lane SIMD kernel has each output word's halves as eight
 * consecutive elements — and becomes `drop` when that half h < p·2¹⁶ (resolution 2⁻¹⁶: one Philox
 * call gives eight elements, half the work of a word per element), else `keep`. Any range of
 * elements can be computed on its own (threads, GPU invocations); the key is two draws of the
 * layer's generator.
 */
export function fillDropoutMask(
  k0: number,
  k1: number,
  out: Float32Array | Float64Array,
  p: number,
  keep: number,
  drop: number,
): void {
  const threshold = p * TWO_POW_16;
  const n = out.length;
  const words = WORDS;
  for (let b = 0; b < n; b += 32) {
    for (let j = 0; j < 4; j++) philox4x32((b >>> 3) + j, 0, 0, 0, k0, k1, words, 4 * j);
    // words[4c + w] is word w of counter c: the stream's word b/2 + 4w + c.
    const end = Math.min(32, n - b);
    for (let e = 0; e < end; e++) {
      const j = e >>> 1;
      const word = words[4 * (j & 3) + (j >>> 2)];
      const half = e & 1 ? word >>> 16 : word & 0xffff;
      out[b + e] = half < threshold ? drop : keep;
    }
  }
}

/**
 * Dropout's integer threshold for the kernels: h < p·2¹⁶ ⟺ h < ⌈p·2¹⁶⌉ for an integer h; at 2¹⁶
 * every element is dropped, which the kernels' 16-bit lanes say with the flag (second value 1).
 */
export function dropThreshold(p: number): [threshold: number, dropAll: number] {
  const t = Math.ceil(p * TWO_POW_16);
  return t >= TWO_POW_16 ? [0, 1] : [t, 0];
}

/** Which distribution `fillRandom` draws from. */
export type RandomKind = 'uniform' | 'normal';

/**
 * Draws of the backend's random kernel (`Backend.random`), the spec every backend follows: element
 * i takes the Philox word w_i of the dropout masks' layout (`fillDropoutMask`: counter
 * 4·⌊i/16⌋ + i mod 4, word ⌊i/4⌋ mod 4) under the key (k0, k1), as u_i = (w_i + ½)/2³² ∈ (0, 1).
 * 'uniform': a + (b − a)·u_i. 'normal' (mean a, standard deviation b), Box–Muller over the pairs
 * (2j, 2j + 1): r = √(−2 ln u_2j), θ = 2π·u_2j+1, z_2j = r·cos θ, z_2j+1 = r·sin θ (an odd last
 * element takes its pair's cosine). float64 arithmetic, rounded once into `out`'s type; `at` is the
 * index in `out` of element 0.
 */
export function fillRandom(
  kind: RandomKind,
  k0: number,
  k1: number,
  out: Float32Array | Float64Array,
  a: number,
  b: number,
  n = out.length,
  at = 0,
): void {
  const words = WORDS;
  // Words of elements b0 … b0 + 15, in element order.
  const u = UNITS;
  const span = b - a;
  for (let b0 = 0; b0 < n; b0 += 16) {
    for (let j = 0; j < 4; j++) philox4x32((b0 >>> 2) + j, 0, 0, 0, k0, k1, words, 4 * j);
    for (let e = 0; e < 16; e++) u[e] = (words[4 * (e & 3) + (e >>> 2)] + 0.5) / TWO_POW_32;
    const end = Math.min(16, n - b0);
    if (kind === 'uniform') {
      for (let e = 0; e < end; e++) out[at + b0 + e] = a + span * u[e];
      continue;
    }
    for (let e = 0; e < end; e += 2) {
      const r = Math.sqrt(-2 * Math.log(u[e]));
      const t = 2 * Math.PI * u[e + 1];
      out[at + b0 + e] = a + b * (r * Math.cos(t));
      if (e + 1 < end) out[at + b0 + e + 1] = a + b * (r * Math.sin(t));
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
