/**
 * The domain classifier shared by the classifier two-sample test and covariate-shift correction:
 * a keel model (logistic regression by default, an MLP with `hidden`) trained to tell target rows
 * (label 1) from source rows (label 0) on standardized features, with AdamW and a little weight
 * decay, seeded. Its logit h(x) = log P(target | x) − log P(source | x).
 */
import { noGrad } from '../autograd/mode.js';
import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { mlp } from '../nn/mlp.js';
import { AdamW } from '../optim/optimizers.js';
import { fromHost } from '../tensor/create.js';
import { fit } from '../train/fit.js';
import { ValueError } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import type { Scores } from './matrix.js';

/** How the domain classifier is built and trained. */
export interface DomainClassifierOptions {
  /** Hidden widths (default []: logistic regression). */
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Balance the two domains' terms in the loss (default true; the logit is corrected for the class ratio either way). */
  balance?: boolean;
}

/** A trained domain classifier: logits of "target" for new rows. */
export interface DomainClassifier {
  /** h(x) for each row of `x` ([n, d] features on the same scale as in training). */
  logits(x: Scores): Float64Array;
  /** log(n_target / n_source) of the training data: the prior part of h (when unbalanced). */
  readonly priorLogOdds: number;
  /** Whether the training loss balanced the domains (then h carries no prior part). */
  readonly balanced: boolean;
}

/** Column means and standard deviations (sd 0 → 1). */
function standardizer(rows: Scores[]): { mean: Float64Array; sd: Float64Array } {
  const d = rows[0].k;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  let n = 0;
  for (const r of rows) {
    for (let i = 0; i < r.n; i++)
      for (let j = 0; j < d; j++) {
        const v = r.data[i * d + j];
        mean[j] += v;
        sq[j] += v * v;
      }
    n += r.n;
  }
  const sd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] /= n;
    const v = sq[j] / n - mean[j] * mean[j];
    sd[j] = v > 1e-12 ? Math.sqrt(v) : 1;
  }
  return { mean, sd };
}

function standardized(x: Scores, s: { mean: Float64Array; sd: Float64Array }): Float32Array {
  const out = new Float32Array(x.n * x.k);
  for (let i = 0; i < x.n; i++)
    for (let j = 0; j < x.k; j++) out[i * x.k + j] = (x.data[i * x.k + j] - s.mean[j]) / s.sd[j];
  return out;
}

/** Trains a domain classifier separating `target` rows from `source` rows. */
export async function trainDomainClassifier(
  source: Scores,
  target: Scores,
  g: Rng,
  opts: DomainClassifierOptions = {},
): Promise<DomainClassifier> {
  if (source.k !== target.k)
    throw new ValueError(`domain classifier: source has ${source.k} features, target ${target.k}`);
  const d = source.k;
  const epochs = opts.epochs ?? 10;
  const balanced = opts.balance ?? true;
  const s = standardizer([source, target]);
  const n = source.n + target.n;
  const x = new Float32Array(n * d);
  x.set(standardized(source, s), 0);
  x.set(standardized(target, s), source.n * d);
  const y = new Int32Array(n);
  y.fill(1, source.n);
  // Balanced: each domain's terms weigh n / (2·n_domain), so both count as much.
  const w = new Float32Array(n);
  w.fill(balanced ? n / (2 * source.n) : 1, 0, source.n);
  w.fill(balanced ? n / (2 * target.n) : 1, source.n);
  const model = mlp({ inputs: d, hidden: opts.hidden ?? [], outputs: 2, generator: g });
  const ds = new TensorDataset(
    fromHost(x, [n, d], 'float32'),
    fromHost(y, [n], 'int32'),
    fromHost(w, [n], 'float32'),
  );
  await fit({
    model,
    optimizer: new AdamW(model.parameters(), { lr: opts.lr ?? 0.01, weightDecay: opts.weightDecay ?? 1e-3 }),
    train: new DataLoader(ds, { batchSize: opts.batchSize ?? 128, shuffle: true, generator: g }),
    epochs,
    divergence: { onNonFinite: 'continue' },
  });
  model.eval();
  return {
    balanced,
    priorLogOdds: Math.log(target.n / source.n),
    logits(rows: Scores): Float64Array {
      if (rows.k !== d) throw new ValueError(`domain classifier: trained on ${d} features, given ${rows.k}`);
      const out = noGrad(() =>
        model.forward(fromHost(standardized(rows, s), [rows.n, d], 'float32')).readSync(),
      );
      const h = new Float64Array(rows.n);
      for (let i = 0; i < rows.n; i++) h[i] = out[2 * i + 1] - out[2 * i];
      return h;
    },
  };
}
