import type { NestExpressApplication } from '@nestjs/platform-express';
import type { PulseNames } from '@pulse/contracts';
import { createApi } from '../app.js';
import { loadConfig, type ApiConfig } from '../config.js';
import { DATABASE_URL, NATS_URL } from '../../../../test/support/services.js';

export const TOKENS = {
  admin: 'admin-token-for-tests-0001',
  operator: 'operator-token-for-tests-0001',
  producer: 'producer-token-for-tests-0001',
  otherProducer: 'producer-token-for-tests-0002',
};

export const TEST_TOKENS = `admin:admin:${TOKENS.admin},ops:operator:${TOKENS.operator},shop:producer:${TOKENS.producer},marketplace:producer:${TOKENS.otherProducer}`;

/** Boots the real API on a free port against real services. */
export async function startApi(names: PulseNames, overrides: Partial<ApiConfig> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ app: NestExpressApplication; url: string; config: ApiConfig }> {
  const config = {
    ...loadConfig({ NATS_URL, DATABASE_URL, PULSE_TOKENS: TEST_TOKENS, PULSE_ROOT: names.root, PULSE_PARTITIONS: String(names.partitions), PORT: '0', PULSE_PUSH_INTERVAL_MS: '50', ...env }),
    ...overrides,
    names,
  };
  const app = await createApi(config, ['error']);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, config };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
