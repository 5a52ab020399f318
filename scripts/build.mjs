// Bundles the CLI with esbuild: one ESM file per lazily-loaded command chunk. Loading a
// handful of bundled files instead of hundreds of small modules halves start-up time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { 'cli/index': 'src/cli/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  sourcemap: 'linked',
  minify: true,
  // Error classes keep their names: `--json` errors report them as `kind`.
  keepNames: true,
  chunkNames: 'chunks/[name]-[hash]',
  // yaml ships CommonJS that requires node built-ins; give bundled chunks a real require.
  banner: { js: "import { createRequire as __rotorRequire } from 'node:module'; const require = __rotorRequire(import.meta.url);" },
  logLevel: 'warning',
});

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
