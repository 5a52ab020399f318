// Bundles the CLI with esbuild: one ESM file per lazily-loaded command chunk. Loading a
// handful of bundled files instead of hundreds of small modules halves start-up time.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// The CLI is built beside dist/ and moved in file by file, entry last: a `rotor` process
// already running keeps finding the chunks it loads lazily (they are named by content hash),
// so rebuilding while tests run does not break them.
const next = `dist.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await build({
  entryPoints: { 'cli/index': 'src/cli/index.ts' },
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The AWS SDK stays a package of its own: only configs with AWS entries load it, and its
  // CommonJS build loses its named exports when bundled behind a dynamic import.
  external: ['better-sqlite3', '@aws-sdk/*'],
  sourcemap: 'linked',
  minify: true,
  // Error classes keep their names: `--json` errors report them as `kind`.
  keepNames: true,
  chunkNames: 'chunks/[name]-[hash]',
  // yaml ships CommonJS that requires node built-ins; give bundled chunks a real require.
  banner: { js: "import { createRequire as __rotorRequire } from 'node:module'; const require = __rotorRequire(import.meta.url);" },
  logLevel: 'warning',
});

mkdirSync('dist', { recursive: true });
const files = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)).map((f) => join(n, f)) : [n]));
const built = files(next).sort((a, b) => (a.startsWith('cli/index') ? 1 : b.startsWith('cli/index') ? -1 : 0));
for (const f of built) {
  mkdirSync(join('dist', f, '..'), { recursive: true });
  renameSync(join(next, f), join('dist', f));
}
rmSync(next, { recursive: true, force: true });

// `rotor/client`: a separate, readable (unminified) ESM bundle with jose left to the
// application's own copy, plus type declarations.
await build({
  entryPoints: { 'client/index': 'src/client/index.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['jose'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.client.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
