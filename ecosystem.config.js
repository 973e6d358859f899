// pm2: receivers in cluster mode, workers in fork mode, both from the compiled dist/.
// Run `activityd migrate` once per deploy before `pm2 start|reload ecosystem.config.js`; these processes never migrate.
const script = 'dist/src/cli/main.js';
const shutdownTimeoutMs = Number(process.env.SHUTDOWN_TIMEOUT_MS || 30000);

module.exports = {
  apps: [
    {
      name: 'activityd-receiver',
      script,
      args: 'receiver',
      exec_mode: 'cluster',
      instances: Number(process.env.RECEIVER_INSTANCES || 2),
      wait_ready: true,
      listen_timeout: 15000,
      // Longer than the drain, so pm2 never kills a process that is still finishing requests or jobs. A leaving
      // receiver's drain lasts until its keep-alive connections end (up to KEEP_ALIVE_TIMEOUT_MS + 2 s), well inside.
      kill_timeout: shutdownTimeoutMs + 5000,
    },
    {
      name: 'activityd-worker',
      script,
      args: 'worker',
      exec_mode: 'fork',
      // One on SQLite (a single writer); several on PostgreSQL.
      instances: Number(process.env.WORKER_INSTANCES || 1),
      wait_ready: true,
      listen_timeout: 15000,
      kill_timeout: shutdownTimeoutMs + 5000,
    },
  ],
};
