import type { Db } from 'mongodb';

export const PLAYBOOK_VERSIONS_COLLECTION = 'plan_type_config_versions';
export const PLAYBOOK_HEADS_COLLECTION = 'plan_type_config_heads';

/** A playbook's versions, newest first (list, and the next draft's number). Heads are read by _id. */
export async function ensurePlaybookIndexes(db: Db): Promise<void> {
  await db.collection(PLAYBOOK_VERSIONS_COLLECTION).createIndex({ tenant_id: 1, plan_type: 1, version: -1 }, { name: 'playbook_tenant_type_version' });
}
