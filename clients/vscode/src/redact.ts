/**
 * Keeps the API key out of every log line: `redact` for one string, `redactingChannel` for an
 * output channel the language client writes its log and protocol trace to (a verbose trace
 * would otherwise print `initializationOptions` and `workspace/configuration` answers).
 *
 * Pure module (no `vscode` import): unit-tested in test/redact.test.ts.
 */

/** What replaces a secret in logs. */
export const MASK = '***';

/** Key-shaped text (DeepSeek and OpenAI style keys) masked even when not known. */
const KEY_SHAPE = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** `text` with every given secret (and anything shaped like an API key) masked. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) {
      result = result.split(secret).join(MASK);
      const quoted = JSON.stringify(secret).slice(1, -1); // as it appears inside JSON text
      if (quoted !== secret) {
        result = result.split(quoted).join(MASK);
      }
    }
  }
  return result.replace(KEY_SHAPE, `sk-${MASK}`);
}

/** Channel methods whose string arguments are log text. */
const WRITERS = new Set(['append', 'appendLine', 'replace', 'trace', 'debug', 'info', 'warn', 'error']);

/**
 * A proxy of `channel` whose writing methods mask `secrets()` in their string arguments; every
 * other member (name, logLevel, show, dispose, events...) is the channel's own.
 */
export function redactingChannel<T extends object>(
  channel: T,
  secrets: () => readonly (string | undefined)[],
): T {
  return new Proxy(channel, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') {
        return value;
      }
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property === 'string' && WRITERS.has(property)) {
        return (...args: unknown[]) =>
          method.apply(
            target,
            args.map((arg) => (typeof arg === 'string' ? redact(arg, secrets()) : arg)),
          );
      }
      return method.bind(target);
    },
  });
}
