// Node tags (Serf's tags): this node's own, from config or set at run time
// (persisted: a restart keeps what `eventctl tags set` made), and every
// peer's, as the cluster replicates them. Each node writes only its own
// entry ("tags:<node>") of the replicated map, so the last writer is always
// the node itself and every node converges on its tags by anti-entropy.
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';

export type Tags = Record<string, string>;

/** The replicated map's key prefix of tag entries. */
export const tagsKey = 'tags:';
const metaKey = 'tags';
/** The tag a witness carries (eventd --witness), set by eventd: `eventctl members` shows it, queries skip the node. */
export const witnessTag = 'witness';
const tagName = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const maxValueLength = 256;

export interface TagServiceOptions {
  node: string;
  configured: Readonly<Tags>;
  /** Tags eventd sets itself (a witness's `witness=true`): always there, never changed by a client. */
  builtIn?: Readonly<Tags>;
  store: Store;
  logger: Logger;
  /** Publishes this node's tags to the cluster; absent on a single node. */
  publish?: (tags: Tags) => void;
  /** This node's tags changed: tag-scoped subscriptions are placed again. */
  onChange?: () => void;
  /** Any node's tags changed, this one's or a peer's (the live monitor). */
  onTagsChanged?: (node: string, tags: Tags) => void;
}

export class TagService {
  private own: Tags;
  private readonly peers = new Map<string, Tags>();

  constructor(private readonly options: TagServiceOptions) {
    const saved = options.store.meta.get(metaKey);
    const own = saved === undefined ? { ...options.configured } : parseTags(saved) ?? { ...options.configured };
    this.own = { ...own, ...options.builtIn };
  }

  /** At start: tells the cluster this node's tags (the entry may be older or absent there). */
  announce(): void {
    this.options.publish?.({ ...this.own });
  }

  mine(): Tags {
    return { ...this.own };
  }

  of(node: string): Tags {
    return node === this.options.node ? this.mine() : { ...(this.peers.get(node) ?? {}) };
  }

  /** Every node whose tags hold each of `wanted` (this one included). */
  matching(wanted: Readonly<Tags>, nodes: readonly string[]): string[] {
    return nodes.filter((node) => holds(this.of(node), wanted));
  }

  /** A witness (its built-in tag witness=true): a voter that runs nothing for the cluster. */
  isWitness(node: string): boolean {
    return this.of(node)[witnessTag] === 'true';
  }

  matchesHere(wanted: Readonly<Tags>): boolean {
    return holds(this.own, wanted);
  }

  /** Sets and deletes tags of this node; persisted before the cluster hears of it. */
  change(set: Readonly<Tags>, remove: readonly string[]): Tags {
    for (const [name, value] of Object.entries(set)) checkTag(name, value, `set.${name}`);
    const builtIn = Object.keys(this.options.builtIn ?? {});
    for (const name of [...Object.keys(set), ...remove]) {
      if (builtIn.includes(name)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${name}: a tag eventd sets on this node itself (${name}=${this.options.builtIn?.[name] ?? ''})`, { field: name });
    }
    const next: Tags = { ...this.own, ...set };
    for (const name of remove) delete next[name];
    this.options.store.transaction(() => this.options.store.meta.set(metaKey, JSON.stringify(next)));
    this.own = next;
    this.options.logger.info({ tags: next }, 'node tags changed');
    this.options.publish?.({ ...next });
    this.options.onChange?.();
    this.options.onTagsChanged?.(this.options.node, this.mine());
    return this.mine();
  }

  /** A peer's entry of the replicated map changed (null: gone); this node's own entry is its own word, never a peer's. */
  applyReplicated(node: string, value: unknown): void {
    if (node === this.options.node) return;
    const before = this.peers.get(node);
    if (value === null) {
      this.peers.delete(node);
      if (before !== undefined) this.options.onTagsChanged?.(node, {});
      return;
    }
    const tags = typeof value === 'object' && !Array.isArray(value) ? validTags(value) : undefined;
    if (!tags) {
      this.options.logger.warn({ node }, `replicated tags of ${node} refused: not an object of strings`);
      return;
    }
    this.peers.set(node, tags);
    if (before === undefined || !sameTags(before, tags)) this.options.onTagsChanged?.(node, { ...tags });
  }
}

function sameTags(a: Readonly<Tags>, b: Readonly<Tags>): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}

function holds(tags: Readonly<Tags>, wanted: Readonly<Tags>): boolean {
  return Object.entries(wanted).every(([name, value]) => tags[name] === value);
}

function checkTag(name: string, value: unknown, field: string): void {
  if (!tagName.test(name)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${field}: a tag name is a letter then letters, digits, _ . - (at most 64)`, { field });
  if (typeof value !== 'string' || value.length > maxValueLength) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${field}: a tag value is a string of at most ${maxValueLength} characters`, { field });
}

function parseTags(text: string): Tags | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? validTags(value) : undefined;
  } catch {
    return undefined;
  }
}

function validTags(value: object | null): Tags | undefined {
  if (value === null) return undefined;
  const tags: Tags = {};
  for (const [name, tag] of Object.entries(value)) {
    if (typeof tag !== 'string' || !tagName.test(name)) return undefined;
    tags[name] = tag;
  }
  return tags;
}

/** A query's or a scope's tag filter as given by a client: an object of strings, checked, the field named. */
export function tagFilter(value: unknown, field: string): Tags {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `${field}: an object of tag names to values`, { field });
  const tags: Tags = {};
  for (const [name, tag] of Object.entries(value)) {
    checkTag(name, tag, `${field}.${name}`);
    tags[name] = String(tag);
  }
  return tags;
}
