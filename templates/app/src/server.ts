import { createHttpService } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { Lifecycle } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { Metrics, startMetricsServer, type MetricsServer } from './metrics.ts';
import { listSecrets } from './secrets.ts';
import { createShutdown, handleProcessEvents } from './shutdown.ts';

/** Entry point (`node dist/server.js`): configuration, logging, the HTTP server, signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger('info').fatal(err.message);
    process.exitCode = 1;
    return;
  }

  const logger = createLogger(config.logLevel);
  const exit = (code: number) => process.exit(code);
  const lifecycle = new Lifecycle();
  const metrics = new Metrics(lifecycle);
  const service = createHttpService({ config, logger, lifecycle, metrics });
  let metricsServer: MetricsServer | undefined;

  const shutdown = createShutdown({
    lifecycle,
    logger,
    delayMs: config.shutdownDelayMs,
    timeoutMs: config.shutdownTimeoutMs,
    close: async () => {
      await service.close();
      await metricsServer?.close();
    },
    closeAll: () => service.closeAll(),
    exit,
  });
  handleProcessEvents(shutdown, logger, exit);

  // Names only, never values: shows at a glance whether the Secret is mounted.
  logger.info({ secretsDir: config.secretsDir, secrets: listSecrets(config.secretsDir) }, 'secret files found');

  try {
    const port = await service.listen(config.port, config.host);
    if (config.metricsPort !== undefined) {
      metricsServer = await startMetricsServer(metrics, config.metricsPort, config.host, logger);
    }
    lifecycle.markReady();
    logger.info({ host: config.host, port, node: process.version }, 'listening');
  } catch (err) {
    logger.fatal({ err }, 'cannot start: exiting with 1');
    exit(1);
  }
}

await main();
