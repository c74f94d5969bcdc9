import { Logger } from '@aws-lambda-powertools/logger';
import { config } from '../config';
import { refreshEnvSnapshot } from './env-snapshot';

let instance: Logger | undefined;

/** The process-wide structured (JSON) logger; level and service name from config. */
export function logger(): Logger {
  if (!instance) {
    const c = config();
    refreshEnvSnapshot(); // it reads its settings from the environment now: so does the copy
    instance = new Logger({
      serviceName: c.serviceName,
      logLevel: c.logLevel === 'silent' ? 'SILENT' : c.logLevel,
      environment: c.stage,
    });
  }
  return instance;
}

/** Tests only: build the logger again from the (changed) configuration. */
export function resetLoggerForTests(): void {
  instance = undefined;
}
