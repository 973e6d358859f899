/** Runs activityd in this process (for HTTP contract tests) or as real child processes (for behaviour across processes). */
import { ChildProcess, spawn } from 'node:child_process';
import type { Config } from '../../config';
import { createLogger } from '../../src/log';
import { Db } from '../../src/store/db';
import { startDaemon, RunningDaemon } from '../../src/daemon/daemon';
import { createTenant } from '../../src/tenants/tenantAccounts';
import { CLI, REPO_ROOT } from './testEnv';

export interface InProcessDaemon {
  baseUrl: string;
  daemon: RunningDaemon;
  stop(): Promise<void>;
}

/** The receiver (and, unless told otherwise, the worker) in this process, as `activityd start` wires them. */
export async function startInProcess(config: Config, db: Db, options: { worker: boolean } = { worker: true }): Promise<InProcessDaemon> {
  const daemon = await startDaemon(config, db, createLogger(config, 'test'), options.worker ? 'start' : 'receiver');
  return {
    baseUrl: `http://127.0.0.1:${daemon.receiverPort}`,
    daemon,
    stop: () => daemon.stop(5000),
  };
}

export async function newTenant(db: Db, name = `tenant-${Math.random().toString(36).slice(2, 8)}`) {
  return createTenant(db, name);
}

export interface ChildDaemon {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(signal: NodeJS.Signals): void;
}

export function spawnActivityd(args: string[], env: Record<string, string>): ChildDaemon {
  return spawnWatched(process.execPath, [CLI, ...args], env);
}

const RECEIVER_LISTENING = /"port":(\d+),"msg":"receiver listening"/;

/**
 * Starts `count` receiver processes on free ports, each added to `into` before it is awaited (so teardown stops even
 * one that never listened); resolves with their base URLs.
 */
export async function startReceivers(env: Record<string, string>, count: number, into: ChildDaemon[]): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const receiver = spawnActivityd(['receiver'], { ...env, PORT: '0', LOG_LEVEL: 'info' });
    into.push(receiver);
    urls.push(`http://127.0.0.1:${(await receiver.waitForOutput(RECEIVER_LISTENING))[1]}`);
  }
  return urls;
}

/** With `group`, the child leads its own process group and signals reach the whole group (npm and the node it starts). */
export function spawnWatched(command: string, args: string[], env: Record<string, string>, options: { group?: boolean } = {}): ChildDaemon {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.group === true });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((listener) => listener());
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    signal: (signal) => (options.group ? process.kill(-(child.pid as number), signal) : child.kill(signal)),
    waitForOutput(pattern, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern} in output:\n${output.slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          check();
          cleanup();
          reject(new Error(`process exited before ${pattern} appeared; output:\n${output.slice(-3000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.on('exit', onExit);
        check();
      });
    },
  };
}

/**
 * Runs an activityd command to its end: its exit code and its output (stdout and stderr). A command still running
 * after `timeoutMs` (one that started a daemon instead of answering) is stopped, and the test fails.
 */
export async function runActivityd(args: string[], env: Record<string, string>, timeoutMs = 30000): Promise<{ code: number | null; out: string }> {
  const child = spawnActivityd(args, env);
  let timer: NodeJS.Timeout | undefined;
  const outlived = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), timeoutMs)));
  const code = await Promise.race([child.exited, outlived]);
  clearTimeout(timer);
  if (code === 'running') {
    await ensureStopped(child);
    throw new Error(`activityd ${args.join(' ')} still ran after ${timeoutMs} ms; output:\n${child.output().slice(-2000)}`);
  }
  return { code, out: child.output() };
}

/** Stops a child with SIGTERM (SIGKILL if it will not), for test teardown. */
export async function ensureStopped(daemon: ChildDaemon | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.signal('SIGTERM');
  const timer = setTimeout(() => daemon.signal('SIGKILL'), 10000);
  await daemon.exited;
  clearTimeout(timer);
}
