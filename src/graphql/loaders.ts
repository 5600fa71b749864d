import type { Principal } from '../auth/principal.js';
import type { AppServices } from '../server/appServices.js';

/** Per-request batching loaders (filled in as the read paths land). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RequestLoaders {}

export function createRequestLoaders(_services: AppServices, _principal: Principal | null): RequestLoaders {
  return {};
}
