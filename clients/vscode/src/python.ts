/**
 * The interpreter the Python extension (ms-python.python) has selected for the workspace, through
 * its `environments` API, as Python tool extensions (black, ruff, mypy) find theirs. Only the two
 * calls used here are declared: the `@vscode/python-extension` package that types the whole API
 * asks for a newer VS Code than this extension supports.
 */

import * as vscode from 'vscode';

/** The Python extension's id. */
export const PYTHON_EXTENSION = 'ms-python.python';

/** The part of the Python extension's API used here. */
interface PythonExtensionApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(
      environment: { id: string; path: string } | string,
    ): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
  };
}

/**
 * The executable of the Python extension's active environment for `resource`, or undefined
 * when the extension is not installed, has none, or fails (said in the log).
 */
export async function selectedInterpreter(
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    if (environments === undefined) {
      log(`${PYTHON_EXTENSION} offers no environments API`);
      return undefined;
    }
    const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
    return resolved?.executable.uri?.fsPath;
  } catch (error) {
    log(`could not ask ${PYTHON_EXTENSION} for its interpreter: ${String(error)}`);
    return undefined;
  }
}
