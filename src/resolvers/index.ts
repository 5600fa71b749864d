import type { Resolvers } from '../generated/graphql.js';
import { DateTimeScalar, JSONScalar } from '../graphql/scalars.js';
import { planTypeResolvers } from './planTypeResolvers.js';
import { viewerResolvers } from './viewerResolvers.js';
import { planResolvers } from './planResolvers.js';
import { ledgerResolvers } from './ledgerResolvers.js';
import { planMutationResolvers } from './planMutationResolvers.js';
import { ledgerLogResolvers } from './ledgerLogResolvers.js';
import { nodeResolvers } from './nodeResolvers.js';
import { playbookResolvers } from './playbookResolvers.js';
import { webhookResolvers } from './webhookResolvers.js';

const parts: Resolvers[] = [planTypeResolvers, viewerResolvers, planResolvers, ledgerResolvers, planMutationResolvers, ledgerLogResolvers, webhookResolvers, playbookResolvers, nodeResolvers];

/** All resolvers, merged per type (each part owns distinct fields). */
export function buildResolvers(): Resolvers {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [typeName, fields] of Object.entries(part)) {
      merged[typeName] = { ...(merged[typeName] ?? {}), ...(fields as Record<string, unknown>) };
    }
  }
  return { ...(merged as Resolvers), DateTime: DateTimeScalar, JSON: JSONScalar };
}
