/**
 * How many API writes (GraphQL mutations) this process is serving now. Background work (a
 * proposal run) looks at it to step aside: while writes are in flight it starts items one at a time.
 */
export class InteractiveLoad {
  private count = 0;

  begin(): void {
    this.count += 1;
  }

  end(): void {
    this.count = Math.max(0, this.count - 1);
  }

  inFlight(): number {
    return this.count;
  }
}
