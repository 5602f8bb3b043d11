/**
 * `Module`: the base of every layer. Parameters and child modules are found from the instance's own
 * properties — a `Parameter`-valued field is a parameter, a `Module`-valued field a child, and
 * arrays and Maps of them (at any depth) count too, named by index or key (`blocks.0.weight`, as
 * PyTorch's ModuleList) — so a layer just assigns fields, no registration calls, and names follow
 * field order. Buffers (non-trained state such as running statistics) are registered explicitly.
 * Forward hooks (`registerForwardHook`) see every call's inputs and output and may replace the
 * output; forward taps (`registerForwardTap`) only read the output, also at a compiled step's
 * replays; both are removable. Modules own the train/eval flag; they never touch a backend.
 */
import { dropGrad } from '../autograd/engine.js';
import { isTracing, NotTraceableError, noGrad } from '../autograd/mode.js';
import { tap } from '../autograd/taps.js';
import { copy_ } from '../ops/inplace.js';
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, KeelError } from '../util/errors.js';
import { sameShape } from '../util/shape.js';
import { Parameter } from './parameter.js';

/** Thrown by `loadStateDict` on missing, unexpected or mis-shaped entries. */
export class StateDictError extends KeelError {}

/** Result of a non-strict `loadStateDict`. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Called after a module's forward with its inputs and output; a returned tensor replaces the output. */
export type ForwardHook = (
  module: Module,
  inputs: readonly Tensor[],
  output: Tensor,
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing keeps the output.
) => Tensor | undefined | void;

/** A registered hook; `remove()` takes it off. */
/** Observes a module's output (see `Module.registerForwardTap`). */
export type ForwardTap = (module: Module, output: Tensor) => void;

export interface HookHandle {
  remove(): void;
}

/** [dotted name, value] for every value of class `C` in `v` (a field), walking arrays and Maps. */
function collect<C>(
  name: string,
  v: unknown,
  C: abstract new (...a: never[]) => C,
  out: [string, C][],
): void {
  if (v instanceof C) out.push([name, v]);
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) collect(`${name}.${i}`, x, C, out);
  else if (v instanceof Map) for (const [key, x] of v) collect(`${name}.${String(key)}`, x, C, out);
}

/** Layer classes whose forward keeps no tensor it is given or makes (`keepsNoTensors`). */
const keepNothing = new WeakSet<object>();

/**
 * @internal Declares keel's own layer classes whose forward keeps no tensor it is given or makes, so
 * a `Sequential` of them may hand what they make besides its output back to the memory pool when
 * backward frees it (autograd/transient.ts). Exactly these classes: a subclass may keep anything.
 */
export function keepsNoTensors(...classes: (abstract new (...a: never[]) => Module)[]): void {
  for (const C of classes) keepNothing.add(C);
}

/** Base class of layers and models. */
export abstract class Module {
  /** True in training mode (dropout active, batch statistics used), false after `eval()`. */
  training = true;
  readonly #buffers = new Map<string, Tensor>();
  #forwardHooks: ForwardHook[] = [];
  #forwardTaps: ForwardTap[] = [];

  /** The computation of this module. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * @internal Whether a forward of this module keeps no tensor it sees or makes: a class declared
   * by `keepsNoTensors`, without forward hooks or taps or a replaced forward.
   */
  keepsNoTensors(): boolean {
    return keepNothing.has(this.constructor) && !Object.hasOwn(this, 'forward');
  }

