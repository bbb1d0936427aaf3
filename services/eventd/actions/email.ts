import nodemailer from 'nodemailer';
import type { EmailAction, EventRecord } from '../types.js';
import { emptyResult, failedAttempt, message, type AttemptResult, type AttemptRun } from './attempt.js';

/** The SMTP server every e-mail action goes through (config smtp). */
export interface SmtpSettings {
  /** smtp://user:pass@host:port or smtps://... */
  url: string;
  from: string;
}

/** "[eventd] event swap-high: PagingSpace total on n1" (or "... 3 events" for a batch). */
export function defaultSubject(events: readonly EventRecord[]): string {
  const first = events[0];
  if (first === undefined) return '[eventd] no events';
  if (events.length > 1) return `[eventd] ${events.length} events of ${first.subscriptionName}`;
  return `[eventd] ${first.type} ${first.subscriptionName}: ${first.class} ${first.resource} on ${first.node}`;
}

function textBody(events: readonly EventRecord[]): string {
  const lines = events.map((event) => `${event.time}  ${event.type}  ${event.class} ${event.resource} on ${event.node}  (${event.expr})`);
  return `${lines.join('\n')}\n\n${JSON.stringify(events.length === 1 ? events[0] : events, null, 2)}\n`;
}

/**
 * One message per attempt, its Message-ID derived from the run, so a mail
 * client can fold the duplicates that at-least-once delivery allows. An SMTP
 * 5xx is permanent (not retried); a 4xx or no answer is retried.
 */
export function sendEmail(smtp: SmtpSettings | undefined, email: EmailAction['email'], events: readonly EventRecord[], messageKey: string, timeoutMs: number): AttemptRun {
  if (smtp === undefined) return failedAttempt('an email action needs "smtp": { "url", "from" } in the daemon config', false);
  const transport = nodemailer.createTransport({ url: smtp.url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<AttemptResult>((resolve) => {
    timer = setTimeout(() => resolve({ ...emptyResult, status: 'timeout', retryable: true, error: `no SMTP answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const send = transport.sendMail({
    from: smtp.from,
    to: email.to,
    subject: email.subject ?? defaultSubject(events),
    text: textBody(events),
    messageId: `<${messageKey.replace(/[^A-Za-z0-9.:_-]/g, '_')}@eventd>`,
  }).then(
    (info): AttemptResult => ({ ...emptyResult, status: 'ok', retryable: false, smtpReply: info.response }),
    (err: unknown): AttemptResult => {
      const { responseCode, response } = err as { responseCode?: number; response?: string };
      return { ...emptyResult, status: 'failed', retryable: responseCode === undefined || responseCode < 500, smtpReply: response ?? null, error: message(err) };
    },
  );
  const result = Promise.race([send, timeout]).finally(() => {
    clearTimeout(timer);
    transport.close();
  });
  return { result, cancel: () => transport.close() };
}
