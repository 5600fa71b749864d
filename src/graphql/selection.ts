import { Kind, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the request selects any of `fields` at `path` below the resolver's field (e.g. a
 * connection's ['edges', 'node']), through aliases and inline or named fragments. A field under
 * @skip or @include counts as selected: the answer only picks the cheaper read, so it may say
 * yes too often but never no for a field the response will hold.
 */
export function selectsAny(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[], fields: readonly string[]): boolean {
  const sets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  return sets.some((set) => selectsIn(set, path, fields, info.fragments));
}

function selectsIn(set: SelectionSetNode, path: readonly string[], fields: readonly string[], fragments: Record<string, FragmentDefinitionNode>): boolean {
  return set.selections.some((selection) => {
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsIn(selection.selectionSet, path, fields, fragments);
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      return fragment !== undefined && selectsIn(fragment.selectionSet, path, fields, fragments);
    }
    const [head, ...rest] = path;
    if (head === undefined) return fields.includes(selection.name.value);
    return selection.name.value === head && selection.selectionSet !== undefined && selectsIn(selection.selectionSet, rest, fields, fragments);
  });
}
