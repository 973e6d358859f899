/** A redis-server of the test's own, on its own port, with AOF fsynced on every write, that the test can kill and start again. */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import IORedis from 'ioredis';
import { freePort } from './net';
import { waitFor } from './testEnv';

export interface OwnRedis {
  url: string;
  port: number;
  /** Kills it with SIGKILL: no shutdown save, only what the AOF already holds survives. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Memory in use, from INFO memory. */
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  const client = new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startOwnRedis(dir: string): Promise<OwnRedis> {
  const port = await freePort();
  const dataDir = path.join(dir, 'redis');
  fs.mkdirSync(dataDir, { recursive: true });
  let child: ChildProcess | undefined;
  const alive = (process: ChildProcess | undefined): process is ChildProcess => process !== undefined && process.exitCode === null && process.signalCode === null;
  const start = async () => {
    // A second server on the same port would fail to bind and exit, while the check below found the first one
    // answering; the first would then be the one nobody stops.
    if (alive(child)) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir, '--save', '', '--daemonize', 'no', '--logfile', ''];
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor('redis-server answering', () => answers(port), 10000, 50);
  };
  const kill = async () => {
    const running = child;
    if (!alive(running)) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async usedMemory() {
      const client = new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        return Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
      } finally {
        client.disconnect();
      }
    },
    stop: kill,
  };
}
