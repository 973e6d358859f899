/** The one typed configuration: defaults from ./settings, each overridable by the environment variable of the same name. */
import { settings, Config, SettingName } from './settings';

export type { Config, SettingName } from './settings';
export { settings } from './settings';

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const config: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(settings) as SettingName[]) {
    const raw = env[name] ?? settings[name].default;
    try {
      config[name] = settings[name].parse(raw);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
    }
  }
  if (problems.length === 0) problems.push(...conflicts(config as Config));
  if (problems.length > 0) throw new ConfigError(`invalid setting: ${problems.join('; ')}`);
  return config as Config;
}

/** Settings valid alone but not together. */
function conflicts(config: Config): string[] {
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    return [`HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS}), got ${config.HEADERS_TIMEOUT_MS}`];
  }
  return [];
}

/** The base URL printed for people to paste into Amplitude or a client. */
export function publicBaseUrl(config: Config, port = config.PORT): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return `http://${host}:${port}`;
}