  /**
   * Direct children as [name, module] pairs: Module-valued fields, and the modules in array- or
   * Map-valued fields (`blocks.0`, `heads.cls`), in field order.
   */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) collect(k, v, Module, out);
    return out;
  }

  /** Parameters owned directly by this module (not by children), in arrays and Maps too. */
  ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of Object.entries(this)) collect(k, v, Parameter, out);
    return out;
  }

  /**
   * Calls `hook(module, inputs, output)` after every forward of this module (whoever calls it); a
   * tensor it returns replaces the output. Hooks run in registration order. A compiled step cannot
   * hold a hook (it would run only when traced): tracing one throws, and the step runs eagerly.
   */
  registerForwardHook(hook: ForwardHook): HookHandle {
    this.#forwardHooks.push(hook);
    this.#wrapForward();
    return this.#handle(() => {
      this.#forwardHooks = this.#forwardHooks.filter((h) => h !== hook);
    });
  }

  /**
   * Calls `fn(module, output)` with this module's output after every forward — and, inside a
   * compiled step, after every replay of its plan (a tap: see autograd/taps.ts), so a step observed
   * this way still runs as a plan. `fn` only reads: the output it is given is overwritten by the next
   * run. Diagnostics sample layer outputs through these.
   */
  registerForwardTap(fn: ForwardTap): HookHandle {
    this.#forwardTaps.push(fn);
    this.#wrapForward();
    return this.#handle(() => {
      this.#forwardTaps = this.#forwardTaps.filter((f) => f !== fn);
    });
  }

  /** An own `forward` running the class's forward, then the hooks, then the taps (once). */
  #wrapForward(): void {
    if (this.#forwardHooks.length + this.#forwardTaps.length !== 1) return;
    const base = Object.getPrototypeOf(this).forward as (...inputs: Tensor[]) => Tensor;
    Object.defineProperty(this, 'forward', {
      configurable: true,
      writable: true,
      enumerable: false,
      value: (...inputs: Tensor[]): Tensor => {
        let y = base.apply(this, inputs);
        if (this.#forwardHooks.length) {
          // A plan would run the hook's kernels but never the hook itself again.
          if (isTracing())
            throw new NotTraceableError(
              `${this.constructor.name} has a forward hook, which a compiled step would run only when traced, not at its replays (run steps with hooks eagerly: compile: false; to only read the output, registerForwardTap)`,
            );
          for (const h of [...this.#forwardHooks]) y = h(this, inputs, y) ?? y;
        }
        for (const f of [...this.#forwardTaps]) tap(y, (v) => f(this, v));
        return y;
      },
    });
  }

  /** A handle whose `remove` runs `drop` once, and unwraps `forward` with the last hook or tap. */
  #handle(drop: () => void): HookHandle {
    let removed = false;
    return {
      remove: () => {
        if (removed) return;
        removed = true;
        drop();
        if (this.#forwardHooks.length === 0 && this.#forwardTaps.length === 0)
          delete (this as Partial<{ forward: unknown }>).forward;
      },
    };
  }

  /** Registers a tensor that belongs to the module's state but is not trained (e.g. running mean). */
  registerBuffer(name: string, value: Tensor): void {
    this.#buffers.set(name, value);
  }

  /** A registered buffer. */
  buffer(name: string): Tensor {
    const b = this.#buffers.get(name);
    if (!b) throw new KeelError(`${this.constructor.name}: no buffer named '${name}'`);
    return b;
  }

  /** All modules in the tree, this one first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** All parameters in the tree with dotted names; a parameter shared by two modules appears once. */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  /** All parameters in the tree. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** All buffers in the tree with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  /** Sets training mode on this module and all children. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (same as `train(false)`). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every child (depth first) and then on this module, as PyTorch's `apply`. Returns this. */
  apply(fn: (m: Module) => void): this {
    for (const [, child] of this.namedChildren()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Clears the gradients of all parameters: `.grad` becomes null, as PyTorch's `zero_grad()` does by
   * default. A gradient that backward made for its parameter and that no code outside keel read goes
   * back to the memory pool at once; one you read (`p.grad`) stays valid for as long as you hold it.
   */
  zeroGrad(): void {
    for (const p of this.parameters()) dropGrad(p);
  }

  /** Parameters and buffers by dotted name (tensors sharing the module's memory, detached). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.detach();
    for (const [name, b] of this.namedBuffers()) out[name] = b.detach();
    return out;
  }

  /**
   * Copies values into parameters and buffers in place. Strict (default): every key must match and
   * every shape agree, else a `StateDictError` lists what is wrong. Non-strict: loads what matches
   * and returns the missing and unexpected keys (shape mismatches still throw).
   */
  loadStateDict(state: Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const where = `loadStateDict(${this.constructor.name})`;
    if (state === null || typeof state !== 'object' || Array.isArray(state))
      throw new StateDictError(
        `${where}: expected an object mapping names to tensors (as stateDict() returns), got ${state === null ? 'null' : Array.isArray(state) ? 'an array' : typeof state}`,
      );
    const notTensors = Object.entries(state)
      .filter(([, v]) => !(v instanceof Tensor))
      .map(([k, v]) => `${k} (${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})`);
    if (notTensors.length)
      throw new StateDictError(`${where}: entries must be tensors; not tensors: ${notTensors.join(', ')}`);
    const strict = opts.strict ?? true;
    const targets = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const missingKeys = [...targets.keys()].filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !targets.has(k));
    const mismatched = Object.keys(state)
      .filter((k) => targets.has(k) && !sameShape(state[k].shape, (targets.get(k) as Tensor).shape))
      .map(
        (k) =>
          `${k}: expected ${fmtShape((targets.get(k) as Tensor).shape)}, got ${fmtShape(state[k].shape)}`,
      );
    const problems: string[] = [];
    if (mismatched.length) problems.push(`shape mismatch: ${mismatched.join('; ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) throw new StateDictError(`${where}: ${problems.join(' | ')}`);
    for (const [k, t] of targets) {
      const src = state[k];
      if (!src) continue;
      // Through the host where the source reads synchronously; a GPU tensor is copied on its backend.
      if (src.storage.readSyncRefused) noGrad(() => copy_(t, src));
      else t.storage.write(t, src.readSync());
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Extra text shown by `toString` after the class name (e.g. `in=784, out=256`). */
  extraRepr(): string {
    return '';
  }

  /** A readable tree of the model, as PyTorch prints it. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}
