/** Loss layers: one-line modules over the functional losses, `forward(input, target)`. */
import * as F from '../functional/loss.js';
import { lossModule } from './functional.js';

/** Mean squared error (`reduction` default 'mean'). */
export class MSELoss extends lossModule(F.mseLoss) {}

/** Mean absolute error. */
export class L1Loss extends lossModule(F.l1Loss) {}

/** Huber loss with threshold δ (default 1). */
export class HuberLoss extends lossModule(F.huberLoss) {}

/** Smooth L1 loss with threshold β (default 1). */
export class SmoothL1Loss extends lossModule(F.smoothL1Loss) {}

/** Cross-entropy from logits (label smoothing, class weights). Per-sample weights: call `F.crossEntropy`. */
export class CrossEntropyLoss extends lossModule(F.crossEntropy) {}

/** Negative log-likelihood of log-probabilities. */
export class NLLLoss extends lossModule(F.nllLoss) {}

/** Binary cross-entropy from logits. */
export class BCEWithLogitsLoss extends lossModule(F.bceWithLogits) {}
