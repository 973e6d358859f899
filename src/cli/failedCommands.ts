/** `activityd failed list|retry|discard`: the jobs that ran out of tries, inspected and replayed or given up on. */
import { discardFailed, listFailed, retryFailed } from './queueOperations';
import { printJson, withQueue } from './runtime';
import { Invocation, UsageError, Verb } from './verb';

const MAX_LIMIT = 100000;

function limitFrom(text: string | undefined): number {
  if (text === undefined) return 100;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got "${text}"`);
  return Number(text);
}

/** retry and discard act on `--all` or on the IDs named, never on both or neither. */
function actingVerb(word: 'retry' | 'discard', summary: string, details: string, act: (...args: Parameters<typeof retryFailed>) => Promise<{ notFailed: string[] }>): Verb {
  return {
    words: ['failed', word],
    summary,
    details: `${details} Give --all or job IDs (not both). Exit 1 if an ID was not a failed job.`,
    args: [{ name: 'ID', about: 'a failed job\'s id (as "failed list" shows)', optional: true, repeated: true }],
    flags: { all: { type: 'boolean', about: 'every failed job' } },
    async run(config, { args, flags }: Invocation) {
      const all = flags.all === true;
      if (all === args.length > 0) throw new UsageError(`failed ${word} takes --all or job IDs (not both)`);
      const result = await withQueue(config, (handle) => act(handle.queue, args, all));
      printJson(result);
      return result.notFailed.length > 0 ? 1 : 0;
    },
  };
}

export const failedVerbs: Verb[] = [
  {
    words: ['failed', 'list'],
    summary: 'the most recent failed jobs',
    details:
      'Prints a JSON array of {"id","tenantId","encrypted","events","deliveryId","deliveries","attemptsMade","failedAt","reason"}, newest first. A job carries the requests gathered while the previous enqueue was in flight: "deliveries" lists each one\'s {"id","events"}, "deliveryId" is the id when there is one, and "reason" names the request (delivery id) and event an error belongs to when it is one of them. "events", "deliveryId" and "deliveries" are null for an encrypted job without its key (JOB_ENCRYPTION_KEY).',
    flags: { limit: { type: 'string', value: 'N', about: 'how many to list, 1 to 100000 (default 100)' } },
    async run(config, { flags }) {
      const limit = limitFrom(flags.limit as string | undefined);
      printJson(await withQueue(config, (handle) => listFailed(handle.queue, limit, config.JOB_ENCRYPTION_KEY)));
      return 0;
    },
  },
  actingVerb(
    'retry',
    'put failed jobs back in the queue',
    'With a fresh retry budget and a progress bar on stderr; their events keep their insertIds, so a replay never stores twice. Prints {"retried","notFailed"}.',
    retryFailed,
  ),
  actingVerb('discard', 'delete failed jobs', 'With a progress bar on stderr. Prints {"discarded","notFailed"}.', discardFailed),
];
