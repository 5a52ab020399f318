/**
 * The concurrency limit of a batch: a counting semaphore, first come first served, so
 * secrets start in planner order. A secret waiting for others (for its `after`
 * dependencies, or in a reload round) holds no slot, which is what keeps a full batch from
 * waiting on itself.
 */
export class Slots {
  private readonly queue: (() => void)[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}
