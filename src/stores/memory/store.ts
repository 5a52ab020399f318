/**
 * An in-memory version store for tests of the engine's logic. It keeps the same contract
 * as every store (see stores/testing/conformance.ts), so what passes here means something.
 */
import type { GetVersionRequest, PutVersionRequest, VersionStore } from '../types.js';

export class MemoryVersionStore implements VersionStore {
  readonly kind = 'memory';
  private readonly values = new Map<string, string>();

  async putVersion(req: PutVersionRequest): Promise<void> {
    const key = `${req.secretId}\0${req.version}\0${req.rotationId}`;
    const existing = this.values.get(key);
    if (existing !== undefined && existing !== req.plaintext) throw new Error(`${req.secretId} v${req.version} is already stored with another value`);
    this.values.set(key, req.plaintext);
  }

  async getVersion(req: GetVersionRequest): Promise<string | undefined> {
    return this.values.get(`${req.secretId}\0${req.version}\0${req.rotationId}`);
  }

  async close(): Promise<void> {}
}
