// Global object ids (the GraphQL `Node.id`): one id names one object of one type across the
// whole API, so a client cache can key every object by it. The id is opaque to clients
// (base64url, no padding) and stable: it is derived from the type name and the object's own
// id only, never from the caller, a time or a version. The meaning of an id is relative to the
// caller's tenant: the same id names nothing for another tenant (docs/api.md, "Object
// identification").

/** The longest local id an encoded global id may carry (longer input decodes to nothing). */
const MAX_LOCAL_ID_LENGTH = 512;
/** Type names as GraphQL spells them. */
const TYPE_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface DecodedGlobalId {
  typename: string;
  localId: string;
}

/** The global id of the object `localId` of type `typename`. */
export function encodeGlobalId(typename: string, localId: string): string {
  if (!TYPE_NAME.test(typename)) throw new Error(`not a GraphQL type name: ${typename}`);
  return Buffer.from(`${typename}:${localId}`, 'utf8').toString('base64url');
}

/**
 * The type name and local id a global id encodes, or null when the text is not one this API
 * issued (not canonical base64url, not UTF-8, no type name, an empty or overlong local id).
 */
export function decodeGlobalId(id: string): DecodedGlobalId | null {
  if (id.length === 0 || id.length > ((MAX_LOCAL_ID_LENGTH + 128) * 4) / 3 || !BASE64URL.test(id)) return null;
  const bytes = Buffer.from(id, 'base64url');
  // Only the canonical spelling of an id is that id (no trailing bits, no second spelling).
  if (bytes.toString('base64url') !== id) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const typename = text.slice(0, colon);
  const localId = text.slice(colon + 1);
  if (!TYPE_NAME.test(typename) || localId.length === 0 || localId.length > MAX_LOCAL_ID_LENGTH) return null;
  return { typename, localId };
}
