// What eventctl reports and how it exits: 1 for anything the daemon or the
// network said, 2 for usage (commander raises those itself).

export const exitFailure = 1;
export const exitUsage = 2;

/** A failure to report as `eventctl: <message>` and exit with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = exitFailure) {
    super(message);
    this.name = 'CliError';
  }
}

/** The daemon answered `{ error: { code, message, details? } }`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly details: unknown,
  ) {
    super(`${apiMessage} (${code})`);
    this.name = 'ApiError';
  }
}

/** No answer at all: refused, reset, DNS, timeout. Worth a retry when following a stream. */
export class UnreachableError extends CliError {
  constructor(api: string, readonly reason: string) {
    super(`cannot reach eventd at ${api}: ${reason}`);
    this.name = 'UnreachableError';
  }
}
