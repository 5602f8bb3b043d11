// The fused optimizer update over float32 (spec: src/backend/optimizer.ts; reference: the js
// backend's optimizer.ts, whose Math.fround after every operation these f32x4 operations match bit
// for bit — no fused multiply-add here). One pass over n elements of the parameter w, its gradient
// g and up to three state buffers; `h` points at the step's hyper-parameters (float64, layout H in
// the spec). State values are flushed to 0 below 2⁻¹²⁶ (ftz), as the spec says. A tail of fewer than four elements is loaded and stored lane by lane.

const SGD: i32 = 0;
const ADAM: i32 = 1;
const RMSPROP: i32 = 2;
const ADAGRAD: i32 = 3;

const COUPLED_L2: i32 = 1;
const COUPLED_L1: i32 = 2;
const DECOUPLED_L2: i32 = 3;
const DECOUPLED_L1: i32 = 4;
const PROXIMAL: i32 = 5;

/** The first `count` lanes at p (all four when count ≥ 4), the rest 0. */
// @ts-ignore: decorator
@inline
function loadN(p: usize, count: i32): v128 {
  if (count >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = v128.load32_lane(p, v, 0);
  if (count > 1) v = v128.load32_lane(p, v, 1, 4);
  if (count > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the first `count` lanes of v at p (all four when count ≥ 4). */
// @ts-ignore: decorator
@inline
function storeN(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(p, v);
    return;
  }
  v128.store32_lane(p, v, 0);
  if (count > 1) v128.store32_lane(p, v, 1, 4);
  if (count > 2) v128.store32_lane(p, v, 2, 8);
}

/** ±1, and 0 for 0 and NaN. */
// @ts-ignore: decorator
@inline
function sign(x: v128): v128 {
  const zero = f32x4.splat(0);
  return v128.or(v128.and(f32x4.gt(x, zero), f32x4.splat(1)), v128.and(f32x4.lt(x, zero), f32x4.splat(-1)));
}

/** x with lanes below the smallest normal float (|x| < 2⁻¹²⁶) set to 0, NaN kept (the state's flush). */
// @ts-ignore: decorator
@inline
function ftz(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(f32x4.abs(x), f32x4.splat(1.17549435e-38)));
}

// @ts-ignore: decorator
@inline
function hp(h: usize, k: i32): f64 {
  return load<f64>(h + (<usize>k << 3));
}

/**
 * Elements i … i + 3 (the first `count` of them) of the update. Inlined into loops whose family and
 * decay flags are constants, so the optimizer removes the branches they decide (the common cases
 * run without per-element tests of the mode).
 */
// @ts-ignore: decorator
@inline
function updateAt(
  i: i32, count: i32, w: usize, g: usize, s0: usize, s1: usize, s2: usize,
  negLr: v128, lambda: v128, thr: v128, negThr: v128, a: v128, ca: v128, b: v128, cb: v128, c: v128, d: v128, e: v128, f: v128,
  flag5: bool, flag6: bool, sgdMomentum: bool, rmsMomentum: bool,
  family: i32, coupled: bool, decoupled: bool, l1: bool, prox: bool,
): void {
  const zero = f32x4.splat(0);
  const q = <usize>i << 2;
  const wv = loadN(w + q, count);
  let u = loadN(g + q, count);
  if (coupled) u = f32x4.add(u, f32x4.mul(lambda, l1 ? sign(wv) : wv));
  if (family == SGD) {
    if (sgdMomentum) {
      // a = μ, cb = 1 − τ, flag5 = nesterov, flag6 = first
      const nb = ftz(flag6 ? u : f32x4.add(f32x4.mul(a, loadN(s0 + q, count)), f32x4.mul(cb, u)));
      storeN(s0 + q, nb, count);
      u = flag5 ? f32x4.add(u, f32x4.mul(a, nb)) : nb;
    }
  } else if (family == ADAM) {
    // a = β1, ca = 1 − β1, b = β2, cb = 1 − β2, c = ε, flag6 = amsgrad, e = bc1, f = √bc2
    const m = ftz(f32x4.add(f32x4.mul(a, loadN(s0 + q, count)), f32x4.mul(ca, u)));
    const v = ftz(f32x4.add(f32x4.mul(b, loadN(s1 + q, count)), f32x4.mul(cb, f32x4.mul(u, u))));
    storeN(s0 + q, m, count);
    storeN(s1 + q, v, count);
    let vv = v;
    if (flag6) {
      vv = f32x4.max(loadN(s2 + q, count), v);
      storeN(s2 + q, vv, count);
    }
    u = f32x4.div(f32x4.div(m, e), f32x4.add(f32x4.div(f32x4.sqrt(vv), f), c));
  } else if (family == RMSPROP) {
    // a = α, ca = 1 − α, b = ε, flag5 = centered, d = μ (rmsMomentum)
    const v = ftz(f32x4.add(f32x4.mul(a, loadN(s0 + q, count)), f32x4.mul(ca, f32x4.mul(u, u))));
    storeN(s0 + q, v, count);
    let avg: v128;
    let next = s1;
    if (flag5) {
      const ga = ftz(f32x4.add(f32x4.mul(a, loadN(s1 + q, count)), f32x4.mul(ca, u)));
      storeN(s1 + q, ga, count);
      avg = f32x4.add(f32x4.sqrt(f32x4.sub(v, f32x4.mul(ga, ga))), b);
      next = s2;
    } else avg = f32x4.add(f32x4.sqrt(v), b);
    if (rmsMomentum) {
      const mb = ftz(f32x4.add(f32x4.mul(d, loadN(next + q, count)), f32x4.div(u, avg)));
      storeN(next + q, mb, count);
      u = mb;
    } else u = f32x4.div(u, avg);
  } else if (family == ADAGRAD) {
    // a = ε, b = 1 / (1 + (t−1)·lrDecay)
    const s = ftz(f32x4.add(loadN(s0 + q, count), f32x4.mul(u, u)));
    storeN(s0 + q, s, count);
    u = f32x4.div(f32x4.mul(b, u), f32x4.add(f32x4.sqrt(s), a));
  }
  if (decoupled) u = f32x4.add(u, f32x4.mul(lambda, l1 ? sign(wv) : wv));
  let nw = f32x4.add(wv, f32x4.mul(negLr, u));
  if (prox) {
    const down = f32x4.sub(nw, thr);
    const up = f32x4.add(nw, thr);
    nw = v128.bitselect(down, v128.bitselect(up, zero, f32x4.lt(nw, negThr)), f32x4.gt(nw, thr));
  }
  storeN(w + q, nw, count);
}

/** The loop over n elements for one family and decay mode (constants where inlined). */
// @ts-ignore: decorator
@inline
function pass(
  n: i32, w: usize, g: usize, s0: usize, s1: usize, s2: usize,
  negLr: v128, lambda: v128, thr: v128, negThr: v128, a: v128, ca: v128, b: v128, cb: v128, c: v128, d: v128, e: v128, f: v128,
  flag5: bool, flag6: bool, sgdMomentum: bool, rmsMomentum: bool,
  family: i32, coupled: bool, decoupled: bool, l1: bool, prox: bool,
): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) updateAt(i, 4, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, family, coupled, decoupled, l1, prox);
  if (i < n) updateAt(i, n - i, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, family, coupled, decoupled, l1, prox);
}

