/**
 * Subjects Pulse publishes for downstream services (besides the event store itself), with their
 * payload schemas. Listed here so the AsyncAPI document covers them.
 */
export interface PublishedChannel {
  name: string;
  title: string;
  address: string;
  summary: string;
  action: 'send' | 'receive';
  operation: string;
  parameters?: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export const extraChannels: PublishedChannel[] = [];
