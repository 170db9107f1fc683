import type { NestExpressApplication } from '@nestjs/platform-express';
import type { PulseNames } from '@pulse/contracts';
import { createApi } from '../app.js';
import { loadConfig, type ApiConfig } from '../config.js';
import { NATS_URL } from '../../../../test/support/services.js';

/** Boots the real API on a free port against real services. */
export async function startApi(names: PulseNames, overrides: Partial<ApiConfig> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ app: NestExpressApplication; url: string; config: ApiConfig }> {
  const config = { ...loadConfig({ NATS_URL, PULSE_ROOT: names.root, PULSE_PARTITIONS: String(names.partitions), PORT: '0', ...env }), ...overrides, names };
  const app = await createApi(config, ['error']);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, config };
}
