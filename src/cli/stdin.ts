/** Reading a value from stdin: piped by scripts, or pasted at a terminal (never an argument, which `ps` shows). */
import { UsageError } from '../errors.js';

const LIMIT = 1 << 20;

/** `orElse`: another way to give the value, named in the hint when stdin is empty. */
export async function readValueFromStdin(command: string, orElse?: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${command}: paste the value, then press Enter and Ctrl-D\n`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) throw new UsageError(`the value on stdin is larger than ${LIMIT} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new UsageError('no value on stdin', `pipe it in: \`printf %s "$VALUE" | ${command}\`${orElse ? `; ${orElse}` : ''}`);
  return text;
}
