// Frames on the wire: AES-256-GCM under the cluster key, authenticated and
// encrypted; replays and forgeries are dropped (and counted by the caller).
//
//   magic "ED1" | key id (4) | nonce (12) | ciphertext | tag (16)
//
// The header (magic and key id) is additional authenticated data. Inside the
// ciphertext: { from, to, boot, counter, sentAt, cluster, body }. `to` is the
// recipient's name, or `*` (broadcastDomain) for a frame sealed once for
// every node of the cluster. `boot` is the sender's start number (strictly
// above its earlier ones) and `counter` counts its frames to `to` since then,
// so (from, to, boot, counter) never repeats and a receiver refuses a frame
// sealed for another node or seen before (replay-guard.ts). `sentAt` is the
// sender's wall clock (ms): a receiver refuses frames outside its window
// (udp-transport.ts), which bounds replays to a receiver that lost its store.
// The nonce is drawn fresh anyway.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.js';

const magic = Buffer.from('ED1');
const headerBytes = magic.length + 4 + 12;
const tagBytes = 16;

/** The recipient domain of a frame meant for every node of the cluster (joins to the seeds). */
export const broadcastDomain = '*';

export interface SealedEnvelope {
  from: string;
  /** The recipient's node name, or broadcastDomain. */
  to: string;
  boot: number;
  counter: number;
  /** The sender's wall clock when it sealed the frame, ms. */
  sentAt: number;
  cluster: string;
  body: unknown;
}

export function seal(keyring: Keyring, envelope: SealedEnvelope): Buffer {
  const { id, key } = keyring.primary;
  const nonce = randomBytes(12);
  const header = Buffer.concat([magic, id, nonce]);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(envelope), 'utf8'), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

export type OpenResult = { ok: true; envelope: SealedEnvelope } | { ok: false; reason: 'malformed' | 'unknown-key' | 'forged' };

export function open(keyring: Keyring, frame: Buffer): OpenResult {
  if (frame.length < headerBytes + tagBytes || !frame.subarray(0, magic.length).equals(magic)) return { ok: false, reason: 'malformed' };
  const key = keyring.find(frame.subarray(magic.length, magic.length + 4));
  if (!key) return { ok: false, reason: 'unknown-key' };
  const header = frame.subarray(0, headerBytes);
  const nonce = frame.subarray(magic.length + 4, headerBytes);
  const decipher = createDecipheriv('aes-256-gcm', key.key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(frame.subarray(frame.length - tagBytes));
  let plaintext: string;
  try {
    plaintext = Buffer.concat([decipher.update(frame.subarray(headerBytes, frame.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch {
    return { ok: false, reason: 'forged' };
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(plaintext);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isEnvelope(envelope)) return { ok: false, reason: 'malformed' };
  return { ok: true, envelope };
}

function isEnvelope(value: unknown): value is SealedEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['from'] === 'string' && typeof v['to'] === 'string' && Number.isSafeInteger(v['boot']) && Number.isSafeInteger(v['counter'])
    && Number.isSafeInteger(v['sentAt']) && typeof v['cluster'] === 'string' && 'body' in v;
}
