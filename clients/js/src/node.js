// @ts-check
/**
 * @file Node.js entry: everything from ./index.js, with the `ws` package as the default
 * WebSocket implementation (Node.js 20 has no global WebSocket).
 */
import WebSocket from 'ws';
import { RealtimeEventsClient as BaseClient } from './index.js';

export * from './index.js';

/**
 * The client of ./index.js with `options.WebSocket` defaulting to the `ws` package
 * (a global WebSocket, as in Node.js 22+, is not used unless passed explicitly).
 */
export class RealtimeEventsClient extends BaseClient {
  /** @param {import('./index.js').ClientOptions} [options] */
  constructor(options = {}) {
    super({ ...options, WebSocket: options.WebSocket || /** @type {any} */ (WebSocket) });
  }
}
