/**
 * Letting the host's event loop run from inside long synchronous work (a training loop), so that
 * signals, timers and messages are handled between steps: `setImmediate` where it exists (Node),
 * otherwise a `MessageChannel` message (browsers and workers: not clamped to 4 ms as nested
 * `setTimeout(0)` is), otherwise `setTimeout(0)`.
 */

let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];

/** Resolves after the event loop has had a turn. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const immediate = g.setImmediate;
    return new Promise((resolve) => immediate(resolve));
  }
  if (typeof MessageChannel === 'function') {
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    const port = channel.port2;
    return new Promise((resolve) => {
      waiting.push(resolve);
      port.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
