// A stand-in for an API provider's key management (OpenAI's API keys page), for the `manual`
// secret external/openai-api-key: `issue` creates a key and prints it, `check` exits 0 when
// the key on stdin is one the provider accepts. Keys live in PROVIDER_STATE (a JSON file).
//
//   node provider.mjs issue            # prints sk-mita-…
//   node provider.mjs check < key      # exit 0: accepted
//   node provider.mjs revoke < key     # the provider stops accepting it
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const file = process.env.PROVIDER_STATE ?? './provider.json';
const keys = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
const stdin = () => readFileSync(0, 'utf8').trim();

switch (process.argv[2]) {
  case 'issue': {
    const key = `sk-mita-${randomBytes(24).toString('base64url')}`;
    writeFileSync(file, JSON.stringify([...keys, key]));
    process.stdout.write(`${key}\n`);
    break;
  }
  case 'check':
    process.exit(keys.includes(stdin()) ? 0 : 1);
    break;
  case 'revoke': {
    const key = stdin();
    writeFileSync(file, JSON.stringify(keys.filter((k) => k !== key)));
    break;
  }
  default:
    process.stderr.write('usage: provider.mjs issue|check|revoke\n');
    process.exit(2);
}
