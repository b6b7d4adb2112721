/**
 * The API-key prompt: one notification that says the key is missing (or was rejected), links to
 * *Set API key*, and goes away by itself once the problem is gone — unlike a plain VS Code
 * notification, which code cannot dismiss. The glue in client.ts shows it as a cancellable
 * progress notification (`window.withProgress`), which ends when `close` is called.
 *
 * It closes when a `flashpro/status` says calls are no longer paused for the key, when the
 * server stops (a new key restarts it; a new server says again if the problem remains), or
 * when the user dismisses it.
 *
 * Pure module (no `vscode` import): unit-tested in test/keyPrompt.test.ts.
 */

import { keyProblem, keyPromptText } from './messages';
import type { ServerStatus } from './status';

/** An open prompt; `close` takes it away. */
export interface PromptHandle {
  close(): void;
}

/** Shows a prompt with `text`; calls `dismissed` if the user closes it first. */
export type PromptView = (text: string, dismissed: () => void) => PromptHandle;

/** Pause reasons that only a key fixes. */
const KEY_PAUSES = new Set(['missing_key', 'auth']);

export class KeyPrompt {
  private open: { handle: PromptHandle; text: string } | undefined;

  constructor(private readonly view: PromptView) {}

  /** The text shown now, or undefined. */
  get shown(): string | undefined {
    return this.open?.text;
  }

  /**
   * A `window/showMessage` from the server: true when it was about the key and is now shown as
   * the prompt (the caller then shows nothing else).
   */
  serverMessage(message: string): boolean {
    const problem = keyProblem(message);
    if (problem === undefined) {
      return false;
    }
    const text = keyPromptText(problem, message);
    if (this.open?.text !== text) {
      this.close();
      const entry = {
        text,
        handle: this.view(text, () => {
          if (this.open === entry) {
            this.open = undefined;
          }
        }),
      };
      this.open = entry;
    }
    return true;
  }

  /** A `flashpro/status` arrived: the prompt goes once calls are not paused for the key. */
  status(status: ServerStatus): void {
    if (!(status.state === 'paused' && status.pausedBy !== null && KEY_PAUSES.has(status.pausedBy))) {
      this.close();
    }
  }

  /** Takes the prompt away (the server stopped, or the problem is gone). */
  close(): void {
    const open = this.open;
    this.open = undefined;
    open?.handle.close();
  }
}
