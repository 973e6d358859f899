/** The --help texts, made from the verbs' declarations so that they cannot drift from what the parser accepts. */
import { Verb, verbName } from './verb';

const HELP_FLAG = { names: '-h, --help', about: 'print this help and exit (nothing else is done)' };

function argumentText({ name, optional, repeated }: { name: string; optional?: boolean; repeated?: boolean }): string {
  const word = repeated ? `${name}...` : name;
  return optional ? `[${word}]` : word;
}

/** `activityd failed list [--limit N]`: the verb, its arguments, then its flags. */
export function usageLine(verb: Verb): string {
  const args = (verb.args ?? []).map(argumentText);
  const flags = Object.entries(verb.flags ?? {}).map(([flag, { value, required }]) => {
    const text = value ? `--${flag} ${value}` : `--${flag}`;
    return required ? text : `[${text}]`;
  });
  return ['activityd', verbName(verb), ...args, ...flags].join(' ');
}

/** Rows of two columns, the second aligned. */
function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n');
}

export function verbHelp(verb: Verb): string {
  const sections = [`Usage: ${usageLine(verb)}`, `${verb.summary[0].toUpperCase()}${verb.summary.slice(1)}. ${verb.details}`];
  if (verb.args?.length) sections.push(`Arguments:\n${table(verb.args.map((arg) => [argumentText(arg), arg.about]))}`);
  const flags: Array<[string, string]> = Object.entries(verb.flags ?? {}).map(([flag, { value, about }]) => [value ? `--${flag} ${value}` : `--${flag}`, about]);
  sections.push(`Options:\n${table([...flags, [HELP_FLAG.names, HELP_FLAG.about]])}`);
  return sections.join('\n\n') + '\n';
}

function commandList(verbs: Verb[]): string {
  return table(verbs.map((verb) => [usageLine(verb).replace(/^activityd /, ''), verb.summary]));
}

/** `activityd tenant --help`: the group's verbs. */
export function groupHelp(group: string, verbs: Verb[]): string {
  return `Usage: activityd ${group} <command>\n\n${commandList(verbs)}\n\nRun "activityd ${group} <command> --help" for a command's arguments and options.\n`;
}

/** `activityd --help`: every verb. */
export function overview(verbs: Verb[]): string {
  return [
    'Usage: activityd <command>',
    commandList(verbs),
    'Run "activityd <command> --help" for a command\'s arguments and options.\nSettings come from environment variables; see docs/configuration.md. Exit codes: 0 done, 1 failed, 2 bad usage or an invalid setting.',
  ].join('\n\n') + '\n';
}
