/**
 * Processes a test run leaves behind. Mocha runs in a process group of its own, and every process a suite starts
 * inherits ACTIVITYD_TEST_RUN from it; whatever is still in that group, or still carries the run's mark in its
 * environment, once mocha has exited was started by a test and never stopped. Both are needed: redis-server
 * overwrites its environment with its process title, and pm2's daemon and the tests' detached children leave the
 * group. Linux only (/proc); elsewhere nothing is found.
 */
import fs from 'node:fs';

export const RUN_MARK = 'ACTIVITYD_TEST_RUN';

export interface Leftover {
  pid: number;
  command: string;
}

function environOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return ''; // gone meanwhile, or not ours to read
  }
}

/** The process group, field 5 of /proc/PID/stat (after the parenthesised command, which may hold spaces). */
function groupOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

export function findLeftovers(runId: string, groups: number[]): Leftover[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const mark = `${RUN_MARK}=${runId}`;
  const found: Leftover[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const group = groupOf(pid);
    if (!(group !== undefined && groups.includes(group)) && !environOf(pid).split('\0').includes(mark)) continue;
    let command = '';
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    // A zombie has no command line and holds nothing; its parent reaps it.
    if (command !== '') found.push({ pid, command });
  }
  return found;
}

/** Waits up to `graceMs` for the run's processes to end; kills and returns the ones that did not. */
export async function reapLeftovers(runId: string, groups: number[], graceMs: number): Promise<Leftover[]> {
  const deadline = Date.now() + graceMs;
  let left = findLeftovers(runId, groups);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    left = findLeftovers(runId, groups);
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return left;
}
