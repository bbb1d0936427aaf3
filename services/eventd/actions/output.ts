/**
 * Keeps the first `limitBytes` of a stream and counts the rest, so a chatty
 * script costs bounded memory and the audit row says how much was dropped.
 */
export class OutputCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.limitBytes - this.kept;
    if (room >= chunk.length) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
      return;
    }
    if (room > 0) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += room;
    }
    this.dropped += chunk.length - Math.max(room, 0);
  }

  /** The kept bytes as UTF-8, with `\n[truncated N bytes]` when anything was dropped. */
  text(): string {
    const kept = Buffer.concat(this.chunks, this.kept).toString('utf8');
    return this.dropped > 0 ? `${kept}\n[truncated ${this.dropped} bytes]` : kept;
  }
}
