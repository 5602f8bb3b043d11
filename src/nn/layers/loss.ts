/** Loss layers: modules over the functional losses, `forward(input, target)`. */
import type { Tensor } from '../../tensor/tensor.js';
import * as F from '../functional/loss.js';
import { Module } from '../module.js';

/** Mean squared error. */
export class MSELoss extends Module {
  constructor(readonly reduction: F.Reduction = 'mean') {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.reduction);
  }
}

/** Mean absolute error. */
export class L1Loss extends Module {
  constructor(readonly reduction: F.Reduction = 'mean') {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, this.reduction);
  }
}

/** Huber loss with threshold δ. */
export class HuberLoss extends Module {
  constructor(
    readonly delta = 1,
    readonly reduction: F.Reduction = 'mean',
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, this.delta, this.reduction);
  }
}

/** Smooth L1 loss with threshold β. */
export class SmoothL1Loss extends Module {
  constructor(
    readonly beta = 1,
    readonly reduction: F.Reduction = 'mean',
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, this.beta, this.reduction);
  }
}

/** Cross-entropy from logits (label smoothing, class weights). Per-sample weights: call `F.crossEntropy`. */
export class CrossEntropyLoss extends Module {
  constructor(readonly opts: F.CrossEntropyOptions = {}) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, this.opts);
  }
}

/** Negative log-likelihood of log-probabilities. */
export class NLLLoss extends Module {
  constructor(readonly opts: F.ClassLossOptions = {}) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, this.opts);
  }
}

/** Binary cross-entropy from logits. */
export class BCEWithLogitsLoss extends Module {
  constructor(readonly opts: F.BceOptions = {}) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.bceWithLogits(input, target, this.opts);
  }
}
