import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, valueFromASTUntyped, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../domain/page.js';
import { OPEN_PLANS_LIMIT } from '../services/plans/PlanQueryService.js';

export interface OperationBudget {
  /** Most list items one operation may ask for (page sizes multiplied along each path). */
  maxItems: number;
  /** Most expensive fields (EXPENSIVE_FIELDS) one operation may run, aliases and nesting counted. */
  maxExpensiveFields: number;
}

/** What an operation was counted to cost, and whether it was refused for it. */
export interface OperationCost {
  items: number;
  expensive: number;
  /** The expensive fields that read over the tenant's data (all but the model calls). */
  expensiveReads: number;
  refused: boolean;
}

/**
 * Bounds what one operation can ask for, before anything runs:
 * - list items: every field with a `first` argument (connections) and every list of a known
 *   bounded size (openPlans) multiplies the items below it. Literal and variable page sizes
 *   count alike, a variable's default when it is not sent (a static cost rule sees only
 *   literals), and omitted ones count as the default page size;
 * - expensive fields (their cost grows with the tenant's data, or they call the model): each
 *   use counts, so fifteen aliases of one count fifteen times, and one under a list of n counts n.
 */
export function pageBudgetPlugin<TContext extends object>(budget: OperationBudget, onCost?: (context: TContext, cost: OperationCost) => void): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, contextValue }) {
          if (!operation) return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
          const cost = countCost(operation.selectionSet, 1, fragments, withDefaults(operation, request.variables ?? {}), new Set());
          onCost?.(contextValue, { ...cost, refused: cost.items > budget.maxItems || cost.expensive > budget.maxExpensiveFields });
          if (cost.items > budget.maxItems) {
            throw refusal(`Query asks for up to ${cost.items} list items; the limit is ${budget.maxItems}. Ask for smaller pages.`);
          }
          if (cost.expensive > budget.maxExpensiveFields) {
            throw refusal(
              `Operation runs ${cost.expensive} expensive fields (${[...EXPENSIVE_FIELDS].join(', ')}, aliases and lists counted); the limit is ${budget.maxExpensiveFields}. Send them in separate requests.`,
            );
          }
        },
      };
    },
  };
}

/** The schema's connection fields: they return a page even when `first` is left out. */
const PAGED_FIELDS: ReadonlySet<string> = new Set(['plans', 'planLedger', 'ledger']);
/** Lists without a page argument whose length the service bounds. */
const BOUNDED_LISTS: ReadonlyMap<string, number> = new Map([['openPlans', OPEN_PLANS_LIMIT]]);
/** Fields whose cost grows with the tenant's data, or that call the model. */
export const EXPENSIVE_FIELDS: ReadonlySet<string> = new Set(['verifyLedgerCheckpoint', 'verifyPlanLedger', 'ledgerStats', 'planStatusCounts', 'proposePlan']);
/**
 * Of those, the ones that read over the tenant's data and pace their caller. Not proposePlan (it
 * waits on the model, not on this process) nor planStatusCounts (it reads the kept counts: a few
 * documents, unless the tally job is far behind; it stays single-flighted per tenant).
 */
const EXPENSIVE_READS: ReadonlySet<string> = new Set(['verifyLedgerCheckpoint', 'verifyPlanLedger', 'ledgerStats']);

const refusal = (message: string) => new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });

/** The variables as sent, and each one not sent at its declared default. */
function withDefaults(operation: OperationDefinitionNode, sent: Record<string, unknown>): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...sent };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (!(name in variables) && def.defaultValue) variables[name] = valueFromASTUntyped(def.defaultValue);
  }
  return variables;
}

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

interface Cost {
  items: number;
  expensive: number;
  expensiveReads: number;
}

function countCost(
  set: SelectionSetNode,
  multiplier: number,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  seen: Set<string>,
): Cost {
  const total: Cost = { items: 0, expensive: 0, expensiveReads: 0 };
  const add = (c: Cost) => {
    total.items += c.items;
    total.expensive += c.expensive;
    total.expensiveReads += c.expensiveReads;
  };
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (EXPENSIVE_FIELDS.has(name)) total.expensive += multiplier;
      if (EXPENSIVE_READS.has(name)) total.expensiveReads += multiplier;
      const firstArg = selection.arguments?.find((a) => a.name.value === 'first');
      const idsArg = selection.arguments?.find((a) => a.name.value === BY_IDS_FIELDS.get(name));
      const bounded = BOUNDED_LISTS.get(name);
      const isPage = firstArg !== undefined || idsArg !== undefined || PAGED_FIELDS.has(name);
      const factor = isPage ? (idsArg ? Math.max(1, listLength(idsArg.value, variables)) : Math.max(1, pageSize(firstArg?.value, variables))) : (bounded ?? 1);
      if (isPage || bounded !== undefined) total.items += multiplier * factor;
      if (selection.selectionSet) add(countCost(selection.selectionSet, multiplier * factor, fragments, variables, seen));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      add(countCost(selection.selectionSet, multiplier, fragments, variables, seen));
    } else {
      const fragment = fragments.get(selection.name.value);
      // A fragment spread twice on one path is counted once per use; cycles are invalid GraphQL.
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        add(countCost(fragment.selectionSet, multiplier, fragments, variables, seen));
        seen.delete(fragment.name.value);
      }
    }
  }
  return total;
}
