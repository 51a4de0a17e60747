/**
 * The client's entry point:
 *
 *   const sluice = new Sluice({ url: 'http://localhost:8080' });           // or { token } / { sigv4: { region } }
 *   const producer = sluice.producer();                                      // batching, idempotent
 *   await producer.send('orders', [{ key: 'alice', value: { amount: 200 } }]);
 *   const consumer = sluice.consumer();
 *   await consumer.subscribe('billing', ['orders']);
 *   for await (const record of consumer) { ... }
 *   await sluice.admin.describeTopic('orders');
 *
 * Everything goes through the public REST API (docs/API.md) over `fetch`, so it runs the same
 * against `sluice dev` and a deployed stack, in Node 20+, Lambda and browsers.
 */
import { Admin } from './admin.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { Producer, type ProducerOptions } from './producer.ts';
import { transform, type TransformOptions, type TransformFn, type TransformHandle } from './transform.ts';
import { Transport, type ConnectionOptions } from './transport.ts';
import type { ClusterInfo } from './types.ts';

export type SluiceOptions = ConnectionOptions;

export class Sluice {
  readonly transport: Transport;
  readonly admin: Admin;
  #cluster: Promise<ClusterInfo> | undefined;

  constructor(opts: SluiceOptions) {
    this.transport = new Transport(opts);
    this.admin = new Admin(this.transport);
  }

  /** GET /v1/cluster, asked once per client (limits do not change while a server runs). */
  cluster(): Promise<ClusterInfo> {
    this.#cluster ??= this.admin.cluster().catch((err: unknown) => {
      this.#cluster = undefined; // a failed ask is asked again next time
      throw err;
    });
    return this.#cluster;
  }

  producer(opts: ProducerOptions = {}): Producer {
    return new Producer(this, opts);
  }

  consumer(opts: ConsumerOptions = {}): Consumer {
    return new Consumer(this, opts);
  }

  /** Exactly-once consume → transform → produce (see transform.ts). */
  transform(opts: TransformOptions, fn: TransformFn): TransformHandle {
    return transform(this, opts, fn);
  }
}
