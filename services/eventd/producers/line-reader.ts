// Splits an executable's stdout into lines under two bounds, so a producer
// that floods its output costs a bounded amount of memory.

export interface LineReaderOptions {
  /** Bytes read in all; past it one overflow is reported and the rest skipped. */
  totalBytes: number;
  /** Bytes in one line; a longer line is reported once and skipped up to its newline. */
  lineBytes: number;
  onLine: (line: string) => void;
  onOverflow: (problem: string) => void;
}

const newline = 0x0a;

export class LineReader {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private total = 0;
  /** Inside a line already reported as too long: drop bytes up to the next newline. */
  private skippingLine = false;
  private exhausted = false;

  constructor(private readonly options: LineReaderOptions) {}

  push(chunk: Buffer): void {
    if (this.exhausted) return;
    const room = this.options.totalBytes - this.total;
    this.total += chunk.length;
    if (chunk.length > room) {
      this.split(chunk.subarray(0, room));
      // The line cut by the bound is incomplete: it is part of the skipped rest.
      this.parts = [];
      this.partBytes = 0;
      this.exhausted = true;
      this.options.onOverflow(`output past ${this.options.totalBytes} bytes in one run; the rest is skipped`);
      return;
    }
    this.split(chunk);
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    if (this.exhausted || this.skippingLine) return;
    this.emit();
  }

  private split(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(newline, start);
      const stop = end === -1 ? chunk.length : end;
      this.append(chunk.subarray(start, stop));
      if (end === -1) return;
      if (this.skippingLine) this.skippingLine = false;
      else this.emit();
      start = end + 1;
    }
  }

  private append(piece: Buffer): void {
    if (this.skippingLine || piece.length === 0) return;
    if (this.partBytes + piece.length > this.options.lineBytes) {
      this.parts = [];
      this.partBytes = 0;
      this.skippingLine = true;
      this.options.onOverflow(`line longer than ${this.options.lineBytes} bytes; skipped`);
      return;
    }
    this.parts.push(piece);
    this.partBytes += piece.length;
  }

  private emit(): void {
    const line = Buffer.concat(this.parts, this.partBytes).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.partBytes = 0;
    if (line.trim() !== '') this.options.onLine(line);
  }
}

/** Parses one line as JSON, for the producer's output. */
export function parseLine(line: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch {
    return { ok: false, problem: `not JSON: ${JSON.stringify(line.length > 80 ? line.slice(0, 80) + '…' : line)}` };
  }
}