export function optimizerStep(family: i32, w: usize, g: usize, s0: usize, s1: usize, s2: usize, n: i32, h: usize): void {
  const negLr = f32x4.splat(<f32>-hp(h, 0));
  const lambda = f32x4.splat(<f32>hp(h, 1));
  const mode = <i32>hp(h, 2);
  const coupled = mode == COUPLED_L2 || mode == COUPLED_L1;
  const decoupled = mode == DECOUPLED_L2 || mode == DECOUPLED_L1;
  const l1 = mode == COUPLED_L1 || mode == DECOUPLED_L1;
  const t = <f32>(<f32>hp(h, 0) * <f32>hp(h, 1));
  const prox = mode == PROXIMAL && t > 0;
  const thr = f32x4.splat(t);
  const negThr = f32x4.splat(-t);
  // Family scalars (slots 3…8), as float32 once per call.
  const a = f32x4.splat(<f32>hp(h, 3));
  const ca = f32x4.splat(<f32>(1.0 - hp(h, 3)));
  const b = f32x4.splat(<f32>hp(h, 4));
  const cb = f32x4.splat(<f32>(1.0 - hp(h, 4)));
  const c = f32x4.splat(<f32>hp(h, 5));
  const flag5 = hp(h, 5) != 0;
  const flag6 = hp(h, 6) != 0;
  const d = f32x4.splat(<f32>hp(h, 6));
  const e = f32x4.splat(<f32>hp(h, 7));
  const f = f32x4.splat(<f32>hp(h, 8));
  const sgdMomentum = hp(h, 3) != 0;
  const rmsMomentum = hp(h, 6) != 0;
  const plain = !coupled && !decoupled && !prox;
  // The common cases as loops of their own (their branches decided at compile time); the rest generic.
  if (family == SGD && plain) pass(n, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, SGD, false, false, false, false);
  else if (family == SGD && coupled && !l1) pass(n, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, SGD, true, false, false, false);
  else if (family == ADAM && decoupled && !l1) pass(n, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, ADAM, false, true, false, false);
  else if (family == ADAM && plain) pass(n, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, ADAM, false, false, false, false);
  else pass(n, w, g, s0, s1, s2, negLr, lambda, thr, negThr, a, ca, b, cb, c, d, e, f, flag5, flag6, sgdMomentum, rmsMomentum, family, coupled, decoupled, l1, prox);
}
