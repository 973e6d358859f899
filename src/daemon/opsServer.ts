/** A worker process's own small HTTP server for /metrics, /healthz and /readyz. */
import http from 'node:http';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import { opsRoutes } from '../http/opsRoutes';
import { ownMetrics } from '../metrics/deploymentMetrics';
import { listen } from '../http/listen';
import { checkReadiness } from './readiness';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(port: number, host: string, registry: Registry, redis: RedisClient, db: Db): Promise<OpsServer> {
  const app = new Koa();
  app.use(opsRoutes(ownMetrics(registry), () => checkReadiness(redis, db)).routes());
  const server = http.createServer(app.callback());
  return {
    port: await listen(server, port, host),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
