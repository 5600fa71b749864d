// Turns docs/operations.graphql into GraphiQL tabs: one tab per operation, its document the
// comment block above it plus the operation, its variables the JSON that comment gives (when
// the comment holds valid JSON). Pure, so jest checks it against the real file.

export interface ExampleTab {
  title: string;
  query: string;
  variables: string | null;
}

const OPERATION_START = /^(query|mutation|subscription)\s+(\w+)/;

/** Splits the examples file into one tab per named operation, in file order. */
export function exampleTabs(source: string): ExampleTab[] {
  const lines = source.split('\n');
  const tabs: ExampleTab[] = [];
  let comments: string[] = [];
  let i = 0;
  // The file's opening comment block (up to the first blank line) is about the whole file.
  while (i < lines.length && lines[i]?.startsWith('#')) i += 1;
  for (; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const start = OPERATION_START.exec(line);
    if (!start) {
      if (line.trim() === '') comments = [];
      continue;
    }
    const body = [line];
    let depth = braceDelta(line);
    while (depth > 0 && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      body.push(next);
      depth += braceDelta(next);
    }
    tabs.push({ title: start[2] as string, query: [...comments, ...body].join('\n'), variables: variablesFrom(comments) });
    comments = [];
  }
  return tabs;
}

function braceDelta(line: string): number {
  let delta = 0;
  for (const ch of line) {
    if (ch === '{') delta += 1;
    else if (ch === '}') delta -= 1;
  }
  return delta;
}

/** The JSON object written in a comment block, pretty-printed; null when there is none. */
function variablesFrom(comments: string[]): string | null {
  const text = comments.map((c) => c.replace(/^#\s?/, '')).join('\n');
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  if (open < 0 || close < open) return null;
  try {
    const value: unknown = JSON.parse(text.slice(open, close + 1));
    return typeof value === 'object' && value !== null ? JSON.stringify(value, null, 2) : null;
  } catch {
    return null;
  }
}
