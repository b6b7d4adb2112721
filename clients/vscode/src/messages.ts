/**
 * The server's `window/showMessage` in VS Code: shown as the language client would, but a message
 * about the API key (none configured, or rejected) gets a "Set API key" button, because in VS Code
 * the fix is a command, not an environment variable.
 *
 * Pure module (no `vscode` import): unit-tested in test/messages.test.ts.
 */

/** The button offered on key messages. */
export const SET_KEY_BUTTON = 'Set API key';

const KEY_MESSAGES = [/no DeepSeek API key is configured/i, /DeepSeek rejected the API key/i];

/** The buttons to offer with a server message (none for most). */
export function messageButtons(message: string): string[] {
  return KEY_MESSAGES.some((pattern) => pattern.test(message)) ? [SET_KEY_BUTTON] : [];
}
