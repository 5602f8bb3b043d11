/**
 * The webgpu backend's GEMM: C[z] = A[z]·B[z] (+ bias) for float32 operands of any strides, read
 * in place — transposed operands cost no copy. A workgroup computes a BM×BN tile of C, each of its
 * invocations a TM×TN register tile (rows ty + i·TY, columns tx + j·TX, so neighbours touch
 * neighbouring words); BK-deep panels of A and B go through workgroup memory, loaded with
 * consecutive invocations along whichever axis of the operand is contiguous (the pipeline is
 * specialized on the four layouts). The tile size is picked per shape (enough workgroups for a
 * large GPU). Float32 accumulation.
 *
 * The epilogue is the compiled step's linear layer (backend/fused.ts `linearAct`): the bias added
 * to each row, relu, the hidden value kept, and inverted dropout with the masks of the dropout
 * kernel (Philox by element index, util/random.ts), all before the one store.
 */
import { KeelError } from '../../util/errors.js';
import { dropThreshold } from '../../util/random.js';
import { collapse } from '../js/iter.js';
import type { KernelCall } from './context.js';
import { at, call, MATH, type Operand, Params, PHILOX, Slots } from './wgsl.js';

/** A tile configuration. */
interface Tile {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

const TILES: readonly Tile[] = [
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 32, bn: 32, bk: 32, tm: 2, tn: 2 },
  // A training step's products (a batch of 128–256 rows) have few large tiles: this one keeps a
  // large GPU's multiprocessors busy with more, smaller workgroups.
  { bm: 16, bn: 16, bk: 16, tm: 1, tn: 1 },
];

/** The number of tile configurations (tests run each: `forceTile`). */
export const TILE_COUNT = TILES.length;
let forced: number | null = null;

/** @internal Tests: every product uses tile configuration `i` (null: picked per shape). */
export function forceTile(i: number | null): void {
  forced = i;
}

/** The largest tile that still gives ≥ 256 workgroups (else the smallest). */
function pickTile(m: number, n: number, batch: number): Tile {
  if (forced !== null) return TILES[forced];
  for (const t of TILES) if (Math.ceil(m / t.bm) * Math.ceil(n / t.bn) * batch >= 256) return t;
  return TILES[TILES.length - 1];
}

/**
 * Splits a tile's element `e` into row `rr` and column `cc` of a tile `across` columns wide and
 * `down` rows deep: row-major when `byRow` (consecutive invocations along a row), else column-major.
 */
function split(across: number, down: number, byRow: boolean) {
  return (e: string): [string, string] =>
    byRow ? [`(${e}) / ${across}u`, `(${e}) % ${across}u`] : [`(${e}) % ${down}u`, `(${e}) / ${down}u`];
}

/**
 * WGSL of a workgroup's `count` loads per invocation into a shared tile: load q takes element
 * lid + q·wg, split into `rr` and `cc`, then runs `stmt` (which reads them).
 */
function tileLoads(count: number, wg: number, at: (e: string) => [string, string], stmt: string): string[] {
  return Array.from({ length: count }, (_, q) => {
    const [rr, cc] = at(`lid + ${q * wg}u`);
    return `{ let rr = ${rr}; let cc = ${cc}; ${stmt} }`;
  });
}

/** What follows the product, per element (see the file's header). */
export interface Epilogue {
  readonly bias?: Operand;
  readonly relu?: boolean;
  /** Where relu's output is kept as well (dense, C's shape). */
  readonly hidden?: Operand;
  /** Inverted dropout of the activation: mask (dense, C's shape) and the generator's key per run. */
  readonly dropout?: {
    readonly p: number;
    readonly scale: number;
    readonly mask: Operand;
    readonly key: () => [number, number];
  };
}

/**
 * The dispatch of C = A·B with an epilogue: a [...batch, m, k], b [...batch, k, n] (batch axes
 * broadcast, stride 0), out dense [...batch, m, n].
 */
