// Builds the flashpro server's wheel from this repository into bundled/, for the .vsix: the
// extension installs it into its private environment on first start (src/environment.ts).
// Usage: node scripts/bundle_server.mjs   (run by `npm run package`)
// Python: $FLASHPRO_PYTHON, else the repository's .venv, else python3 (pip builds the wheel in
// an isolated environment, so only pip itself is needed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extension = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(extension, '..', '..');
const out = path.join(extension, 'bundled');
const venvPython = path.join(root, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
const python = process.env.FLASHPRO_PYTHON || (existsSync(venvPython) ? venvPython : 'python3');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// setuptools builds in the repository's build/ and would package files since deleted from it.
rmSync(path.join(root, 'build'), { recursive: true, force: true });
// Fixed zip timestamps: the same source gives the same wheel, so reinstalling a rebuilt .vsix
// does not make the extension rebuild its environment (it keys it on the wheel's sha256).
execFileSync(python, ['-m', 'pip', 'wheel', '--quiet', '--no-deps', '--disable-pip-version-check', '--wheel-dir', out, root], {
  stdio: 'inherit',
  env: { ...process.env, SOURCE_DATE_EPOCH: '315532800' },
});
const wheels = readdirSync(out).filter((name) => /^flashpro_lsp-.+\.whl$/.test(name));
if (wheels.length !== 1 || readdirSync(out).length !== 1) {
  console.error(`expected one flashpro_lsp wheel in ${out}, found: ${readdirSync(out).join(', ') || 'nothing'}`);
  process.exit(1);
}
const size = statSync(path.join(out, wheels[0])).size;
console.log(`bundled ${wheels[0]} (${(size / 1024).toFixed(0)} KB)`);
