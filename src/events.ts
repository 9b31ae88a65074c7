/**
 * Server-sent events of a job (`GET envhelper/jobs/<id>/events`), read with
 * `fetch` streaming through ServerConnection: EventSource cannot send the
 * Authorization header.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IJobEvent } from './api';
import { API_NAMESPACE, EnvHelperAPIError, errorFromResponse } from './request';

/**
 * One message of a `text/event-stream`.
 */
export interface IServerSentMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser: feed it text in chunks of any
 * size (split mid-line, mid-event, between `\r` and `\n`), get whole messages.
 */
export class EventStreamParser {
  /**
   * Add a chunk of text; return the messages it completed.
   */
  push(chunk: string): IServerSentMessage[] {
    let text = this._buffer + chunk;
    if (this._skipLF && text.startsWith('\n')) {
      text = text.slice(1);
    }
    this._skipLF = false;
    const messages: IServerSentMessage[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') {
        continue;
      }
      const line = text.slice(start, i);
      if (c === '\r') {
        if (i + 1 < text.length) {
          if (text[i + 1] === '\n') {
            i++;
          }
        } else {
          // The `\n` of a `\r\n` may start the next chunk.
          this._skipLF = true;
        }
      }
      start = i + 1;
      const message = this._line(line);
      if (message) {
        messages.push(message);
      }
    }
    this._buffer = text.slice(start);
    return messages;
  }

  /**
   * The end of the stream: a last message without its blank line is
   * dropped, as the specification says.
   */
  end(): void {
    this._buffer = '';
    this._reset();
  }

  private _line(line: string): IServerSentMessage | null {
    if (line === '') {
      if (!this._hasData) {
        this._reset();
        return null;
      }
      const message: IServerSentMessage = {
        id: this._id,
        event: this._event || 'message',
        data: this._data.join('\n')
      };
      this._reset();
      return message;
    }
    if (line.startsWith(':')) {
      return null; // a comment (keep-alive)
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (field) {
      case 'data':
        this._data.push(value);
        this._hasData = true;
        break;
      case 'id':
        this._id = value;
        break;
      case 'event':
        this._event = value;
        break;
      default:
        break; // `retry` and unknown fields
    }
    return null;
  }

  private _reset(): void {
    this._data = [];
    this._hasData = false;
    this._event = '';
    this._id = null;
  }

  private _buffer = '';
  private _skipLF = false;
  private _data: string[] = [];
  private _hasData = false;
  private _event = '';
  private _id: string | null = null;
}

/**
 * A job event from a message, or null when the message is not one.
 */
export function jobEventOf(message: IServerSentMessage): IJobEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return null;
  }
  const event = data as Partial<IJobEvent>;
  const index =
    typeof event.index === 'number' ? event.index : Number(message.id);
  if (!Number.isFinite(index)) {
    return null;
  }
  return {
    ...event,
    index,
    type:
      typeof event.type === 'string'
        ? event.type
        : message.event !== 'message'
          ? message.event
          : 'unknown'
  };
}

/**
 * Read a job's events from `since` on until the server ends the stream.
 *
 * @throws {EnvHelperAPIError} when the stream cannot be opened or read
 */
export async function* streamJobEvents(
  id: string,
  since: number,
  settings: ServerConnection.ISettings,
  signal?: AbortSignal
): AsyncGenerator<IJobEvent> {
  const url =
    URLExt.join(
      settings.baseUrl,
      API_NAMESPACE,
      'jobs',
      encodeURIComponent(id),
      'events'
    ) + `?since=${encodeURIComponent(String(since))}`;
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'GET', signal, headers: { Accept: 'text/event-stream' } },
      settings
    );
  } catch (error) {
    throw new EnvHelperAPIError({
      kind: signal?.aborted ? 'aborted' : 'network',
      status: 0,
      message: String((error as Error)?.message ?? error)
    });
  }
  if (!response.ok) {
    let body: unknown;
    try {
      body = JSON.parse(await response.text());
    } catch {
      body = undefined;
    }
    throw errorFromResponse(response.status, response.statusText, body);
  }
  const reader = response.body?.getReader();
  if (!reader) {
    throw new EnvHelperAPIError({
      kind: 'invalid-response',
      status: response.status,
      message: 'This browser cannot read the event stream.'
    });
  }
  const decoder = new TextDecoder();
  const parser = new EventStreamParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      for (const message of parser.push(
        decoder.decode(value, { stream: true })
      )) {
        const event = jobEventOf(message);
        if (event) {
          yield event;
        }
      }
    }
    parser.end();
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
