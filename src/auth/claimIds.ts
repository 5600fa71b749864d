import { z } from 'zod';

/**
 * What the service accepts as a token's `sub` and `tenant_id`: 1 to 128 printable ASCII
 * characters, no spaces. The verifier and the development token minter share it, so a minted
 * token is never one the API then refuses.
 */
export const CLAIM_ID_MAX_LENGTH = 128;
export const claimId = z.string().min(1, 'must not be empty').max(CLAIM_ID_MAX_LENGTH, `must be at most ${CLAIM_ID_MAX_LENGTH} characters`).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
