/** `activityd status`: queue counts, the oldest waiting job's age and the stored rate, for a glance or for scripts. */
import { queueStatus } from './queueOperations';
import { printJson, withQueue } from './runtime';
import type { Verb } from './verb';

type Status = Awaited<ReturnType<typeof queueStatus>>;

function statusText(status: Status): string {
  const age = status.oldestWaitingAgeSeconds === null ? '-' : `${status.oldestWaitingAgeSeconds} s`;
  return [
    `queue        waiting ${status.queue.waiting}  active ${status.queue.active}  delayed ${status.queue.delayed}  failed ${status.queue.failed}`,
    `oldest wait  ${age}`,
    `stored       ${status.storedLastMinute} in the last minute (${status.storedPerSecondLastMinute}/s)`,
    '',
  ].join('\n');
}

export const statusVerbs: Verb[] = [
  {
    words: ['status'],
    summary: 'queue counts, oldest waiting job\'s age, events stored in the last minute',
    details: 'Prints three lines of text, or with --json {"queue":{"waiting","active","delayed","failed"},"oldestWaitingAgeSeconds","storedLastMinute","storedPerSecondLastMinute"}. Exit 1 if Redis does not answer.',
    flags: { json: { type: 'boolean', about: 'print one JSON object instead of text' } },
    async run(config, { flags }) {
      const status = await withQueue(config, (handle, db) => queueStatus(handle.queue, db));
      if (flags.json) printJson(status);
      else process.stdout.write(statusText(status));
      return 0;
    },
  },
];
