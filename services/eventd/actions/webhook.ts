import type { WebhookAction } from '../types.js';
import { emptyResult, message, type AttemptResult, type AttemptRun } from './attempt.js';
import { OutputCapture } from './output.js';

/** Answers that mean "the request was wrong": sending it again cannot help. Others (5xx, 408, 425, 429, no answer) are retried. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429 || status < 400;
}

/**
 * One delivery: `body` (the event JSON, or a batch array) with
 * `Idempotency-Key` so a receiver can drop the duplicates that at-least-once
 * delivery allows. 2xx is success. Never rejects.
 */
export function sendWebhook(webhook: WebhookAction['webhook'], body: string, idempotencyKey: string, timeoutMs: number, outputLimitBytes: number): AttemptRun {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  const result = (async (): Promise<AttemptResult> => {
    try {
      const response = await fetch(webhook.url, {
        method: webhook.method,
        headers: { ...(webhook.headers ?? {}), 'content-type': 'application/json', 'idempotency-key': idempotencyKey, 'user-agent': 'eventd' },
        body,
        signal: controller.signal,
      });
      const reply = new OutputCapture(outputLimitBytes);
      reply.push(Buffer.from(await response.text()));
      const ok = response.status >= 200 && response.status < 300;
      return {
        ...emptyResult,
        status: ok ? 'ok' : 'failed',
        retryable: !ok && retryableStatus(response.status),
        httpStatus: response.status,
        stdout: reply.text(),
        error: ok ? null : `HTTP ${response.status} ${response.statusText}`.trimEnd(),
      };
    } catch (err) {
      if (timedOut) return { ...emptyResult, status: 'timeout', retryable: true, error: `no answer within ${timeoutMs} ms` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { ...emptyResult, status: 'failed', retryable: true, error: message(err) + cause };
    } finally {
      clearTimeout(timer);
    }
  })();
  return { result, cancel: () => controller.abort() };
}
