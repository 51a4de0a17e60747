/** Builds the log's services from injected deps: one place wires storage into the rules. */
import type { SluiceDeps } from './deps.ts';
import { TopicService } from './log/topics.ts';
import { TopicStore } from './storage/topic-store.ts';

export interface Services {
  readonly topics: TopicService;
}

export function createServices(deps: SluiceDeps): Services {
  const topicStore = new TopicStore(deps.clients, deps.names.tables.meta);
  return {
    topics: new TopicService(topicStore, deps.clock, deps.ids),
  };
}
