/** A tenant's include/exclude action filters, compiled into one regular expression per list when its settings are read. */

/** Whether the filters keep this action. */
export type ActionFilter = (action: string) => boolean;

/** `*` matches any run of characters; everything else is literal. */
function globSource(pattern: string): string {
  return pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
}

function anyOf(patterns: string[]): RegExp | undefined {
  return patterns.length === 0 ? undefined : new RegExp(`^(?:${patterns.map(globSource).join('|')})$`);
}

/** Exact names or `*` globs; an empty include list keeps every action. */
export function compileActionFilter(includeActions: string[], excludeActions: string[]): ActionFilter {
  const include = anyOf(includeActions);
  const exclude = anyOf(excludeActions);
  return (action) => (include === undefined || include.test(action)) && !(exclude !== undefined && exclude.test(action));
}
