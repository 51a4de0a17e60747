/**
 * Wakes long polls when a partition gets a commit. In one process (the dev server) a commit
 * wakes waiters at once; across Lambda instances waiters also re-check on a poll interval, so a
 * long poll costs a bounded number of DynamoDB reads per second (1000 / pollIntervalMs).
 */
import { EventEmitter } from 'node:events';
import { tpId, type TopicPartition } from '../model/topic.ts';

export class CommitSignal {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(tp: TopicPartition): void {
    this.emitter.emit(tpId(tp));
  }

  /** Resolves on a commit to any of `tps`, after `timeoutMs`, or when `signal` aborts. */
  wait(tps: readonly TopicPartition[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const pks = tps.map(tpId);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const pk of pks) this.emitter.off(pk, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      for (const pk of pks) this.emitter.on(pk, done);
      signal?.addEventListener('abort', done);
    });
  }
}