export function matmulKernel(a: Operand, b: Operand, out: Operand, ep: Epilogue = {}): KernelCall {
  const r = out.shape.length;
  if (out.dtype !== 'float32' || a.dtype !== 'float32' || b.dtype !== 'float32')
    throw new KeelError(
      `webgpu: matrix products are float32 only (WGSL has no 64-bit floats), got ${a.dtype}·${b.dtype} → ${out.dtype}; use float32, or a CPU backend for float64`,
    );
  const m = out.shape[r - 2];
  const n = out.shape[r - 1];
  const k = a.shape[r - 1];
  const batchShape = out.shape.slice(0, r - 2);
  const batch = collapse(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2)]);
  const count = batchShape.reduce((x, y) => x * y, 1);
  if (count > 65535) throw new KeelError(`webgpu: a batched product of ${count} matrices is more than 65535`);
  const t = pickTile(m, n, count);
  const [ars, acs] = [a.strides[r - 2], a.strides[r - 1]];
  const [brs, bcs] = [b.strides[r - 2], b.strides[r - 1]];
  const aK = acs === 1 || ars !== 1;
  const bN = bcs === 1 || brs !== 1;
  const slots = new Slots();
  const sa = slots.of(a.place.buffer);
  const sb = slots.of(b.place.buffer);
  const so = slots.of(out.place.buffer);
  const sbias = ep.bias ? slots.of(ep.bias.place.buffer) : -1;
  const sh = ep.hidden ? slots.of(ep.hidden.place.buffer) : -1;
  const sm = ep.dropout ? slots.of(ep.dropout.mask.place.buffer) : -1;
  const P = new Params();
  const w = 'matmul';
  const pm = P.u(m, w);
  const pn = P.u(n, w);
  const pk = P.u(k, w);
  const pa = P.u(at(a), w);
  const pars = P.u(ars, w);
  const pacs = P.u(acs, w);
  const pb = P.u(at(b), w);
  const pbrs = P.u(brs, w);
  const pbcs = P.u(bcs, w);
  const po = P.u(at(out), w);
  const pbias = ep.bias ? P.u(at(ep.bias), w) : -1;
  const pbiasS = ep.bias ? P.u(ep.bias.strides[0] ?? 0, w) : -1;
  const ph = ep.hidden ? P.u(at(ep.hidden), w) : -1;
  const d = ep.dropout;
  const pmask = d ? P.u(at(d.mask), w) : -1;
  const [thr, every] = d ? dropThreshold(d.p) : [0, 0];
  const pt = d ? P.u(thr, w) : -1;
  const pall = d ? P.u(every, w) : -1;
  const pscale = d ? P.f(d.scale, w) : -1;
  const pk0 = d ? P.slot(w) : -1;
  const pk1 = d ? P.slot(w) : -1;
  const bDims = batch.shape.map((x) => P.u(x, w));
  const bA = batch.strides[0].map((x) => P.u(x, w));
  const bB = batch.strides[1].map((x) => P.u(x, w));
  const tx = t.bn / t.tn;
  const ty = t.bm / t.tm;
  const wg = tx * ty;
  const la = (t.bm * t.bk) / wg;
  const lb = (t.bk * t.bn) / wg;
  const key = [
    'matmul',
    `${t.bm}x${t.bn}x${t.bk}/${t.tm}x${t.tn}`,
    aK ? 'ak' : 'am',
    bN ? 'bn' : 'bk',
    bDims.length,
    [sa, sb, so, sbias, sh, sm].join(','),
    ep.relu ? 'relu' : '',
    d ? 'drop' : '',
  ].join('|');
  const body = () => {
    const ld = (s: number, idx: string) => `bitcast<f32>(m${s}[${idx}])`;
    // A's tile is M × K, B's K × N, both stored K-major (As[k·bm + i], Bs[k·bn + j]); each is read
    // along its operand's contiguous dimension. (r, c): the tile's row and column indices.
    const tile = (isA: boolean) => {
      const [r, c] = isA ? ['gi', 'gk'] : ['gk', 'gj'];
      const [r0, c0, rn, cn] = isA ? ['bm', 'kt', 'M', 'K'] : ['kt', 'bn', 'K', 'N'];
      const store = isA ? `As[cc * ${t.bm}u + rr]` : `Bs[rr * ${t.bn}u + cc]`;
      const src = isA
        ? ld(sa, 'u32(abase + i32(gi) * ars + i32(gk) * acs)')
        : ld(sb, 'u32(bbase + i32(gk) * brs + i32(gj) * bcs)');
      const order = isA ? split(t.bk, t.bm, aK) : split(t.bn, t.bk, bN);
      return tileLoads(
        isA ? la : lb,
        wg,
        order,
        `let ${r} = ${r0} + rr; let ${c} = ${c0} + cc;
      ${store} = select(0.0, ${src}, ${r} < ${rn} && ${c} < ${cn});`,
      );
    };
    const [loadA, loadB] = [tile(true), tile(false)];
    const fma: string[] = [];
    for (let i = 0; i < t.tm; i++) fma.push(`let a${i} = As[kk * ${t.bm}u + ty + ${i * ty}u];`);
    for (let j = 0; j < t.tn; j++) fma.push(`let b${j} = Bs[kk * ${t.bn}u + tx + ${j * tx}u];`);
    for (let i = 0; i < t.tm; i++)
      for (let j = 0; j < t.tn; j++) fma.push(`acc[${i * t.tn + j}] = acc[${i * t.tn + j}] + a${i} * b${j};`);
    const store: string[] = [];
    for (let i = 0; i < t.tm; i++)
      for (let j = 0; j < t.tn; j++) {
        store.push(`{ let gi = bm + ty + ${i * ty}u; let gj = bn + tx + ${j * tx}u;
    if (gi < M && gj < N) {
      var v = acc[${i * t.tn + j}];
      let e = obase + gi * N + gj;
      ${ep.bias ? `v = v + ${ld(sbias, `u32(pi(${pbias}u) + i32(gj) * pi(${pbiasS}u))`)};` : ''}
      ${ep.relu ? 'v = u_relu(v);' : ''}
      ${ep.hidden ? `m${sh}[p(${ph}u) + e] = bitcast<u32>(v);` : ''}
      ${
        d
          ? `let mv = select(pf(${pscale}u), 0.0, dropped(e, p(${pk0}u), p(${pk1}u), p(${pt}u), p(${pall}u)));
      m${sm}[p(${pmask}u) + e] = bitcast<u32>(mv);
      v = v * mv;`
          : ''
      }
      m${so}[p(${po}u) + e] = bitcast<u32>(v);
    } }`);
      }
    const unravel: string[] = [];
    for (let q = bDims.length - 1; q >= 0; q--)
      unravel.push(
        q > 0
          ? `{ let c = i32(zr % p(${bDims[q]}u)); zr = zr / p(${bDims[q]}u); abase += c * pi(${bA[q]}u); bbase += c * pi(${bB[q]}u); }`
          : `abase += i32(zr) * pi(${bA[q]}u); bbase += i32(zr) * pi(${bB[q]}u);`,
      );
    return `${MATH}
${d ? PHILOX : ''}
var<workgroup> As: array<f32, ${t.bm * t.bk}>;
var<workgroup> Bs: array<f32, ${t.bk * t.bn}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let M = p(${pm}u); let N = p(${pn}u); let K = p(${pk}u);
  let ars = pi(${pars}u); let acs = pi(${pacs}u); let brs = pi(${pbrs}u); let bcs = pi(${pbcs}u);
  let tx = lid % ${tx}u; let ty = lid / ${tx}u;
  let bm = wid.y * ${t.bm}u; let bn = wid.x * ${t.bn}u;
  var abase = pi(${pa}u); var bbase = pi(${pb}u);
  var zr = wid.z;
  ${unravel.join('\n  ')}
  let obase = wid.z * M * N;
  var acc: array<f32, ${t.tm * t.tn}>;
  for (var kt = 0u; kt < K; kt += ${t.bk}u) {
    ${loadA.join('\n    ')}
    ${loadB.join('\n    ')}
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.bk}u; kk++) {
      ${fma.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${store.join('\n  ')}
}`;
  };
  const refresh = d
    ? (params: Uint32Array) => {
        const [k0, k1] = d.key();
        params[pk0] = k0;
        params[pk1] = k1;
      }
    : undefined;
  return call(
    key,
    slots,
    P,
    body,
    [Math.max(1, Math.ceil(n / t.bn)), Math.max(1, Math.ceil(m / t.bm)), Math.max(1, count)],
    refresh,
  );
}
