/**
 * "Implement this" on the client side:
 *
 * - the argument of the server's `flashpro.implement` command for the active editor:
 *   `{ design: path }` on a design document the server wrote (`.flashpro/designs/*.md`, which
 *   may have been edited since), else `{ uri, lines: [first, last] }` — the selected lines (a
 *   selection that ends at the start of a line leaves that line out), or the cursor's line;
 * - the hint shown with a task's change: the server annotates it per node with
 *   `needsConfirmation`, so VS Code opens its Refactor Preview — with every such change
 *   unticked, and its Apply button applies only ticked changes (with none, nothing).
 *
 * Pure module (no `vscode` import): unit-tested in test/implement.test.ts.
 */

/** A position or range as VS Code gives them (0-based lines). */
export interface LinePosition {
  line: number;
  character: number;
}

/** What `flashpro.implement` takes. */
export type ImplementArgument = { design: string } | { uri: string; lines: [number, number] };

/** Is `uri` a design document the server wrote? */
export function isDesignDocument(uri: string): boolean {
  return /^file:\/\/.*\/\.flashpro\/designs\/[^/]+\.md$/i.test(uri);
}

/** The command's argument for document `uri` (at `fsPath`) and its selection. */
export function implementArgument(uri: string, fsPath: string, start: LinePosition, end: LinePosition): ImplementArgument {
  if (isDesignDocument(uri)) {
    return { design: fsPath };
  }
  const last = end.line > start.line && end.character === 0 ? end.line - 1 : end.line;
  return { uri, lines: [start.line, last] };
}

/** The part of a `workspace/applyEdit`'s edit the hint looks at. */
export interface AnnotatedEdit {
  changeAnnotations?: Record<string, { label: string; needsConfirmation?: boolean }>;
}

/** What to tell the user when an edit opens the Refactor Preview; undefined when it does not. */
export function previewHint(edit: AnnotatedEdit): string | undefined {
  const confirm = Object.values(edit.changeAnnotations ?? {}).filter((annotation) => annotation.needsConfirmation === true);
  if (confirm.length === 0) {
    return undefined;
  }
  return confirm.length === 1
    ? 'flashpro: tick the change in the Refactor Preview, then Apply (VS Code leaves it unticked).'
    : `flashpro: tick the changes in the Refactor Preview, then Apply (VS Code leaves all ${confirm.length} steps of the plan unticked).`;
}
