import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../domain/page.js';

/**
 * Bounds how many list items one operation can ask for: every field with a `first` argument
 * (connections) multiplies the items below it. Literal and variable page sizes count alike
 * (a static cost rule sees only literals), and omitted ones count as the default page size.
 */
export function pageBudgetPlugin<TContext extends object>(maxItems: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
          const variables = request.variables ?? {};
          const items = countItems(operation.selectionSet, 1, fragments, variables, new Set());
          if (items > maxItems) {
            throw new GraphQLError(`Query asks for up to ${items} list items; the limit is ${maxItems}. Ask for smaller pages.`, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** The schema's connection fields: they return a page even when `first` is left out. */
const PAGED_FIELDS: ReadonlySet<string> = new Set(['plans', 'planLedger', 'ledger']);

/** Fields that return one object per id of a list argument: field name to that argument. */
const BY_IDS_FIELDS: ReadonlyMap<string, string> = new Map([['nodes', 'ids']]);

function listLength(value: ValueNode, variables: Record<string, unknown>): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : 1;
  }
  return 1;
}

function pageSize(value: ValueNode | undefined, variables: Record<string, unknown>): number {
  if (!value) return DEFAULT_PAGE_SIZE;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    // Only a value that will pass Int coercion counts; anything else fails coercion later, as BAD_USER_INPUT.
    return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1 ? v : DEFAULT_PAGE_SIZE;
  }
  return DEFAULT_PAGE_SIZE;
}

function countItems(
  set: SelectionSetNode,
  multiplier: number,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  seen: Set<string>,
): number {
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const firstArg = selection.arguments?.find((a) => a.name.value === 'first');
      const idsArg = selection.arguments?.find((a) => a.name.value === BY_IDS_FIELDS.get(selection.name.value));
      const isPage = firstArg !== undefined || idsArg !== undefined || PAGED_FIELDS.has(selection.name.value);
      const factor = !isPage ? 1 : idsArg ? Math.max(1, listLength(idsArg.value, variables)) : Math.max(1, pageSize(firstArg?.value, variables));
      if (isPage) total += multiplier * factor;
      if (selection.selectionSet) total += countItems(selection.selectionSet, multiplier * factor, fragments, variables, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      total += countItems(selection.selectionSet, multiplier, fragments, variables, seen);
    } else {
      const fragment = fragments.get(selection.name.value);
      // A fragment spread twice on one path is counted once per use; cycles are invalid GraphQL.
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        total += countItems(fragment.selectionSet, multiplier, fragments, variables, seen);
        seen.delete(fragment.name.value);
      }
    }
  }
  return total;
}
