/**
 * Error types of keel. Every error names the operation, the offending value and what is allowed,
 * so that a message alone tells the user what to change. Callers catch by class.
 */

/** Base class of every error keel throws on purpose. */
export class KeelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together: broadcasting, matmul, reshape, concat, a gradient of the wrong shape. */
export class ShapeError extends KeelError {}

/** An axis (dimension index) out of range or repeated. */
export class AxisError extends KeelError {}

/** An operation used with a dtype it does not support (e.g. gradients of int32 tensors). */
export class DTypeError extends KeelError {}

/** Misuse of automatic differentiation: backward through a freed graph, a non-scalar without a gradient, ... */
export class AutogradError extends KeelError {}

/** An argument outside its allowed range (e.g. a negative number of steps, a probability above 1). */
export class ValueError extends KeelError {}

/** Formats a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
