/**
 * Module classes over functions: `unaryModule(fn)` is a layer whose forward is fn(x, ...the
 * constructor's arguments), `lossModule(fn)` a loss whose forward is fn(input, target, ...them) —
 * so `new nn.ELU(0.5)` is `F.elu(x, 0.5)` and `new nn.HuberLoss(2)` is `F.huberLoss(input, target,
 * 2)`, with the function's own defaults and checks. The layers of activation.ts and loss.ts are
 * declared this way, one line each.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

/** A layer class computing `fn(x, ...args)`; `repr` gives the text `toString()` shows for args. */
export function unaryModule<A extends unknown[]>(
  fn: (x: Tensor, ...args: A) => Tensor,
  repr?: (...args: A) => string,
) {
  return class extends Module {
    /** The arguments after x, as given to the constructor. */
    readonly args: A;
    constructor(...args: A) {
      super();
      this.args = args;
    }
    forward(x: Tensor): Tensor {
      return fn(x, ...this.args);
    }
    override extraRepr(): string {
      return repr ? repr(...this.args) : '';
    }
  };
}

/** A loss class computing `fn(input, target, ...args)`. */
export function lossModule<A extends unknown[]>(fn: (input: Tensor, target: Tensor, ...args: A) => Tensor) {
  return class extends Module {
    /** The arguments after input and target, as given to the constructor. */
    readonly args: A;
    constructor(...args: A) {
      super();
      this.args = args;
    }
    forward(input: Tensor, target: Tensor): Tensor {
      return fn(input, target, ...this.args);
    }
  };
}
