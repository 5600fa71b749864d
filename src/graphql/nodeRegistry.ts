import type { PlanRole } from '../auth/roles.js';
import { AppError } from '../domain/errors.js';
import { decodeGlobalId, encodeGlobalId } from '../domain/globalId.js';
import { requirePrincipal, requireRole, type GraphQLContext } from './context.js';

/** The most ids one nodes(ids:) call takes (more is BAD_USER_INPUT). */
export const MAX_NODE_IDS = 100;

/**
 * How one GraphQL type that implements Node is identified and fetched: what a type needs to
 * join node(id:)/nodes(ids:) and get its `id` field (docs/api.md, "Object identification").
 */
export interface NodeType<T extends object> {
  /** The GraphQL type name (the schema declares it `implements Node`). */
  typename: string;
  /** The role a caller needs to read objects of this type. */
  role: PlanRole;
  /** The object's own id, the one its global id encodes (e.g. a plan's plan_id). */
  localId(obj: T): string;
  /**
   * The object with that local id in the caller's tenant, or null. Go through a per-request
   * DataLoader (ctx.loaders) so that nodes(ids:) is one query per type, not one per id.
   */
  fetch(ctx: GraphQLContext, localId: string): Promise<T | null>;
}

/** Declares a Node type (typed by its model; the registry holds them untyped). */
export const defineNode = <T extends object>(type: NodeType<T>): NodeType<object> => type as unknown as NodeType<object>;

/** The Node types of the schema: resolves global ids to objects and objects to their ids. */
export class NodeRegistry {
  private readonly byName: ReadonlyMap<string, NodeType<object>>;
  /** The type each object node()/nodes() returned was fetched as, for Node.__resolveType. */
  private readonly fetchedAs = new WeakMap<object, string>();

  constructor(types: readonly NodeType<object>[]) {
    const byName = new Map<string, NodeType<object>>();
    for (const type of types) {
      if (byName.has(type.typename)) throw new Error(`Node type ${type.typename} is registered twice`);
      byName.set(type.typename, type);
    }
    this.byName = byName;
  }

  get typenames(): string[] {
    return [...this.byName.keys()];
  }

  /** The `id` field resolver of every registered type, keyed by type name (merged into the resolvers). */
  idResolvers(): Record<string, { id: (obj: object) => string }> {
    return Object.fromEntries(
      [...this.byName.values()].map((type) => [type.typename, { id: (obj: object) => encodeGlobalId(type.typename, type.localId(obj)) }]),
    );
  }

  /**
   * node(id:): the object, or null when the id names nothing for the caller (unknown, another
   * tenant's, or not an id this API issued). UNAUTHENTICATED without a token; FORBIDDEN when
   * the caller lacks the role of the id's type.
   */
  async resolve(ctx: GraphQLContext, id: string): Promise<object | null> {
    requirePrincipal(ctx);
    const decoded = decodeGlobalId(id);
    const type = decoded && this.byName.get(decoded.typename);
    if (!decoded || !type) return null;
    requireRole(ctx, type.role);
    const obj = await type.fetch(ctx, decoded.localId);
    if (obj) this.fetchedAs.set(obj, type.typename);
    return obj;
  }

  /** nodes(ids:): one result per id, in order; an item the caller may not read is a null with its own error. */
  resolveMany(ctx: GraphQLContext, ids: readonly string[]): Promise<object | null>[] {
    requirePrincipal(ctx);
    if (ids.length > MAX_NODE_IDS) throw new AppError('BAD_USER_INPUT', `nodes takes at most ${MAX_NODE_IDS} ids`, { field: 'ids' });
    return ids.map((id) => this.resolve(ctx, id));
  }

  /** Node.__resolveType: the type an object returned by resolve() was fetched as. */
  typenameOf(obj: object): string {
    const typename = this.fetchedAs.get(obj);
    if (!typename) throw new Error('Node.__resolveType: an object node(id:) did not fetch');
    return typename;
  }
}
