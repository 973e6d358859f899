#!/usr/bin/env node
/** The activityd command: finds the verb named on the command line, answers --help, or runs the verb with the settings. */
import { ConfigError, loadConfig } from '../../config';
import { StartupError } from '../daemon/startupFailure';
import { VERBS } from './registry';
import { asksForHelp, parseInvocation, UsageError, Verb } from './verb';
import { groupHelp, overview, verbHelp } from './help';

/** The verb whose words start argv (the longest such), or a UsageError saying what is wrong. */
function findVerb(argv: string[]): { verb: Verb; rest: string[] } | { help: string } {
  const matches = VERBS.filter((verb) => verb.words.every((word, index) => argv[index] === word)).sort((a, b) => b.words.length - a.words.length);
  if (matches[0]) return { verb: matches[0], rest: argv.slice(matches[0].words.length) };
  const group = VERBS.filter((verb) => verb.words.length > 1 && verb.words[0] === argv[0]);
  if (group.length === 0) throw new UsageError(`unknown command "${argv[0]}"\n\n${overview(VERBS)}`);
  if (asksForHelp(argv.slice(1, 2))) return { help: groupHelp(argv[0], group) };
  const choices = group.map((verb) => verb.words[1]);
  throw new UsageError(`${argv[1] === undefined ? `${argv[0]} needs a command` : `unknown ${argv[0]} command "${argv[1]}"`}: use ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`);
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || asksForHelp(argv.slice(0, 1))) {
    process.stdout.write(overview(VERBS));
    return argv.length === 0 ? 2 : 0;
  }
  const found = findVerb(argv);
  if ('help' in found) {
    process.stdout.write(found.help);
    return 0;
  }
  // Help is answered before settings are read or anything is opened: asking how a verb works never runs it.
  if (asksForHelp(found.rest)) {
    process.stdout.write(verbHelp(found.verb));
    return 0;
  }
  const invocation = parseInvocation(found.verb, found.rest);
  return found.verb.run(loadConfig(), invocation);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof StartupError) {
      // Exit now: a half-started process (a Redis client reconnecting, say) must not linger where pm2 or systemd would take it for running.
      process.stderr.write(`activityd: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`activityd: ${error.message}\n`);
    process.exitCode = error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
  },
);
