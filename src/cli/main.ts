#!/usr/bin/env node
/** The activityd command: run the daemon's processes and administer tenants. */
import { ConfigError, loadConfig } from '../../config';
import { runCommand, UsageError, USAGE } from './commands';
import { StartupError } from '../daemon/startupFailure';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const config = loadConfig();
  return runCommand(config, argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== -1) process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof StartupError) {
      // Exit now: a half-started process (a Redis client reconnecting, say) must not linger where pm2 or systemd would take it for running.
      process.stderr.write(`activityd: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`activityd: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`activityd: ${error.message}\n`);
    process.exitCode = 1;
  },
);
