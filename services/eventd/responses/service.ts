import { checkAction, type RawAction } from '../actions/check.js';
import { parseDuration } from '../duration.js';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeErrors, validator } from '../schema.js';
import type { Store } from '../store/index.js';
import type { NamedResponse, ResponseSpec } from '../types.js';
import { compileWindow } from './window.js';

export const defaultBatchMaxEvents = 100;

export interface ResponseServiceOptions {
  node: string;
  store: Store;
  logger: Logger;
  /** Names of the subscriptions that name `response` (a response in use is not deleted). */
  usedBy: (response: string) => string[];
  /** The cluster's replicated map; absent on a single node. */
  cluster?: { put(response: NamedResponse): void; delete(name: string): void };
}

/**
 * Named responses (ERRM's mkresponse): checked, persisted, then known in
 * memory, where the action plan reads them. In a cluster they live in the
 * core's replicated map and reach every node through applyReplicated.
 */
export class ResponseService {
  private readonly byName = new Map<string, NamedResponse>();

  constructor(private readonly options: ResponseServiceOptions) {}

  restore(): void {
    for (const response of this.options.store.responses.all()) this.byName.set(response.name, response);
  }

  create(body: unknown): NamedResponse {
    const spec = this.validate(body);
    if (this.byName.has(spec.name)) {
      throw new EventdError('EVENTD_ERR_RESPONSE_EXISTS', `name: a response named "${spec.name}" already exists`, { field: 'name', name: spec.name });
    }
    const response: NamedResponse = { ...spec, node: this.options.node, createdAt: new Date().toISOString() };
    if (this.options.cluster) {
      this.options.cluster.put(response);
    } else {
      this.options.store.responses.put(response);
      this.byName.set(response.name, response);
    }
    this.options.logger.info({ response: response.name, actions: response.actions.length }, 'response created');
    return response;
  }

  /** Undefined when this node does not know it. */
  lookup(name: string): NamedResponse | undefined {
    return this.byName.get(name);
  }

  find(name: string): NamedResponse {
    const found = this.byName.get(name);
    if (!found) throw new EventdError('EVENTD_ERR_RESPONSE_NOT_FOUND', `no response named "${name}"`, { name });
    return found;
  }

  list(): NamedResponse[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  delete(name: string): NamedResponse {
    const response = this.find(name);
    const users = this.options.usedBy(name);
    if (users.length > 0) {
      throw new EventdError('EVENTD_ERR_RESPONSE_IN_USE', `response "${name}" is named by subscription${users.length > 1 ? 's' : ''} ${users.join(', ')}; delete or change them first`, { name, subscriptions: users });
    }
    if (this.options.cluster) {
      this.options.cluster.delete(name);
    } else {
      this.options.store.responses.delete(name);
      this.byName.delete(name);
    }
    this.options.logger.info({ response: name }, 'response deleted');
    return response;
  }

  /** A change of the replicated map (null: deleted), from a peer or this node. */
  applyReplicated(name: string, value: NamedResponse | null): void {
    if (value === null) {
      this.options.store.responses.delete(name);
      this.byName.delete(name);
      return;
    }
    this.options.store.responses.put(value);
    this.byName.set(name, value);
  }

  private validate(body: unknown): ResponseSpec {
    const validate = validator('response.schema.json');
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', problems.join('; '), { problems });
    }
    const input = body as Omit<ResponseSpec, 'actions' | 'batch'> & { actions: RawAction[]; batch?: { interval: string; maxEvents?: number } };
    if (input.window !== undefined) compileWindow(input.window);
    if (input.batch !== undefined) parseDuration(input.batch.interval, 'batch.interval');
    return {
      name: input.name,
      actions: input.actions.map((action, index) => checkAction(action, `actions[${index}]`)),
      ...(input.window === undefined ? {} : { window: input.window }),
      ...(input.expectedExit === undefined ? {} : { expectedExit: input.expectedExit }),
      ...(input.batch === undefined ? {} : { batch: { interval: input.batch.interval, maxEvents: input.batch.maxEvents ?? defaultBatchMaxEvents } }),
    };
  }
}
