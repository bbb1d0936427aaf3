import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import type { Preset } from '../../presets.js';
import type { PresetList } from '../responses.js';

/** Ready-made conditions: `eventctl subscribe --preset NAME` starts from one. */
export function presetRoutes(app: FastifyInstance, presets: readonly Preset[]): void {
  app.get('/v1/presets', async (): Promise<PresetList> => ({ presets }));

  app.get<{ Params: { name: string } }>('/v1/presets/:name', async (request) => {
    const preset = presets.find((candidate) => candidate.name === request.params.name);
    if (!preset) {
      throw new EventdError('EVENTD_ERR_NOT_FOUND', `no preset named ${request.params.name}; GET /v1/presets lists them`, { preset: request.params.name });
    }
    return preset;
  });
}
