/** Throwaway redis-server processes on free local ports: a 3-node Redis Cluster, or a master watched by one Sentinel. */
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './testEnv';

const run = promisify(execFile);

export interface RedisServers {
  ports: number[];
  stop(): Promise<void>;
}

/** Why real-topology tests cannot run here, or undefined when they can. */
export function missingRedisTools(): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Ports whose cluster bus port (port + 10000) is free too. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (!ports.includes(port) && (await portIsFree(port)) && (await portIsFree(port + 10000))) ports.push(port);
  }
  return ports;
}

function startServer(args: string[], dir: string): ChildProcess {
  return spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
}

async function ping(port: number): Promise<boolean> {
  return run('redis-cli', ['-p', String(port), 'ping']).then(({ stdout }) => stdout.trim() === 'PONG', () => false);
}

function stopAll(children: ChildProcess[], dir: string): () => Promise<void> {
  return async () => {
    await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL'))))));
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'];

export async function startRedisCluster(): Promise<RedisServers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-cluster-'));
  const ports = await freePorts(3);
  const children = ports.map((port) => startServer(['--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, ...NO_PERSISTENCE], dir));
  const stop = stopAll(children, dir);
  try {
    await waitFor('the cluster nodes', async () => (await Promise.all(ports.map(ping))).every(Boolean), 10000);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(ports.map((port) => run('redis-cli', ['-p', String(port), 'cluster', 'info'])));
      return infos.every(({ stdout }) => stdout.includes('cluster_state:ok'));
    }, 15000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, stop };
}

/** A master and one Sentinel watching it as "mymaster"; ports are [master, sentinel]. */
export async function startRedisSentinel(): Promise<RedisServers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-sentinel-'));
  const [masterPort, sentinelPort] = await freePorts(2);
  const children = [startServer(['--port', String(masterPort), ...NO_PERSISTENCE], dir)];
  fs.writeFileSync(path.join(dir, 'sentinel.conf'), `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\n`);
  children.push(startServer([path.join(dir, 'sentinel.conf'), '--sentinel'], dir));
  const stop = stopAll(children, dir);
  try {
    await waitFor('the sentinel to know the master', async () => {
      const reply = await run('redis-cli', ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', 'mymaster']).catch(() => ({ stdout: '' }));
      return reply.stdout.includes(String(masterPort)) && (await ping(masterPort));
    }, 10000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports: [masterPort, sentinelPort], stop };
}
