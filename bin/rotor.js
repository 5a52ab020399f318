#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/. Kept tiny so `rotor --version` starts fast.
// A closed pipe (`rotor audit export | head`) is a normal way for a reader to stop.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
import('../dist/cli/index.js').then((m) => m.main(process.argv.slice(2)));
