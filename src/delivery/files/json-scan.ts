/**
 * A JSON document as byte spans, for editing it in place: where each object, member and
 * value starts and ends in the text. Nothing is converted — a number stays the digits
 * written (1234567890123456789, 1e400), a duplicated key stays twice — so an edit can
 * change one value's bytes and no other.
 *
 * The text must already be valid JSON (json-file.ts checks it with JSON.parse first).
 */

export type JsonNode = JsonObject | JsonOther;

export interface JsonObject {
  kind: 'object';
  /** `{` */
  start: number;
  /** Just after `}`. */
  end: number;
  members: JsonMember[];
}

export interface JsonOther {
  kind: 'array' | 'scalar';
  start: number;
  end: number;
}

export interface JsonMember {
  key: string;
  /** The key's opening quote. */
  keyStart: number;
  /** Just after the key's closing quote. */
  keyEnd: number;
  value: JsonNode;
}

export function scanJson(text: string): JsonNode {
  const s = new Scanner(text);
  s.skipSpace();
  return s.value();
}

class Scanner {
  at = 0;
  constructor(private readonly text: string) {}

  skipSpace(): void {
    while (/[ \t\r\n]/.test(this.text[this.at] ?? '')) this.at++;
  }

  value(): JsonNode {
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    const start = this.at;
    if (c === '"') this.string();
    else while (this.at < this.text.length && !/[\s,\]}]/.test(this.text[this.at]!)) this.at++;
    return { kind: 'scalar', start, end: this.at };
  }

  private object(): JsonObject {
    const start = this.at++;
    const members: JsonMember[] = [];
    this.skipSpace();
    while (this.text[this.at] !== '}') {
      const keyStart = this.at;
      this.string();
      const keyEnd = this.at;
      this.skipSpace();
      this.at++; // :
      this.skipSpace();
      members.push({ key: JSON.parse(this.text.slice(keyStart, keyEnd)) as string, keyStart, keyEnd, value: this.value() });
      this.skipSpace();
      if (this.text[this.at] === ',') {
        this.at++;
        this.skipSpace();
      }
    }
    this.at++;
    return { kind: 'object', start, end: this.at, members };
  }

  private array(): JsonOther {
    const start = this.at++;
    this.skipSpace();
    while (this.text[this.at] !== ']') {
      this.value();
      this.skipSpace();
      if (this.text[this.at] === ',') {
        this.at++;
        this.skipSpace();
      }
    }
    this.at++;
    return { kind: 'array', start, end: this.at };
  }

  private string(): void {
    for (this.at++; this.text[this.at] !== '"'; this.at++) if (this.text[this.at] === '\\') this.at++;
    this.at++;
  }
}
