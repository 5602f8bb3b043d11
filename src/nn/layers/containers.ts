/**
 * Containers and shape layers: Sequential (runs its layers in order), ModuleList and ModuleDict (hold
 * modules for a forward written by hand, named '0', '1', … or by key, as in PyTorch), Identity,
 * Flatten.
 */
import { abandonTransientScope, closeTransientScope, openTransientScope } from '../../autograd/transient.js';
import { flatten } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { KeelError } from '../../util/errors.js';
import { keepsNoTensors, Module } from '../module.js';

/** Runs its modules in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  /**
   * Runs the layers in order. When every layer is keel's own (no hooks, no subclass), what they
   * make besides the output — activations between them, temporaries inside them — is seen by no one
   * but the graph: it goes back to the memory pool as soon as backward frees the nodes that saved it,
   * or at once if none did (autograd/transient.ts), so a plain training loop reuses the same memory
   * every step.
   */
  forward(x: Tensor): Tensor {
    const scope = this.keepsNoTensors() ? openTransientScope() : null;
    let y = x;
    try {
      for (const m of this.layers) y = m.forward(y);
    } catch (e) {
      if (scope) abandonTransientScope(scope);
      throw e;
    }
    if (scope) closeTransientScope(scope, y);
    return y;
  }

  /** @internal Also every layer's (a Sequential marks what its layers make). */
  override keepsNoTensors(): boolean {
    return super.keepsNoTensors() && this.layers.every((m) => m.keepsNoTensors());
  }

  /** The i-th layer. */
  at(i: number): Module {
    return this.layers[i];
  }

  get length(): number {
    return this.layers.length;
  }
}

/** A list of modules whose parameters count as the owner's; it has no forward of its own. */
export class ModuleList extends Module implements Iterable<Module> {
  private readonly items: Module[];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.items = [...modules];
  }

  override namedChildren(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  /** Appends a module; returns this list. */
  push(...modules: Module[]): this {
    this.items.push(...modules);
    return this;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const m = this.items.at(i);
    if (!m) throw new KeelError(`ModuleList.at: index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  forward(): Tensor {
    throw new KeelError('ModuleList has no forward: call its modules from the owner’s forward');
  }
}

/** Modules by name (insertion order); their parameters are named `<key>.weight`. */
export class ModuleDict extends Module {
  private readonly items = new Map<string, Module>();

  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    for (const [k, m] of Symbol.iterator in modules
      ? (modules as Iterable<[string, Module]>)
      : Object.entries(modules))
      this.set(k, m);
  }

  override namedChildren(): [string, Module][] {
    return [...this.items];
  }

  /** Adds or replaces the module under `key`; returns this dict. */
  set(key: string, module: Module): this {
    if (!/^[\w-]+$/.test(key))
      throw new KeelError(
        `ModuleDict: key '${key}' must be letters, digits, _ or - (it becomes part of parameter names)`,
      );
    this.items.set(key, module);
    return this;
  }

  /** The module under `key`. */
  get(key: string): Module {
    const m = this.items.get(key);
    if (!m)
      throw new KeelError(`ModuleDict: no module '${key}' (keys: ${[...this.items.keys()].join(', ')})`);
    return m;
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  forward(): Tensor {
    throw new KeelError('ModuleDict has no forward: call its modules from the owner’s forward');
  }
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens axes startAxis..endAxis (default 1..−1: everything but the batch). */
export class Flatten extends Module {
  constructor(
    readonly startAxis = 1,
    readonly endAxis = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startAxis, this.endAxis);
  }

  override extraRepr(): string {
    return `startAxis=${this.startAxis}, endAxis=${this.endAxis}`;
  }
}

keepsNoTensors(Sequential, Identity, Flatten);
