/** What a CLI verb declares (its words, arguments and flags) and how its command line is read: node:util parseArgs, strict. */
import { parseArgs } from 'node:util';
import type { Config } from '../../config';

/** Bad use of the command line, or a value it names that cannot be used: exit 2. */
export class UsageError extends Error {}

export interface Argument {
  /** As shown in the usage line: NAME, ID, FILE.csv. */
  name: string;
  about: string;
  optional?: boolean;
  /** Takes any number of values (at least one unless optional). */
  repeated?: boolean;
}

export interface Flag {
  type: 'boolean' | 'string';
  about: string;
  /** The value's placeholder in the usage line (string flags): N, ID. */
  value?: string;
  required?: boolean;
}

export interface Invocation {
  args: string[];
  flags: Record<string, string | boolean | undefined>;
}

export interface Verb {
  /** The words after `activityd` that name it: ['tenant', 'create']. */
  words: string[];
  /** One line for the command lists. */
  summary: string;
  /** What it prints and how it exits, for its --help. */
  details: string;
  args?: Argument[];
  /** Keyed by the long name, without the dashes. */
  flags?: Record<string, Flag>;
  /** Returns the exit code, or -1 for a verb that runs until a signal stops it. */
  run(config: Config, invocation: Invocation): Promise<number>;
}

export const verbName = (verb: Verb) => verb.words.join(' ');

/** --help or -h before any `--`: then nothing else on the line is read, let alone acted on. */
export function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

const article = (word: string) => (/^[AEIOU]/i.test(word) ? 'an' : 'a');

/** parseArgs's messages point at JavaScript; these name the flag and the verb. */
function parseFailure(verb: Verb, error: Error & { code?: string }): UsageError {
  const name = verbName(verb);
  const quoted = /'([^' ]+)/.exec(error.message)?.[1] ?? '';
  const see = `see "activityd ${name} --help"`;
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`${name}: unknown option ${quoted} (${see}; a value starting with - goes after --)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = verb.flags?.[quoted.replace(/^--/, '')];
      return new UsageError(flag?.type === 'string' ? `${name}: ${quoted} needs a value (${quoted} ${flag.value})` : `${name}: ${quoted} takes no value`);
    }
    default:
      return new UsageError(`${name}: ${error.message} (${see})`);
  }
}

/** Reads the arguments after the verb's words; a missing, unknown or surplus argument or flag is a UsageError naming it. */
export function parseInvocation(verb: Verb, argv: string[]): Invocation {
  const name = verbName(verb);
  const options = Object.fromEntries(Object.entries(verb.flags ?? {}).map(([flag, { type }]) => [flag, { type }]));
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw parseFailure(verb, error as Error);
    throw error;
  }
  const declared = verb.args ?? [];
  const required = declared.filter((arg) => !arg.optional);
  const missing = required[parsed.positionals.length];
  if (missing) throw new UsageError(`${name} needs ${missing.repeated ? 'at least one' : article(missing.name)} ${missing.name}`);
  if (!declared.some((arg) => arg.repeated) && parsed.positionals.length > declared.length) {
    throw new UsageError(`${name}: unexpected argument "${parsed.positionals[declared.length]}"`);
  }
  for (const [flag, { required: needed, value }] of Object.entries(verb.flags ?? {})) {
    if (needed && parsed.values[flag] === undefined) throw new UsageError(`${name} needs --${flag} ${value ?? ''}`.trimEnd());
  }
  return { args: parsed.positionals, flags: parsed.values };
}
