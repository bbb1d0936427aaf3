// What every action kind returns for one attempt: its outcome and whether a
// failure is worth trying again (a 4xx answer or an SMTP 5xx is not).

export interface AttemptResult {
  status: 'ok' | 'failed' | 'timeout';
  /** Failures only: false when trying again cannot help (the receiver refused the request). */
  retryable: boolean;
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  smtpReply: string | null;
  error: string | null;
  stdout: string;
  stderr: string;
}

export interface AttemptRun {
  readonly result: Promise<AttemptResult>;
  /** Stop now (shutdown): the result still settles. */
  cancel(): void;
}

export const emptyResult: Omit<AttemptResult, 'status' | 'retryable'> = {
  exitCode: null, signal: null, httpStatus: null, smtpReply: null, error: null, stdout: '', stderr: '',
};

export function failedAttempt(error: string, retryable: boolean): AttemptRun {
  return { result: Promise.resolve({ ...emptyResult, status: 'failed', retryable, error }), cancel: () => {} };
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
